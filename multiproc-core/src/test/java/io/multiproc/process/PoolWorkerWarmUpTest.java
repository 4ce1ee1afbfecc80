package io.multiproc.process;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A pool worker that waits for its first task warms the map path meanwhile (decision 161), the first
 * task stops that warm-up, and the warm-up does not begin while the program is busy (decision 178). The
 * workers here start cold (JVM options of their own), so nothing but this warm-up runs the path; pacing
 * is off except where a test says otherwise, so a busy test machine does not hold it back.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class PoolWorkerWarmUpTest {
    private static final List<String> UNPACED = List.of("-Dmultiproc.warmUpPacing=false");
    private static final Duration READY = Duration.ofSeconds(60);

    @Test
    void anIdleWorkerWarmsItsMapPathBeforeItsFirstTask() throws Exception {
        try (Pool pool = Pool.builder().workers(1).jvmOptions(UNPACED).build()) {
            assertThat(pool.awaitReady(READY)).isTrue();
            long pid = pool.workerPids().getFirst();
            // READY comes just before the warm-up thread starts
            long started = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!warmUpThreadRuns(pid)) {
                assertThat(System.nanoTime() - started).as("no warm-up thread in the worker within 10 s").isNegative();
                Thread.sleep(5);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (warmUpThreadRuns(pid)) {
                assertThat(System.nanoTime() - deadline).as("the worker's warm-up still runs after 60 s").isNegative();
                Thread.sleep(20);
            }
            assertThat(pool.applyAsync(() -> HotPaths.completed(HotPaths.Path.POOL_FRAMES)).get())
                    .as("the map path ran to its end in the idle worker").isTrue();
        }
    }

    @Test
    void theFirstTaskStopsTheWarmUpAtOnce() throws Exception {
        try (Pool pool = Pool.builder().workers(1).jvmOptions(UNPACED).build()) {
            assertThat(pool.awaitReady(READY)).isTrue();
            Thread.sleep(300); // past the warm-up's first window (50 ms): it runs when the task comes
            String state = pool.applyAsync(() -> {
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(PoolWorkerMain.WARM_UP_THREAD))) {
                    if (System.nanoTime() - deadline > 0) {
                        return "still running 5 s into the first task";
                    }
                    Thread.sleep(1);
                }
                return !HotPaths.started(HotPaths.Path.POOL_FRAMES) ? "never started"
                        : HotPaths.completed(HotPaths.Path.POOL_FRAMES) ? "ran to its end" : "stopped";
            }).get();
            assertThat(state).isEqualTo("stopped");
        }
    }

    /**
     * A pool that maps at once keeps its parent busy encoding the first chunk after READY: the warm-up
     * waits while the parent is busy instead of starting beside that work (it took 30-45 ms of CPU).
     */
    @Test
    void theWarmUpDoesNotStartWhileTheProgramPreparesWork() throws Exception {
        AtomicBoolean spin = new AtomicBoolean(true);
        Thread busy = new Thread(() -> {
            long x = 0;
            while (spin.get()) {
                x += System.nanoTime() & 1; // the parent, busy as a pool's caller encoding its first chunk
            }
            if (x == 42) {
                System.out.print("");
            }
        }, "busy-parent");
        busy.start();
        try (Pool pool = Pool.builder().workers(1).jvmOptions(List.of("-Dmultiproc.warmUpPacing=true")).build()) {
            assertThat(pool.awaitReady(READY)).isTrue();
            Thread.sleep(500);
            assertThat(warmUpThreadRuns(pool.workerPids().getFirst())).as("the warm-up thread waits (it did not die)").isTrue();
            assertThat(pool.applyAsync(() -> HotPaths.started(HotPaths.Path.POOL_FRAMES)).get())
                    .as("the worker began its warm-up while its parent was busy").isFalse();
        } finally {
            spin.set(false);
            busy.join();
        }
    }

    @Test
    void theSwitchTurnsTheWarmUpOff() throws Exception {
        try (Pool pool = Pool.builder().workers(1).jvmOptions(List.of("-Dmultiproc.warmUpPacing=false", "-Dmultiproc.workerWarmUp=false")).build()) {
            assertThat(pool.awaitReady(READY)).isTrue();
            long pid = pool.workerPids().getFirst();
            Thread.sleep(300);
            assertThat(warmUpThreadRuns(pid)).isFalse();
        }
    }

    /** True while process {@code pid} has a thread named {@link PoolWorkerMain#WARM_UP_THREAD}. */
    private static boolean warmUpThreadRuns(long pid) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.anyMatch(t -> {
                try {
                    return Files.readString(t.resolve("comm")).strip().equals(PoolWorkerMain.WARM_UP_THREAD);
                } catch (IOException gone) {
                    return false;
                }
            });
        }
    }
}
