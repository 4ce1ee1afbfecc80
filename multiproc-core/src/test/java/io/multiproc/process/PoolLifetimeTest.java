package io.multiproc.process;

import io.multiproc.internal.SegmentRegistry;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.multiproc.testing.Children.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A pool as part of a program: its workers' output reaches the program's, an unclosed pool does not
 * keep the program alive, a program that dies takes its workers with it, and an idle pool costs
 * (almost) no CPU.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class PoolLifetimeTest {
    @TempDir
    Path dir;

    @Test
    void workerOutputReachesTheProgramAndAnUnclosedPoolDoesNotKeepItAlive() throws Exception {
        Process p = start("unclosed");
        try {
            assertThat(p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("program exited with its pool unclosed").isTrue();
            String out = Files.readString(dir.resolve("out"));
            String err = Files.readString(dir.resolve("err"));
            assertThat(p.exitValue()).as("exit value; stderr:\n" + err).isZero();
            assertThat(out).contains("mapped=[10, 20, 30]", "out-from-worker-1", "out-from-worker-2", "out-from-worker-3");
            assertThat(err).contains("err-from-worker-1", "err-from-worker-3");
        } finally {
            killTree(p);
        }
    }

    /**
     * A SIGKILLed program takes its workers (and its spare JVMs) with it, and the next multiproc
     * process's sweep removes the pipes they shared: this test runs that sweep itself rather than
     * relying on some other process to do it.
     */
    @Test
    void programKilledTakesItsWorkersWithItAndTheNextSweepRemovesTheirPipes() throws Exception {
        Process p = start("orphan");
        try {
            List<ProcessHandle> workers = new ArrayList<>();
            for (String pid : awaitLine(p, "worker-pids=").split(",")) {
                ProcessHandle.of(Long.parseLong(pid)).ifPresent(workers::add);
            }
            assertThat(workers).hasSize(2);
            List<ProcessHandle> family = new ArrayList<>(p.descendants().toList());
            family.addAll(workers);
            Set<Long> pids = new HashSet<>();
            pids.add(p.pid());
            family.forEach(h -> pids.add(h.pid()));
            List<String> theirs = new ArrayList<>();
            for (SegmentRegistry.SegmentInfo info : SegmentRegistry.list()) {
                if (info.holders().stream().anyMatch(h -> pids.contains(h.process().pid()))) {
                    theirs.add(info.name());
                }
            }
            assertThat(theirs).as("segments the program and its workers held").anyMatch(n -> n.startsWith("mpp_"));

            p.destroyForcibly();
            assertThat(p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("program killed").isTrue();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (family.stream().anyMatch(PoolLifetimeTest::running) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(family.stream().filter(PoolLifetimeTest::running).toList()).as("workers and spares left running").isEmpty();

            SegmentRegistry.sweep();
            assertThat(ReapChildrenCheckShm.shmFiles()).as("left in /dev/shm after a sweep").doesNotContainAnyElementsOf(theirs);
        } finally {
            killTree(p);
        }
    }

    /**
     * An idle pool of 4 waits on futexes: its workers (every thread of their JVMs) and this JVM's pool
     * threads (readers, the watch) use under 1% of a CPU together, sampled over 10 s
     * after the pool has settled. Measured as run time in nanoseconds ({@code /proc/.../schedstat}), not
     * in clock ticks: a 10 ms tick charged to whichever thread it interrupted made a 5 s sample of 1%
     * five ticks give or take a few, so the check passed or failed by chance.
     */
    @Test
    void idlePoolOfFourUsesLessThanOnePercentCpu() throws Exception {
        try (Pool pool = Pool.create(4)) {
            pool.map(x -> x, List.of(1, 2, 3, 4, 5, 6, 7, 8), 1);
            // NOTE: 6 s: the workers' last compilations of the map (C1) ran 3-8 s after it and made a 5 s
            // window read 0.7-1.1%; a 10 s window then averages the timers of JVMs that wake once in a while
            Thread.sleep(6000); // let spinning end and the workers' JIT settle
            List<Long> pids = pool.workerPids();
            assertThat(pids).hasSize(4);
            // NOTE: on a loaded machine the workers' warm-up and compilations, which wait for idle cores, were
            // still running after 6 s (6% read at load 30): wait, up to 30 s more, for one quiet second. A
            // pool that spins while idle never has one, and is then measured and fails all the same
            long settleBy = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            for (long last = runNanos(pids) + poolThreadsRunNanos(); System.nanoTime() < settleBy; ) {
                Thread.sleep(1000);
                long now = runNanos(pids) + poolThreadsRunNanos();
                if (now - last < 10_000_000L) { // < 1% of a CPU in that second
                    break;
                }
                last = now;
            }
            long before = runNanos(pids) + poolThreadsRunNanos();
            long t0 = System.nanoTime();
            Thread.sleep(10_000);
            long ran = runNanos(pids) + poolThreadsRunNanos() - before;
            double seconds = (System.nanoTime() - t0) / 1e9;
            double percent = 100.0 * ran / 1e9 / seconds;
            System.out.printf("PoolLifetimeTest: idle pool of 4: %.2f%% of one CPU (%.1f ms run in %.1f s)%n", percent, ran / 1e6, seconds);
            assertThat(percent).isLessThan(1.0);
        }
    }

    // ---- helpers

    private Process start(String scenario) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                PoolScenario.MAIN_CLASS, scenario));
        return new ProcessBuilder(command).redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile()).start();
    }

    private String awaitLine(Process p, String prefix) throws Exception {
        Pattern line = Pattern.compile("^" + Pattern.quote(prefix) + "(\\S+)$", Pattern.MULTILINE);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = line.matcher(Files.readString(dir.resolve("out")));
            if (m.find()) {
                return m.group(1);
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no line " + prefix + " ; stderr:\n" + Files.readString(dir.resolve("err")));
    }

    private static void killTree(Process p) throws InterruptedException {
        List<ProcessHandle> all = p.descendants().toList();
        p.destroyForcibly();
        all.forEach(ProcessHandle::destroyForcibly);
        p.waitFor(30, TimeUnit.SECONDS);
    }

    /** Alive and not a zombie (an orphan may be reaped late by pid 1). */
    private static boolean running(ProcessHandle h) {
        return h.isAlive() && stat(h.pid()).map(s -> {
            char state = s.charAt(s.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        }).orElse(false);
    }

    private static Optional<String> stat(long pid) {
        try {
            return Optional.of(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException gone) {
            return Optional.empty();
        }
    }

    /** utime + stime of the processes, in clock ticks. */
    /** Run time (ns) of every thread of the processes {@code pids}. */
    private static long runNanos(List<Long> pids) throws IOException {
        long sum = 0;
        for (long pid : pids) {
            sum += threadsRunNanos(Path.of("/proc/" + pid + "/task"), name -> true);
        }
        return sum;
    }

    /**
     * Run time (ns) of this JVM's pool threads: the reader threads and the pool's watch. Not the spares
     * thread: it looks every 10 ms while a spare JVM boots for a later start (after the tests before this
     * one), which is the spares' cost, not the pool's; with the cores taken it no longer wakes at all.
     */
    private static long poolThreadsRunNanos() throws IOException {
        return threadsRunNanos(Path.of("/proc/self/task"), name -> name.startsWith("mpool-reader")
                || name.startsWith("multiproc-pool-"));
    }

    private static long threadsRunNanos(Path tasks, java.util.function.Predicate<String> named) throws IOException {
        long sum = 0;
        try (var list = Files.list(tasks)) {
            for (Path t : list.toList()) {
                try {
                    if (named.test(Files.readString(t.resolve("comm")).strip())) {
                        sum += Long.parseLong(Files.readString(t.resolve("schedstat")).split(" ")[0]);
                    }
                } catch (IOException gone) {
                    // the thread ended
                }
            }
        } catch (IOException | java.io.UncheckedIOException processGone) {
            // a worker that exited has nothing more to count
        }
        return sum;
    }


}
