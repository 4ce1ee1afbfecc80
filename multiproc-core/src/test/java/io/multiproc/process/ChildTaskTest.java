package io.multiproc.process;

import io.multiproc.internal.PrivateDirectory;
import io.multiproc.internal.ProcessIdentity;
import io.multiproc.queue.Connection;
import io.multiproc.queue.Pipe;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a child tells its parent and how a task lives in the child, with real child JVMs: start fails
 * when the child cannot load its task, the task's failure comes back, onExit, checked exceptions,
 * non-daemon threads, class paths, system properties, and who is who.
 *
 * <p>Tasks are lambdas that capture only locals (never {@code this}), so they serialize.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class ChildTaskTest {

    // ---- the task's failure comes back ----

    @Test
    void failureIsTheTasksExceptionRecreatedInTheParent() throws Exception {
        try (ChildProcess p = ChildProcess.start(() -> {
            throw new IOException("expected by ChildTaskTest: disk full");
        })) {
            assertThat(p.join(Children.TIMEOUT)).isTrue();

            assertThat(p.exitCode()).hasValue(1);
            assertThat(p.failure()).get().isInstanceOf(IOException.class)
                    .extracting(Throwable::getMessage).isEqualTo("expected by ChildTaskTest: disk full");
            assertThat(p.failure().get().getStackTrace()).anySatisfy(
                    f -> assertThat(f.getClassName()).startsWith(ChildTaskTest.class.getName()));
        }
    }

    /**
     * A task captures the Path it writes to, and a queue carries Paths to process, as a program names its
     * files (a Path is not Serializable; the built-in codec writes its string form).
     */
    @Test
    void aTaskCapturingAPathAndAQueueOfPathsReachTheChild(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.txt");
        java.util.Optional<String> label = java.util.Optional.of("(ok)"); // captured too: an Optional is not Serializable either
        try (io.multiproc.queue.SharedQueue<Path> work = io.multiproc.queue.SharedQueue.create(4)) {
            work.put(dir.resolve("in ✓.txt"));
            ChildProcess p = ChildProcess.start(() -> {
                try {
                    Path in = work.take();
                    Files.writeString(out, "done " + in.getFileName() + label.map(l -> " " + l).orElse(""));
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(p.join(Children.TIMEOUT)).isTrue();
                assertThat(p.failure()).as("the child's failure").isEmpty();
                Children.joinOk(p);
            } finally {
                Children.reap(p);
            }
        }
        assertThat(Files.readString(out)).isEqualTo("done in ✓.txt (ok)");
    }

    @Test
    void failureIsEmptyWhileRunningAndAfterANormalExit() throws Exception {
        try (SharedLong gate = SharedLong.create(0); ChildProcess p = ChildProcess.start(() -> awaitNonZero(gate))) {
            assertThat(p.failure()).isEmpty();
            gate.set(1);
            Children.joinOk(p);
            assertThat(p.failure()).isEmpty();
        }
    }

    @Test
    void onExitCompletesWithTheChildOnceItHasExited() throws Exception {
        try (SharedLong gate = SharedLong.create(0); ChildProcess p = ChildProcess.start(() -> awaitNonZero(gate))) {
            var exit = p.onExit();
            Thread.sleep(200);
            assertThat(exit).isNotDone();

            gate.set(1);

            assertThat(exit.get(Children.TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isSameAs(p);
            assertThat(p.exitCode()).hasValue(0);
        }
    }

    @Test
    void onExitCompletesWhenTheChildIsKilled() throws Exception {
        try (ChildProcess p = ChildProcess.start(() -> Thread.sleep(60_000))) {
            p.kill();
            assertThat(p.onExit().get(Children.TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isSameAs(p);
            assertThat(p.exitCode()).hasValue(-9);
            assertThat(p.failure()).isEmpty();
        }
    }

    // ---- tasks as users write them ----

    @Test
    void lambdasWithAndWithoutCheckedExceptionsCompileAndRun() throws Exception {
        Path file = Files.createTempFile("childtask", ".txt");
        String where = file.toString();
        try (ChildProcess empty = ChildProcess.start(() -> { });
             ChildProcess throwing = ChildProcess.start(() -> Files.writeString(Path.of(where), "written"));
             ChildProcess built = ChildProcess.builder().target(() -> Thread.sleep(1)).start();
             ChildProcess runnable = ChildProcess.start(runnable())) {
            Children.joinAllOk(empty, throwing, built, runnable);
            assertThat(Files.readString(file)).isEqualTo("written");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static SerializableRunnable runnable() {
        return () -> { };
    }

    // ---- the child waits for non-daemon threads ----

    @Test
    void childWaitsForNonDaemonThreadsThenRunsShutdownHooks() throws Exception {
        try (SharedLong v = SharedLong.create(0); ChildProcess p = ChildProcess.start(() -> {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> v.addAndGet(10)));
            new Thread(() -> {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
                v.compareAndSet(0, 1);
            }).start();
        })) {
            Children.joinOk(p);
            assertThat(v.get()).as("the thread's work (1) done before the shutdown hook (+10)").isEqualTo(11);
        }
    }

    /** A task that ends with its interrupt status set (the "restore the interrupt" idiom) still waits. */
    @Test
    void aTaskEndingWithItsInterruptSetStillWaitsForItsNonDaemonThreads() throws Exception {
        try (SharedLong v = SharedLong.create(0); ChildProcess p = ChildProcess.start(() -> {
            new Thread(() -> {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
                v.set(1);
            }).start();
            Thread.currentThread().interrupt();
        })) {
            Children.joinOk(p);
            assertThat(v.get()).as("the non-daemon thread's work, done before the child exited").isEqualTo(1);
        }
    }

    // ---- children that cannot load their task ----

    @Test
    void startFailsNamingTheClassWhenTheTaskComesFromAnotherClassLoader(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.txt");
        Path classes = compilePlugin(dir);
        try (URLClassLoader loader = pluginLoader(classes)) {
            SerializableTask task = plugin(loader, out);

            assertThatThrownBy(() -> ChildProcess.start(task))
                    .isInstanceOf(ChildStartException.class)
                    .hasMessageContaining("could not load its task")
                    .hasMessageContaining("plugin.Plugin")
                    .hasMessageContaining("classPath(");
            assertThat(ChildProcess.activeChildren()).isEmpty();

            try (ChildProcess p = ChildProcess.builder().classPath(List.of(classes)).target(task).start()) {
                Children.joinOk(p);
            }
            assertThat(Files.readString(out)).isEqualTo("plugin ran");
        }
    }

    @Test
    void aTaskHoldingAnObjectFromAnotherClassLoaderFailsWithTheSameExplanation(@TempDir Path dir) throws Exception {
        Path classes = compilePlugin(dir);
        try (URLClassLoader loader = pluginLoader(classes)) {
            SerializableRunnable plugin = plugin(loader, dir.resolve("out.txt"));
            // the lambda is this test's (the application class path): start does not wait for the load
            try (ChildProcess p = ChildProcess.start(() -> plugin.run())) {
                assertThat(p.join(Children.TIMEOUT)).isTrue();

                assertThat(p.exitCode()).hasValue(1);
                assertThat(p.failure()).get().isInstanceOf(ChildStartException.class)
                        .extracting(Throwable::getMessage).asString()
                        .contains("could not load its task").contains("plugin.Plugin").contains("classPath(");
            }
        }
    }

    @Test
    void aPoolWhoseInitializerComesFromAnotherClassLoaderBreaksNamingTheClass(@TempDir Path dir) throws Exception {
        Path classes = compilePlugin(dir);
        try (URLClassLoader loader = pluginLoader(classes);
             Pool pool = Pool.builder().workers(2).initializer(plugin(loader, dir.resolve("out.txt"))).build()) {
            Throwable cause;
            try {
                pool.applyAsync(() -> 1).get(Children.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                throw new AssertionError("the task ran in a worker that could not load its initializer");
            } catch (ExecutionException e) {
                cause = e.getCause();
            } catch (RejectedExecutionException alreadyBroken) {
                cause = alreadyBroken.getCause();
            }
            assertThat(cause).isInstanceOf(ChildStartException.class).hasMessageContaining("plugin.Plugin")
                    .hasMessageContaining("classPath(");
            assertThat(pool.join(Children.TIMEOUT)).as("no replacement workers started forever").isTrue();
        }
    }

    // ---- the failure report leaves nothing behind ----

    @Test
    void aFailedChildLeavesNoReportFileBehind() throws Exception {
        try (ChildProcess p = ChildProcess.start(() -> {
            throw new IOException("expected by ChildTaskTest: report file");
        })) {
            assertThat(p.onExit().get(Children.TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isSameAs(p);

            assertThat(p.failure()).get().isInstanceOf(IOException.class);
            assertThat(reportFilesOfThisJvm()).isEmpty();
        }
    }

    @Test
    void aReportFileWhoseParentDiedIsRemovedWhenTheNextIsTaken() throws Exception {
        Process dead = new ProcessBuilder("sleep", "60").start();
        ProcessIdentity deadParent = ProcessIdentity.of(dead.pid()).orElseThrow();
        dead.destroyForcibly().waitFor();
        Path dir = PrivateDirectory.ensure(ChildReport.directory());
        Path orphan = PrivateDirectory.createFile(dir.resolve(deadParent + "-" + ProcessIdentity.OWN_NAMESPACE + "-1"));
        Path alive = PrivateDirectory.createFile(dir.resolve(ProcessIdentity.current() + "-" + ProcessIdentity.OWN_NAMESPACE + "-0"));
        try (ChildProcess p = ChildProcess.start(() -> {
            throw new IOException("expected by ChildTaskTest: sweep");
        })) {
            p.onExit().get(Children.TIMEOUT.toSeconds(), TimeUnit.SECONDS);

            assertThat(orphan).doesNotExist();
            assertThat(alive).as("a live parent's report is its own to take").exists();
        } finally {
            Files.deleteIfExists(orphan);
            Files.deleteIfExists(alive);
        }
    }

    @Test
    void startFailsWhenTheChildCannotEvenLoadMultiproc() {
        assertThatThrownBy(() -> ChildProcess.builder().jvmOptions(List.of("-cp", "/nonexistent-multiproc-test"))
                .target(() -> { }).start())
                .isInstanceOf(ChildStartException.class)
                .hasMessageContaining("exited with code 1 before it loaded its task")
                .hasMessageContaining("Could not find or load main class");
    }

    @Test
    void startFromASingleFileSourceProgramFailsNamingTheClass(@TempDir Path dir) throws Exception {
        Path hello = dir.resolve("Hello.java");
        Files.writeString(hello, """
                import io.multiproc.process.*;
                public class Hello {
                    public static void main(String[] args) throws Exception {
                        try {
                            ChildProcess p = ChildProcess.start(() -> System.out.println("child ran"));
                            p.join();
                            System.out.println("NO FAILURE exit=" + p.exitCode());
                        } catch (ChildStartException e) {
                            System.out.println("START FAILED: " + e.getMessage());
                        }
                    }
                }
                """);
        Process parent = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), hello.toString())
                .redirectErrorStream(true).start();
        try {
            assertThat(parent.waitFor(90, TimeUnit.SECONDS)).as("the source-launcher parent exits").isTrue();
            String output = new String(parent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(output).contains("START FAILED: child 'ChildProcess-1'").contains("Hello")
                    .contains("classPath(").doesNotContain("NO FAILURE");
            assertThat(parent.exitValue()).isZero();
        } finally {
            parent.destroyForcibly();
        }
    }

    // ---- what the child is given ----

    @Test
    void markedSystemPropertiesArePassedOnAndOthersAreNot() throws Exception {
        System.setProperty("multiproc.test.marked", "v1");
        System.setProperty("multiproc.test.unmarked", "v2");
        try (ChildProcess p = ChildProcess.builder().systemProperties(List.of("multiproc.test.marked"))
                .target(() -> {
                    String marked = System.getProperty("multiproc.test.marked");
                    String unmarked = System.getProperty("multiproc.test.unmarked");
                    if (!"v1".equals(marked) || unmarked != null) {
                        throw new IllegalStateException("marked=" + marked + " unmarked=" + unmarked);
                    }
                }).start()) {
            p.join(Children.TIMEOUT);
            assertThat(p.failure()).isEmpty();
            assertThat(p.exitCode()).hasValue(0);
        } finally {
            System.clearProperty("multiproc.test.marked");
            System.clearProperty("multiproc.test.unmarked");
        }
    }

    @Test
    void systemPropertiesRejectsSomethingThatIsNotAName() {
        assertThatThrownBy(() -> ChildProcess.builder().systemProperties(List.of("a=b")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a=b'");
    }

    /** What the launcher would take for the main class (and run with the child's arguments) is refused, naming it. */
    @Test
    void jvmOptionsRejectsWhatCannotBeAJvmOption() {
        for (List<String> bad : List.of(List.of("com.acme.Main"), List.of("-Xmx64m", ""), List.of("-Dx=1", "stray"),
                List.of("-cp", "/lib", "stray"), List.of("-ea", "com.acme.Main"))) {
            assertThatThrownBy(() -> ChildProcess.builder().jvmOptions(bad)).as("%s", bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a JVM option")
                    .hasMessageContaining("='" + bad.get(bad.size() - 1) + "'");
        }
        assertThatThrownBy(() -> io.multiproc.process.Pool.builder().jvmOptions(List.of("-Xss1m", "-Xmx64m -Xss1m ", " ")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("element 2");
        assertThatThrownBy(() -> ChildProcess.builder().jvmOptions(java.util.Arrays.asList("-Xmx64m", null)))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("jvmOptions element");
        assertThatThrownBy(() -> ChildProcess.builder().jvmOptions(List.of("-jar", "app.jar")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'-jar' would run something else");
        assertThatThrownBy(() -> ChildProcess.builder().jvmOptions(List.of("-Xss1m", "-cp")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'-cp' needs its value");
        // an option's value as its own element, as the java launcher takes it; an argument file
        ChildProcess.builder().jvmOptions(List.of("-cp", "/lib", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Dk=v w",
                "@/tmp/jvm.args"));
    }

    @Test
    void currentAndParentSayWhoIsWho() throws Exception {
        assertThat(ChildProcess.current()).isEqualTo(new ProcessInfo(ProcessHandle.current().pid(), "MainProcess", false));
        assertThat(ChildProcess.parent()).isEmpty();
        Pipe pipe = Pipe.open(false);
        try (Connection in = pipe.left(); Connection out = pipe.right();
             ChildProcess p = ChildProcess.builder().name("asker").target(() -> {
                 out.send(ChildProcess.current().toString());
                 out.send(ChildProcess.parent().map(ProcessInfo::toString).orElse("none"));
             }).start()) {
            Children.joinOk(p);
            assertThat(in.recv()).isEqualTo(new ProcessInfo(p.pid(), "asker", true).toString());
            assertThat(in.recv()).isEqualTo(ChildProcess.current().toString());
        }
    }

    /**
     * A child's own children are named for it, as CPython names them ({@code Process-1:1}, {@code Process-1:2}):
     * a default name never repeats one of the tree, so "Process NAME (pid N) failed" says which child failed.
     */
    @Test
    void aGrandchildsDefaultNameIsItsParentsNameAndANumber() throws Exception {
        Pipe pipe = Pipe.open(false);
        try (Connection in = pipe.left(); Connection out = pipe.right();
             ChildProcess p = ChildProcess.start(() -> {
                 SerializableRunnable nothing = () -> { };
                 out.send(ChildProcess.builder().target(nothing).build().name());
                 out.send(ChildProcess.builder().target(nothing).build().name());
             })) {
            Children.joinOk(p);
            assertThat(List.of(in.recv(), in.recv())).containsExactly(p.name() + ":1", p.name() + ":2");
        }
    }

    // ---- helpers ----

    private static void awaitNonZero(SharedLong gate) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (gate.get() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    private static SerializableRunnable plugin(URLClassLoader loader, Path out) throws ReflectiveOperationException {
        return (SerializableRunnable) loader.loadClass("plugin.Plugin").getConstructor(String.class).newInstance(out.toString());
    }

    private static URLClassLoader pluginLoader(Path classes) throws IOException {
        return new URLClassLoader(new URL[] {classes.toUri().toURL()}, ChildTaskTest.class.getClassLoader());
    }

    /** This JVM's report files not yet taken. */
    private static List<Path> reportFilesOfThisJvm() throws IOException {
        Path dir = ChildReport.directory();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(ProcessIdentity.current() + "-")).toList();
        }
    }

    /** A SerializableRunnable compiled into its own directory, for a class loader the child does not have. */
    private static Path compilePlugin(Path dir) throws IOException {
        Path src = dir.resolve("src/plugin/Plugin.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, """
                package plugin;
                public class Plugin implements io.multiproc.process.SerializableRunnable {
                    private final String out;
                    public Plugin(String out) { this.out = out; }
                    public void run() {
                        try {
                            java.nio.file.Files.writeString(java.nio.file.Path.of(out), "plugin ran");
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
                }
                """);
        Path classes = dir.resolve("classes");
        // javac as a process: the tests are compiled as a patch of io.multiproc, which does not read java.compiler
        Path log = dir.resolve("javac.txt");
        Process javac = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "javac").toString(),
                "-d", classes.toString(), "-cp", System.getProperty("java.class.path"), src.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(javac.waitFor(90, TimeUnit.SECONDS)).as("javac finished").isTrue();
            assertThat(javac.exitValue()).as("javac of the plugin: %s", Files.readString(log)).isZero();
        } catch (InterruptedException e) {
            throw new IOException(e);
        } finally {
            javac.destroyForcibly();
        }
        return classes;
    }
}
