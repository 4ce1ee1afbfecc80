package io.multiproc.process;

import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static io.multiproc.testing.Children.TIMEOUT;
import static io.multiproc.testing.Children.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A {@link Pool} worker that dies (SIGKILL from outside, {@code Runtime.halt} inside a task) fails
 * exactly what it held with {@link WorkerDiedException}, is replaced, and nothing hangs: CPython's
 * Pool hangs forever here (gh-66587).
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(180)
class PoolWorkerDeathTest {
    private static final long SECONDS = TIMEOUT.toSeconds();
    /** Promptly, on a loaded 2-core machine (the death is seen in ~25 ms on a quiet one). */
    private static final Duration PROMPTLY = Duration.ofSeconds(3);

    @Test
    void taskThatHaltsItsJvmFailsWithWorkerDiedAndThePoolGoesOn() throws Exception {
        try (Pool pool = Pool.create(2)) {
            assertThat(pool.awaitReady(TIMEOUT)).isTrue(); // create returns before its workers run
            List<Long> before = pool.workerPids();
            CompletableFuture<Object> f = pool.applyAsync(() -> {
                Runtime.getRuntime().halt(9);
                return null;
            });
            Throwable cause = PoolTest.catchCause(f);
            assertThat(cause).isInstanceOf(WorkerDiedException.class).hasMessageContaining("exit code 9");
            WorkerDiedException died = (WorkerDiedException) cause;
            assertThat(died.exitCode()).isEqualTo(9);
            assertThat(died.signal()).isEmpty();
            assertThat(before).contains(died.pid());

            List<Integer> squares = pool.map(x -> x * x, IntStream.range(0, 100).boxed().toList(), 3);
            assertThat(squares).isEqualTo(IntStream.range(0, 100).map(x -> x * x).boxed().toList());
            awaitUntil("a replacement worker runs", () -> pool.workerPids().size() == 2 && !pool.workerPids().contains(died.pid()));
        }
    }

    /**
     * "When a worker dies, my exceptionally() stage retries the task on the same pool and waits": with
     * one worker the retry needs the replacement, which used to be started only after the lost chunks'
     * stages had returned, so the retry waited for itself.
     */
    @Test
    void aStageThatRetriesALostTaskAndWaitsGetsTheReplacementsResult() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong gate = SharedLong.create(0)) {
            CompletableFuture<Integer> lost = pool.applyAsync(() -> {
                while (gate.get() == 0) {
                    Thread.sleep(1);
                }
                Runtime.getRuntime().halt(9);
                return 0;
            });
            CompletableFuture<Integer> retried = lost.exceptionally(died -> {
                assertThat(died).isInstanceOf(WorkerDiedException.class);
                return pool.applyAsync(() -> 42).join();
            });
            assertThat(lost).isNotDone(); // so the stage runs on the pool's side, not here
            gate.set(1);
            assertThat(retried.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(42);
        }
    }

    @Test
    void killDashNineInTheMiddleOfAMapOfTenThousandFailsTheMapPromptlyWithThatCause() throws Exception {
        try (Pool pool = Pool.create(2); SharedLong done = SharedLong.create(0)) {
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> {
                PoolTest.sleep(1);
                done.incrementAndGet();
                return x;
            }, IntStream.range(0, 10_000).boxed().toList(), 10);
            awaitUntil("a tenth of the map is done", () -> done.get() >= 1000);
            long victim = pool.workerPids().getFirst();
            long t0 = System.nanoTime();
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();

            assertThatThrownBy(() -> map.get(PROMPTLY.toMillis(), TimeUnit.MILLISECONDS)).cause()
                    .isInstanceOf(WorkerDiedException.class)
                    .hasMessageContaining("pid=" + victim).hasMessageContaining("signal 9");
            System.out.printf("PoolWorkerDeathTest: SIGKILL to WorkerDiedException %.1f ms%n", (System.nanoTime() - t0) / 1e6);
            assertThat(done.get()).as("the map stopped: its queued chunks were dropped").isLessThan(10_000);

            assertThat(pool.applyAsync(() -> "after").get(SECONDS, TimeUnit.SECONDS)).isEqualTo("after");
        }
    }

    @Test
    void killDashNineDuringAnImapFailsExactlyTheChunksThatWorkerHeld() throws Exception {
        int chunk = 10;
        try (Pool pool = Pool.create(2); SharedLong done = SharedLong.create(0)) {
            PoolIterator<Integer> it = pool.imap(x -> {
                PoolTest.sleep(1);
                done.incrementAndGet();
                return x;
            }, IntStream.range(0, 10_000).boxed().toList(), chunk);
            List<Integer> got = new ArrayList<>();
            List<WorkerDiedException> failures = new ArrayList<>();
            long victim = -1;
            while (it.hasNext()) {
                try {
                    got.add(it.next(TIMEOUT));
                } catch (WorkerDiedException e) {
                    failures.add(e);
                }
                if (victim < 0 && got.size() == 1000) {
                    victim = pool.workerPids().getFirst();
                    ProcessHandle.of(victim).orElseThrow().destroyForcibly();
                }
            }
            long pid = victim;
            assertThat(failures).isNotEmpty().hasSizeLessThanOrEqualTo(Pool.AHEAD)
                    .allSatisfy(e -> assertThat(e.pid()).isEqualTo(pid));
            assertThat(got).hasSize(10_000 - chunk * failures.size());
            // every result is in order and whole chunks are missing: exactly the lost ones
            List<Integer> missing = new ArrayList<>(IntStream.range(0, 10_000).boxed().toList());
            missing.removeAll(got);
            assertThat(got).isSorted();
            for (int i = 0; i < missing.size(); i += chunk) {
                assertThat(missing.get(i) % chunk).isZero();
                assertThat(missing.subList(i, i + chunk)).isEqualTo(IntStream.range(missing.get(i), missing.get(i) + chunk).boxed().toList());
            }
        }
    }

    @Test
    void idleWorkerKilledFromOutsideIsReplaced() throws Exception {
        try (Pool pool = Pool.create(2)) {
            awaitUntil("both workers run", () -> pool.workerPids().size() == 2);
            long victim = pool.workerPids().getFirst();
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();
            awaitUntil("a replacement worker runs", () -> pool.workerPids().size() == 2 && !pool.workerPids().contains(victim));
            List<Long> pids = pool.map(x -> ProcessHandle.current().pid(), IntStream.range(0, 20).boxed().toList(), 1);
            assertThat(pids).doesNotContain(victim);
        }
    }

    /**
     * "I shut the pool down and wait for it; a worker is killed meanwhile": the lost task fails, the
     * tasks still queued behind it run (or, if the dead worker already held them, fail the same way),
     * and close() returns instead of waiting forever for a worker that no longer exists.
     */
    @Test
    void aWorkerKilledWhileAShutDownPoolDrainsFailsItsTasksAndThePoolStillTerminates() throws Exception {
        Pool pool = Pool.create(1);
        try (SharedLong started = SharedLong.create(0)) {
            CompletableFuture<Integer> lost = pool.applyAsync(() -> {
                started.set(1);
                Thread.sleep(60_000);
                return -1;
            });
            List<CompletableFuture<Integer>> queued = new ArrayList<>();
            for (int i = 0; i < Pool.AHEAD + 3; i++) {
                int n = i;
                queued.add(pool.applyAsync(() -> n));
            }
            awaitUntil("the long task runs", () -> started.get() == 1);
            long victim = pool.workerPids().getFirst();
            pool.shutdown();
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();

            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).as("the shut-down pool terminates").isTrue();
            assertThat(PoolTest.catchCause(lost)).isInstanceOf(WorkerDiedException.class);
            for (int i = 0; i < queued.size(); i++) {
                CompletableFuture<Integer> f = queued.get(i);
                assertThat(f).as("queued task %d", i).isDone();
                if (f.isCompletedExceptionally()) {
                    assertThat(PoolTest.catchCause(f)).isInstanceOf(WorkerDiedException.class);
                } else {
                    assertThat(f.join()).isEqualTo(i);
                }
            }
            assertThat(queued.stream().filter(f -> !f.isCompletedExceptionally()).count())
                    .as("tasks the dead worker never held ran on a replacement").isGreaterThan(0);
        } finally {
            pool.terminate();
        }
    }
}
