package io.multiproc.process;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A program of one's own that runs on the module path ({@code requires io.multiproc}) starts children,
 * a pool and a manager: they run the user's lambdas and records, and native access is on in them. The
 * programs are tiny user modules compiled here with javac against this build's {@code io.multiproc} (its
 * classes directory is an exploded module) and run as real {@code java --module-path ... -m} processes.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(300)
class ModulePathTest {
    /** Generous: the program starts several JVMs on a loaded 2-core machine. */
    private static final long PROGRAM_DEADLINE_SECONDS = 180;

    @TempDir
    Path tmp;

    @Test
    void programOnTheModulePathStartsChildrenPoolAndManagerThatRunItsLambdasAndRecords() throws Exception {
        Path app = compileUserModule("user.app", MODULE_INFO,
                Map.of("user/app/data/Point.java", POINT, "user/app/api/Counter.java", COUNTER, "user/app/Main.java", MAIN));

        // no AOT cache: its background build would outlive this test (the test below waits for one)
        Result r = run(List.of("--enable-native-access=io.multiproc", "-Dmultiproc.aotCache=false",
                "--module-path", coreModule() + File.pathSeparator + app, "-m", "user.app/user.app.Main"));

        assertThat(r.exitCode).as("program output:%n%s", r.output).isZero();
        // child 1 added 41 to the SharedLong, put a record into a manager's dict and called a custom type in
        // the manager's server JVM; child 2 (possibly a spare) saw native access and its own module
        assertThat(r.output).contains("counter=41 dict={p=Point[x=7, y=8]} hosted=1", "child2 nativeAccess=true module=user.app",
                "map=[Point[x=1, y=2], Point[x=2, y=4], Point[x=3, y=6]]");
        // one run of the program (it starts several JVMs) also shows the error for a record whose package
        // the module does not open: it names the line to add
        assertThat(r.output).contains("refused: cannot encode class=user.app.Main$Secret",
                "add 'opens user.app to io.multiproc;' to module user.app's module-info.java, or make the record Serializable");
    }

    @Test
    void programOnTheModulePathWithoutNativeAccessIsToldTheModulesFlag() throws Exception {
        Path app = compileUserModule("user.plain", PLAIN_MODULE_INFO, Map.of("user/plain/Main.java", PLAIN_MAIN));

        Result r = run(List.of("-Dmultiproc.aotCache=false", "--module-path", coreModule() + File.pathSeparator + app,
                "-m", "user.plain/user.plain.Main"));

        assertThat(r.exitCode).as(r.output).isZero();
        assertThat(r.output).contains("value=42");
        assertThat(r.output.lines().filter(l -> l.contains("run java with --enable-native-access=io.multiproc")).count())
                .as(r.output).isEqualTo(1);
        assertThat(r.output).doesNotContain("ALL-UNNAMED");
    }

    @Test
    void childrenOfAModulePathProgramUseAnAotCacheBuiltForItsModuleJars() throws Exception {
        // the JDK's AOT cache takes jars only: the library's classes and the user's module, each as a jar
        Path core = jar(coreModule(), tmp.resolve("jars/io.multiproc.jar"));
        Path app = jar(compileUserModule("user.aot", AOT_MODULE_INFO, Map.of("user/aot/Main.java", AOT_MAIN)),
                tmp.resolve("jars/user.aot.jar"));
        Path tmpdir = Files.createDirectory(tmp.resolve("tmpdir"));
        Path dir = tmpdir.resolve("multiproc-aot-" + System.getProperty("user.name"));
        List<String> command = List.of("--enable-native-access=io.multiproc", "-Djava.io.tmpdir=" + tmpdir,
                "--module-path", core + File.pathSeparator + app, "-m", "user.aot/user.aot.Main");

        Result first = run(command);
        assertThat(first.exitCode).as(first.output).isZero();
        assertThat(first.output).contains("child aotCache=false");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (aotFiles(dir).isEmpty()) {
            assertThat(System.nanoTime() - deadline).as("cache built within 240 s").isNegative();
            Thread.sleep(200);
        }
        Result second = run(command);

        assertThat(second.exitCode).as(second.output).isZero();
        assertThat(second.output).contains("child aotCache=true");
    }

    @Test
    void libraryInAModuleLayerOfItsOwnCannotStartChildrenAndSaysWhy() throws Exception {
        Path core = coreModule();
        Configuration cf = ModuleLayer.boot().configuration().resolve(ModuleFinder.of(core), ModuleFinder.of(), Set.of("io.multiproc"));
        ModuleLayer.Controller controller = ModuleLayer.defineModulesWithOneLoader(cf, List.of(ModuleLayer.boot()),
                ClassLoader.getPlatformClassLoader());
        Module library = controller.layer().findModule("io.multiproc").orElseThrow();
        controller.addOpens(library, "io.multiproc.process", getClass().getModule());
        Method options = Class.forName(library, ModulePath.class.getName()).getDeclaredMethod("options");
        options.setAccessible(true);

        Throwable thrown = null;
        try {
            options.invoke(null);
        } catch (InvocationTargetException e) {
            thrown = e.getCause();
        }

        assertThat(thrown).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("io.multiproc is a named module that was not loaded from the --module-path into the boot layer")
                .hasMessageContaining("put io.multiproc on the --module-path or the class path");
    }

    @Test
    void onTheClassPathChildrenGetNoModuleOptions() {
        assertThat(ModulePath.class.getModule().isNamed()).isFalse();
        assertThat(ModulePath.options()).isEmpty();
        assertThat(Launcher.command(List.of(), Launcher.Mode.DIRECT)).doesNotContain("--module-path", "--add-modules");
    }

    // ---- the user's program ----

    private static final String MODULE_INFO = """
            module user.app {
                requires io.multiproc;
                // records the built-in codec rebuilds through their constructor; lambdas need nothing
                opens user.app.data to io.multiproc;
                // the interface of a manager's custom type: its server calls it by reflection
                exports user.app.api to io.multiproc;
            }
            """;

    private static final String POINT = """
            package user.app.data;
            public record Point(int x, int y) {}
            """;

    private static final String COUNTER = """
            package user.app.api;
            public interface Counter { int increment(); int value(); }
            """;

    private static final String MAIN = """
            package user.app;

            import io.multiproc.manager.Manager;
            import io.multiproc.process.ChildProcess;
            import io.multiproc.process.Pool;
            import io.multiproc.shared.SharedLong;
            import io.multiproc.shared.SharedLongArray;
            import io.multiproc.queue.SharedQueue;
            import user.app.api.Counter;
            import user.app.data.Point;
            import java.time.Duration;
            import java.util.ArrayList;
import java.util.List;
import java.util.Map;
            import java.util.Map;

            public class Main {
                record Secret(int a) {}

                static final class CounterImpl implements Counter {
                    private int n;
                    public int increment() { return ++n; }
                    public int value() { return n; }
                }

                public static void main(String[] args) throws Exception {
                    try (SharedLong counter = SharedLong.create(0); SharedLongArray seen = SharedLongArray.create(2);
                            Manager manager = Manager.start()) {
                        Map<String, Point> dict = manager.dict();
                        manager.register("counter", CounterImpl::new, Counter.class);
                        Counter hosted = manager.create("counter");
                        ChildProcess c1 = ChildProcess.start(() -> {
                            counter.addAndGet(41);
                            dict.put("p", new Point(7, 8));
                            hosted.increment();
                        });
                        check(c1);
                        System.out.println("counter=" + counter.get() + " dict=" + dict + " hosted=" + hosted.value());
                        ChildProcess c2 = ChildProcess.start(() -> {
                            seen.set(0, SharedLong.class.getModule().isNativeAccessEnabled() ? 1 : 2);
                            seen.set(1, "user.app".equals(Main.class.getModule().getName()) ? 1 : 2);
                        });
                        check(c2);
                        System.out.println("child2 nativeAccess=" + (seen.get(0) == 1) + " module="
                                + (seen.get(1) == 1 ? "user.app" : "other"));
                    }
                    try (Pool pool = Pool.create(2)) {
                        System.out.println("map=" + pool.map(x -> new Point(x, 2 * x), List.of(1, 2, 3)));
                    }
                    try (SharedQueue<Object> q = SharedQueue.create(2)) {
                        q.put(new Secret(1));
                        System.out.println("accepted Secret");
                    } catch (RuntimeException e) {
                        System.out.println("refused: " + e.getMessage());
                    }
                }

                private static void check(ChildProcess c) throws InterruptedException {
                    if (!c.join(Duration.ofSeconds(120)) || c.exitCode().getAsInt() != 0) {
                        System.out.println(c + " failed: " + c.exitCode());
                        System.exit(3);
                    }
                }
            }
            """;

    private static final String PLAIN_MODULE_INFO = """
            module user.plain {
                requires io.multiproc;
            }
            """;

    private static final String PLAIN_MAIN = """
            package user.plain;

            import io.multiproc.shared.SharedLong;
            import io.multiproc.sync.SharedEvent;

            public class Main {
                public static void main(String[] args) throws Exception {
                    // a create needs no native call; a blocking wait does, and takes the fallback without it
                    try (SharedLong v = SharedLong.create(41); SharedEvent e = SharedEvent.create()) {
                        System.out.println("value=" + v.incrementAndGet());
                        System.out.println("event=" + e.await(java.time.Duration.ofMillis(200)));
                    }
                }
            }
            """;

    private static final String AOT_MODULE_INFO = """
            module user.aot {
                requires io.multiproc;
            }
            """;

    /** Says whether the child was started with an AOT cache. */
    private static final String AOT_MAIN = """
            package user.aot;

            import io.multiproc.process.ChildProcess;
            import java.nio.file.Files;
            import java.nio.file.Path;
            import java.time.Duration;

            public class Main {
                public static void main(String[] args) throws Exception {
                    ChildProcess c = ChildProcess.start(() -> {
                        try {
                            String cmdline = new String(Files.readAllBytes(Path.of("/proc/self/cmdline")));
                            System.out.println("child aotCache=" + cmdline.contains("-XX:AOTCache="));
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                    if (!c.join(Duration.ofSeconds(120)) || c.exitCode().getAsInt() != 0) {
                        System.exit(3);
                    }
                }
            }
            """;

    /** The library's classes directory (an exploded module: it holds module-info.class) or jar. */
    private static Path coreModule() throws Exception {
        Path core = Path.of(ChildProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertThat(Files.isDirectory(core) ? core.resolve("module-info.class") : core).exists();
        return core;
    }

    /** Compiles module {@code name} from {@code files} (path to source) into its own directory. */
    private Path compileUserModule(String name, String moduleInfo, Map<String, String> files) throws Exception {
        Path src = tmp.resolve("src/" + name);
        write(src.resolve("module-info.java"), moduleInfo);
        for (Map.Entry<String, String> f : files.entrySet()) {
            write(src.resolve(f.getKey()), f.getValue());
        }
        Path out = tmp.resolve("mods");
        // javac as a process: the tests are compiled as a patch of io.multiproc, which does not read java.compiler
        Path javac = Path.of(System.getProperty("java.home"), "bin", "javac");
        Path log = tmp.resolve("javac.txt");
        Process p = new ProcessBuilder(javac.toString(), "-d", out.toString(), "--module-path", coreModule().toString(),
                "--module-source-path", tmp.resolve("src").toString(), "-m", name)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(p.waitFor(PROGRAM_DEADLINE_SECONDS, TimeUnit.SECONDS)).as("javac finished").isTrue();
            assertThat(p.exitValue()).as("javac: %s", Files.readString(log)).isZero();
        } finally {
            p.destroyForcibly();
        }
        return out.resolve(name);
    }

    /** {@code dir}'s files as the jar {@code jar}, with the JDK's jar tool. */
    private static Path jar(Path dir, Path jar) throws Exception {
        Files.createDirectories(jar.getParent());
        Path tool = Path.of(System.getProperty("java.home"), "bin", "jar");
        Process p = new ProcessBuilder(tool.toString(), "--create", "--file", jar.toString(), "-C", dir.toString(), ".")
                .redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(PROGRAM_DEADLINE_SECONDS, TimeUnit.SECONDS)).as("jar finished").isTrue();
            assertThat(p.exitValue()).as("jar: %s", out).isZero();
        } finally {
            p.destroyForcibly();
        }
        return jar;
    }

    private static List<Path> aotFiles(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".aot")).toList();
        }
    }

    private static void write(Path file, String text) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private record Result(int exitCode, String output) {
    }

    /** Runs {@code java ARGS} as the user would; reaps it and everything it started, whatever happens. */
    private Result run(List<String> args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(args);
        Path log = Files.createTempFile(tmp, "out", ".txt");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(p.waitFor(PROGRAM_DEADLINE_SECONDS, TimeUnit.SECONDS))
                    .as("program exited within %d s; output:%n%s", PROGRAM_DEADLINE_SECONDS, Files.readString(log)).isTrue();
            return new Result(p.exitValue(), Files.readString(log));
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
