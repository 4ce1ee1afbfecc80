package io.multiproc.process;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Programs packaged the way they are deployed, run as real parent JVMs: here one whose libraries are
 * loaded by a class loader of its own (a Spring Boot jar's {@code BOOT-INF/lib}), so that
 * {@code java.class.path} holds only the launcher and a child JVM cannot load multiproc at all.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(180)
class DeployedProgramTest {
    private static final String NOT_FOUND = "Error: Could not find or load main class " + Launcher.MAIN_CLASS;

    /**
     * A spare JVM that cannot boot exits at once; replacing it again and again printed two lines on the
     * program's stderr and booted a JVM about twice a second for as long as the program ran (decision 218).
     * The bound is a number of JVMs, whatever the load: the program boots at most three JVMs that cannot
     * load multiproc (its start's own included) and then gives spares up (decision 259).
     */
    @Test
    void spareJvmsThatCannotBootAreNotReplacedForEver(@TempDir Path dir) throws Exception {
        Path launcher = compile(dir, "launcher", "Launch", """
                import java.io.File;
                import java.net.URL;
                import java.net.URLClassLoader;
                import java.nio.file.Path;
                import java.util.ArrayList;
                import java.util.List;
                /** What a Spring Boot jar's launcher does: the application and its libraries in a loader of their own. */
                public class Launch {
                    public static void main(String[] args) throws Exception {
                        List<URL> urls = new ArrayList<>();
                        for (String entry : args[0].split(File.pathSeparator)) {
                            urls.add(Path.of(entry).toUri().toURL());
                        }
                        ClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), Launch.class.getClassLoader());
                        Thread.currentThread().setContextClassLoader(loader);
                        loader.loadClass(args[1]).getMethod("main", String[].class).invoke(null, (Object) new String[0]);
                    }
                }
                """, null);
        String libraries = System.getProperty("java.class.path");
        Path app = compile(dir, "app", "App", """
                import io.multiproc.process.ChildProcess;
                import io.multiproc.process.ChildStartException;
                public class App {
                    public static void main(String[] args) throws Exception {
                        try {
                            ChildProcess.start(() -> System.out.println("child ran")).join();
                            System.out.println("NO FAILURE");
                        } catch (ChildStartException e) {
                            System.out.println("START FAILED");
                        }
                        // a program that goes on with its work until spares are off, then 3 s more. NOTE: the
                        // 90 s only keep a program whose spares are never given up from running for ever; on a
                        // loaded machine one failed boot took 5 s (load 16), so the bound tested is a count
                        long deadline = System.nanoTime() + 90_000_000_000L;
                        while (ChildProcess.spareJvms() > 0 && System.nanoTime() < deadline) {
                            Thread.sleep(50);
                        }
                        System.out.println("SPARES " + ChildProcess.spareJvms());
                        Thread.sleep(3_000);
                        try (io.multiproc.process.Pool pool = io.multiproc.process.Pool.create(1)) {
                            pool.applyAsync(() -> 1).get();
                            System.out.println("NO POOL FAILURE");
                        } catch (Exception e) {
                            Throwable t = e;
                            while (!(t instanceof ChildStartException) && t.getCause() != null) {
                                t = t.getCause();
                            }
                            System.out.println("POOL FAILED: " + t.getMessage());
                        }
                        System.out.println("DONE");
                    }
                }
                """, libraries);
        Process parent = new ProcessBuilder(java(), "--enable-native-access=ALL-UNNAMED", "-cp", launcher.toString(),
                "Launch", app + File.pathSeparator + libraries, "App")
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        try {
            assertThat(parent.waitFor(150, TimeUnit.SECONDS)).as("the program exits").isTrue();
        } finally {
            parent.destroyForcibly().waitFor();
        }
        String output = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);
        assertThat(output).contains("START FAILED").contains("DONE").doesNotContain("NO FAILURE");
        assertThat(output).as("spares are given up while the program runs, in:%n%s", output).contains("SPARES 0");
        String warning = "no more spare JVMs are started";
        assertThat(output).contains(warning).contains("java.class.path");
        String beforeGivingUp = output.substring(0, output.indexOf(warning));
        assertThat(count(beforeGivingUp, NOT_FOUND))
                .as("JVMs that could not load multiproc before spares were given up (the start's own included), in:%n%s", output)
                .isBetween(1, SpareJvms.DEATHS_BEFORE_GIVING_UP);
        assertThat(count(output, NOT_FOUND) - count(beforeGivingUp, NOT_FOUND))
                .as("JVMs that could not load multiproc after spares were given up: the Pool's worker alone, in:%n%s", output)
                .isEqualTo(1);
        // a Pool has no classPath(...): its way out is a -cp of its own
        assertThat(output).contains("POOL FAILED: child 'Pool-1-worker-1'").contains("Pool.builder().jvmOptions(")
                .doesNotContain("NO POOL FAILURE");
    }

    /**
     * Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN) with E2BIG, "Argument list too long".
     * A class path that long is what IntelliJ and Gradle hand the JVM in an {@code @argfile}; the child
     * must still start (decision 219).
     */
    @Test
    void aChildStartsWithAClassPathLongerThanTheKernelTakesInOneArgument(@TempDir Path dir) throws Exception {
        List<Path> entries = new ArrayList<>();
        int length = 0;
        for (int i = 0; length < 200_000; i++) {
            Path entry = Path.of("/nonexistent-multiproc-test/a library's \"path\" #" + i + " with\\back slashes, tabs\tand é.jar");
            entries.add(entry);
            length += entry.toString().length() + 1;
        }
        Path out = dir.resolve("out.txt");
        String target = out.toString();
        try (ChildProcess p = ChildProcess.builder().classPath(entries)
                .target(() -> Files.writeString(Path.of(target), System.getProperty("java.class.path"))).start()) {
            io.multiproc.testing.Children.joinOk(p);
        }
        StringBuilder expected = new StringBuilder(System.getProperty("java.class.path"));
        for (Path entry : entries) {
            expected.append(File.pathSeparatorChar).append(entry);
        }
        assertThat(Files.readString(out)).as("the child's java.class.path").isEqualTo(expected.toString());
    }

    private static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Compiles one class in the unnamed package into {@code dir/name} (javac as a process, as ChildTaskTest does). */
    private static Path compile(Path dir, String name, String className, String source, String classPath) throws Exception {
        Path src = dir.resolve(name + "-src").resolve(className + ".java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, source);
        Path classes = dir.resolve(name);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "javac").toString(),
                "-d", classes.toString()));
        if (classPath != null) {
            command.addAll(List.of("-cp", classPath));
        }
        command.add(src.toString());
        Path log = dir.resolve(name + "-javac.txt");
        Process javac = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(javac.waitFor(90, TimeUnit.SECONDS)).as("javac finished").isTrue();
            assertThat(javac.exitValue()).as("javac of %s: %s", className, Files.readString(log)).isZero();
        } catch (InterruptedException e) {
            throw new IOException(e);
        } finally {
            javac.destroyForcibly();
        }
        return classes;
    }
}
