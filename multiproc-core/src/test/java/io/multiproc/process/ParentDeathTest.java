package io.multiproc.process;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What happens to children when their parent JVM fails, exits or dies. Each test runs
 * {@link ParentScenario} as a parent JVM of its own (output to files), and looks at that JVM's output,
 * its exit and its children (the test JVM's grandchildren).
 *
 * <p>A process counts as ended when it is gone or a zombie: an orphan is reparented to pid 1, which
 * may reap it late, and {@link ProcessHandle#isAlive()} reports a zombie as alive.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(60)
class ParentDeathTest {
    private static final Duration PROMPTLY = Duration.ofSeconds(2);
    private static final Duration LONG_ENOUGH = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void childStackTraceAndOutputReachParentStreams() throws Exception {
        try (Parent parent = Parent.start(dir, "throwing")) {
            assertThat(parent.process.waitFor(LONG_ENOUGH.toSeconds(), TimeUnit.SECONDS)).as("parent exited").isTrue();

            assertThat(parent.stdout()).contains("out-from-child").contains("exit-code=1");
            assertThat(parent.stderr())
                    .contains("Process ChildProcess-1 (pid ")
                    .contains("java.lang.IllegalStateException: boom-from-child")
                    .contains("at " + ParentScenario.class.getName());
            assertThat(parent.process.exitValue()).isZero();
        }
    }

    /**
     * A child's output written through C stdio (a JNI or FFM library's printf) reaches the parent's stdout
     * even when that is a file, where libc buffers it: the child's fast exit flushes libc's streams too.
     */
    @Test
    void childOutputWrittenThroughCStdioIsNotLostAtExit() throws Exception {
        try (Parent parent = Parent.start(dir, "native-out")) {
            assertThat(parent.process.waitFor(LONG_ENOUGH.toSeconds(), TimeUnit.SECONDS)).as("parent exited").isTrue();

            assertThat(parent.stdout()).contains("exit-code=0").contains("native-out-from-child");
        }
    }

    /** Each process's pid, name (what ChildMain reached: java = booting, mp-spare, mp-child...) and state letter. */
    private static String describe(List<ProcessHandle> processes) {
        StringBuilder sb = new StringBuilder();
        for (ProcessHandle h : processes) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
                sb.append(h.pid()).append(' ').append(stat, stat.indexOf('('), stat.lastIndexOf(')') + 3).append("; ");
            } catch (IOException e) {
                sb.append(h.pid()).append(" gone; ");
            }
        }
        return sb.toString();
    }

    /**
     * The child is stopped (SIGSTOP) before its parent is killed, so that only the kernel's parent-death
     * signal can end it: the child's own watcher thread cannot run. Every other child JVM of that parent
     * (in {@code spare} mode, the replacement spare) must end too.
     */
    @ParameterizedTest(name = "{0} child")
    @ValueSource(strings = {"spare", "cold"})
    void childIsKilledWhenParentIsKilled(String mode) throws Exception {
        try (Parent parent = Parent.start(dir, "orphan", mode)) {
            long pid = parent.awaitNumber("child-ready=");
            assertThat(parent.awaitNumber("child-pid=")).isEqualTo(pid);
            ProcessHandle child = parent.grandchild(pid).orElseThrow(() -> new AssertionError("child pid " + pid + " is not running"));
            assertThat(child.info().arguments().map(List::of).orElseThrow())
                    .as("how the child was started").contains((mode.equals("spare") ? Launcher.Mode.SPARE : Launcher.Mode.DIRECT).name());
            stop(pid);
            List<ProcessHandle> all = parent.childJvms();

            parent.process.destroyForcibly();

            assertThat(parent.process.waitFor(LONG_ENOUGH.toSeconds(), TimeUnit.SECONDS)).isTrue();
            List<ProcessHandle> left = awaitEnded(all, PROMPTLY);
            assertThat(left).as("child JVMs running %s after their parent was killed: %s", PROMPTLY, describe(left)).isEmpty();
            assertThat(awaitEnded(parent.childJvms(), PROMPTLY)).as("child JVMs of the dead parent").isEmpty();
        }
    }

    @Test
    void daemonChildEndsWhenParentReturnsFromMain() throws Exception {
        long t0 = System.nanoTime();
        try (Parent parent = Parent.start(dir, "daemon-exit")) {
            long pid = parent.awaitNumber("child-pid=");
            List<ProcessHandle> child = parent.grandchild(pid).stream().toList(); // empty if already gone

            assertThat(parent.process.waitFor(LONG_ENOUGH.toSeconds(), TimeUnit.SECONDS)).as("parent exited").isTrue();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);

            assertThat(parent.process.exitValue()).isZero();
            assertThat(took).as("parent run time; its daemon child would sleep 60 s").isLessThan(Duration.ofSeconds(15));
            assertThat(awaitEnded(child, PROMPTLY)).as("daemon child").isEmpty();
        }
    }

    /**
     * A daemon child is terminated at the parent's normal exit, as {@link ChildProcess#terminate()} does:
     * SIGTERM, so its shutdown hooks run, and (as CPython joins its terminated daemons) the parent waits
     * for them before its own exit kills what is left.
     */
    @Test
    void daemonChildsShutdownHooksFinishWhenParentReturnsFromMain() throws Exception {
        Path ready = dir.resolve("child-ready");
        Path marker = dir.resolve("child-hooks-ran");
        try (Parent parent = Parent.start(dir, "daemon-hooks", ready.toString(), marker.toString())) {
            long pid = parent.awaitNumber("child-pid=");
            List<ProcessHandle> child = parent.grandchild(pid).stream().toList();

            assertThat(parent.process.waitFor(LONG_ENOUGH.toSeconds(), TimeUnit.SECONDS)).as("parent exited").isTrue();

            assertThat(parent.process.exitValue()).as("parent exit; stderr: %s", parent.stderr()).isZero();
            assertThat(awaitEnded(child, PROMPTLY)).as("daemon child").isEmpty();
            assertThat(marker).as("the daemon child's shutdown hook (1 s of work) finished").exists();
        }
    }

    @Test
    void parentWaitsForNonDaemonChildBeforeExiting() throws Exception {
        Path marker = dir.resolve("child-finished");
        try (Parent parent = Parent.start(dir, "nondaemon-exit", marker.toString())) {
            long pid = parent.awaitNumber("child-pid=");
            ProcessHandle child = parent.grandchild(pid).orElseThrow(() -> new AssertionError("child pid " + pid + " is not running"));

            assertThat(parent.process.waitFor(LONG_ENOUGH.toSeconds(), TimeUnit.SECONDS)).as("parent exited").isTrue();

            assertThat(marker).as("written by the child 1.5 s after it started").exists();
            assertThat(parent.process.exitValue()).isZero();
            assertThat(awaitEnded(List.of(child), PROMPTLY)).as("non-daemon child").isEmpty();
        }
    }

    /**
     * {@code kill PID} stops a program even while a non-daemon child works (the child would sleep 60 s):
     * the child gets SIGTERM too (its shutdown hooks run) and the program exits as a JVM does on SIGTERM,
     * whether main was still running or had returned and its exit was waiting for the child.
     */
    @ParameterizedTest(name = "main {0}")
    @ValueSource(strings = {"sleeping", "exiting"})
    void sigtermStopsTheProgramAndItsNonDaemonChild(String mode) throws Exception {
        Path marker = dir.resolve("child-hooks-ran");
        try (Parent parent = Parent.start(dir, "terminated", mode, marker.toString())) {
            long pid = parent.awaitNumber("child-ready=");
            assertThat(parent.awaitNumber("child-pid=")).isEqualTo(pid);
            ProcessHandle child = parent.grandchild(pid).orElseThrow(() -> new AssertionError("child pid " + pid + " is not running"));
            if (mode.equals("exiting")) {
                parent.awaitNumber("main-returned=");
                Thread.sleep(300); // the exit is now waiting for the child
            }

            parent.process.destroy(); // SIGTERM

            assertThat(parent.process.waitFor(15, TimeUnit.SECONDS)).as("the parent exits on SIGTERM; its child would sleep 60 s").isTrue();
            if (mode.equals("sleeping")) {
                assertThat(parent.process.exitValue()).as("a JVM's exit status on SIGTERM").isEqualTo(143);
            } else {
                // the JDK's exit already under way (status 0) and the signal's exit (143) race to halt
                assertThat(parent.process.exitValue()).as("exit status").isIn(0, 143);
            }
            assertThat(awaitEnded(List.of(child), PROMPTLY)).as("non-daemon child").isEmpty();
            assertThat(marker).as("the child was asked to stop (SIGTERM), so its shutdown hooks ran").exists();
        }
    }

    // ---- helpers ----

    /**
     * A running {@link ParentScenario} JVM. {@code close()} kills it and every child JVM it started
     * (found by the parent pid on their command line, so those still starting count too).
     */
    private record Parent(Process process, Path out, Path err, List<ProcessHandle> known) implements AutoCloseable {
        static Parent start(Path dir, String... args) throws IOException {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"),
                    ParentScenario.MAIN_CLASS));
            command.addAll(List.of(args));
            Path out = dir.resolve("parent.out");
            Path err = dir.resolve("parent.err");
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            return new Parent(p, out, err, new ArrayList<>());
        }

        String stdout() {
            return read(out);
        }

        String stderr() {
            return read(err);
        }

        /** Waits for a line {@code prefix<number>} on the parent's stdout (its children's too). */
        long awaitNumber(String prefix) throws InterruptedException {
            Pattern line = Pattern.compile("^" + Pattern.quote(prefix) + "(\\d+)$", Pattern.MULTILINE);
            long deadline = System.nanoTime() + LONG_ENOUGH.toNanos();
            while (true) {
                boolean exited = !process.isAlive();
                Matcher m = line.matcher(stdout());
                if (m.find()) {
                    return Long.parseLong(m.group(1));
                }
                if (exited || System.nanoTime() > deadline) {
                    break;
                }
                Thread.sleep(20);
            }
            throw new AssertionError("no line " + prefix + "N from the parent; stdout:\n" + stdout() + "\nstderr:\n" + stderr());
        }

        /** The process {@code pid}, a child of this parent, if it still runs; kept so that close() kills it. */
        Optional<ProcessHandle> grandchild(long pid) {
            Optional<ProcessHandle> h = ProcessHandle.of(pid);
            h.ifPresent(known::add);
            return h;
        }

        /** Every live process whose command line says it is a child JVM of this parent. */
        List<ProcessHandle> childJvms() {
            String parentPid = Long.toString(process.pid());
            return ProcessHandle.allProcesses()
                    .filter(h -> h.info().arguments()
                            .map(a -> List.of(a).contains(Launcher.MAIN_CLASS) && List.of(a).contains(parentPid))
                            .orElse(false))
                    .toList();
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(LONG_ENOUGH.toSeconds(), TimeUnit.SECONDS);
            List<ProcessHandle> all = new ArrayList<>(known);
            all.addAll(childJvms());
            all.forEach(ProcessHandle::destroyForcibly);
            List<ProcessHandle> left = awaitEnded(all, LONG_ENOUGH);
            if (!left.isEmpty()) {
                throw new AssertionError("could not kill child JVMs " + left);
            }
        }

        private static String read(Path file) {
            try {
                return Files.readString(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Waits at most {@code timeout} for every process to end; returns those still running. */
    private static List<ProcessHandle> awaitEnded(List<ProcessHandle> processes, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<ProcessHandle> running = processes.stream().filter(h -> !hasEnded(h)).toList();
            if (running.isEmpty() || System.nanoTime() > deadline) {
                return running;
            }
            Thread.sleep(20);
        }
    }

    private static boolean hasEnded(ProcessHandle h) {
        return !h.isAlive() || state(h.pid()).map(s -> s == 'Z' || s == 'X').orElse(true);
    }

    /** The state letter in /proc/PID/stat (R, S, T, Z, ...), empty when there is no such process. */
    private static Optional<Character> state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return Optional.of(stat.charAt(stat.lastIndexOf(')') + 2));
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends SIGSTOP (no Java API does) and waits until the process is stopped. */
    private static void stop(long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-STOP", Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(LONG_ENOUGH.toSeconds(), TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -STOP " + pid).isTrue();
        long deadline = System.nanoTime() + PROMPTLY.toNanos();
        while (state(pid).orElse('?') != 'T') {
            assertThat(System.nanoTime()).as("pid %d stopped", pid).isLessThan(deadline);
            Thread.sleep(5);
        }
    }
}
