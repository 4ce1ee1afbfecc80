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
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A program of one's own that runs on the module path ({@code requires io.multiproc}) starts children,
 * a pool and a manager: they run the user's lambdas and records, and native access is on in them. The program is
 * a tiny user module compiled here with javac against this build's {@code io.multiproc} (its classes
 * directory is an exploded module) and run as a real {@code java --module-path ... -m} process.
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
        Path app = compileUserModule();

        Result r = run(app);

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
                .hasMessageContaining("io.multiproc is a named module outside the boot layer")
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
            import java.util.List;
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

    /** The library's classes directory (an exploded module: it holds module-info.class) or jar. */
    private static Path coreModule() throws Exception {
        Path core = Path.of(ChildProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertThat(Files.isDirectory(core) ? core.resolve("module-info.class") : core).exists();
        return core;
    }

    private Path compileUserModule() throws Exception {
        Path src = tmp.resolve("src/user.app");
        write(src.resolve("module-info.java"), MODULE_INFO);
        write(src.resolve("user/app/data/Point.java"), POINT);
        write(src.resolve("user/app/api/Counter.java"), COUNTER);
        write(src.resolve("user/app/Main.java"), MAIN);
        Path out = tmp.resolve("mods");
        // javac as a process: the tests are compiled as a patch of io.multiproc, which does not read java.compiler
        Path javac = Path.of(System.getProperty("java.home"), "bin", "javac");
        Path log = tmp.resolve("javac.txt");
        Process p = new ProcessBuilder(javac.toString(), "-d", out.toString(), "--module-path", coreModule().toString(),
                "--module-source-path", tmp.resolve("src").toString(), "-m", "user.app")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(p.waitFor(PROGRAM_DEADLINE_SECONDS, TimeUnit.SECONDS)).as("javac finished").isTrue();
            assertThat(p.exitValue()).as("javac: %s", Files.readString(log)).isZero();
        } finally {
            p.destroyForcibly();
        }
        return out.resolve("user.app");
    }

    private static void write(Path file, String text) throws Exception {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private record Result(int exitCode, String output) {
    }

    /** Runs the program as the user would; reaps it and everything it started, whatever happens. */
    private Result run(Path app) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = tmp.resolve("out.txt");
        // no AOT cache: its background build would outlive this test (AotCacheTest covers it)
        Process p = new ProcessBuilder(java.toString(), "--enable-native-access=io.multiproc", "-Dmultiproc.aotCache=false",
                "--module-path", coreModule() + File.pathSeparator + app, "-m", "user.app/user.app.Main")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
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
