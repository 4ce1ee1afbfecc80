package io.multiproc.redis;

import io.multiproc.process.ChildProcess;
import io.multiproc.process.PoolIterator;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static io.multiproc.redis.RedisPoolTest.workers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A Redis pool when something goes wrong that is neither the task's fault nor a dead worker: an item or a
 * result Redis refuses, a map failing while its chunks are still being queued, a worker restarted with an
 * old worker's pid, a Redis that stops answering for a while. Real worker JVMs and a real redis-server.
 */
@ExtendWith(ReapChildrenCheckShm.class)
// NOTE: a separate thread, so that a pool whose close() waits forever for a lost chunk fails its test, not the run
@Timeout(value = 150, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisPoolFaultTest {
    private static final Duration LEASE = Duration.ofSeconds(2);
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static long llen(LocalRedis redis, String key) {
        return Long.parseLong(redis.command("LLEN " + key).substring(1));
    }

    /** The list's length, or -1 if the server did not answer in time (busy with a long script). */
    private static long llenOrMinusOne(LocalRedis redis, String key) {
        try {
            return llen(redis, key);
        } catch (java.io.UncheckedIOException busy) {
            return -1;
        }
    }

    private static void awaitUntil(String what, Duration wait, BooleanSupplier condition) throws InterruptedException {
        Children.awaitUntil(what, wait, RedisPoolTest.POLL, condition);
    }

    @Test
    void anImapItemThatCannotBeEncodedFailsInItsOwnPlaceAndTheOthersAllComeBack() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "encode", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "encode")) {
            PoolIterator<Object> it = pool.imap(x -> x, List.<Object>of(1, 2, new Object(), 4));
            assertThat(it.next(WAIT)).isEqualTo(1);
            assertThat(it.next(WAIT)).isEqualTo(2);
            assertThatThrownBy(() -> it.next(WAIT)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("java.lang.Object");
            assertThat(it.next(WAIT)).isEqualTo(4);
            assertThat(it.hasNext()).isFalse();
        }
    }

    @Test
    void aResultRedisRefusesFailsItsTaskAndTheWorkerServesOn() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "bigresult", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "bigresult")) {
            assertThat(redis.command("CONFIG SET proto-max-bulk-len 1mb")).isEqualTo("+OK");
            long start = System.nanoTime();
            Throwable e = catchThrowable(() -> pool.applyAsync(() -> new byte[2_000_000]).get(30, TimeUnit.SECONDS));
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).hasMessageContaining("could not be stored in Redis").hasMessageContaining("2000");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
            assertThat(pool.applyAsync(() -> 7).get(30, TimeUnit.SECONDS)).isEqualTo(7);
            assertThat(pool.workers()).hasSize(1);
        }
    }

    /** A result far over the limit: Redis closes the connection mid-write; the worker says so and serves on. */
    @Test
    void aResultFarOverRedisLimitFailsItsTaskAndTheSameWorkerServesOn() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "hugeresult", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "hugeresult")) {
            assertThat(redis.command("CONFIG SET proto-max-bulk-len 1mb")).isEqualTo("+OK");
            long pid = pool.applyAsync(() -> ProcessHandle.current().pid()).get(30, TimeUnit.SECONDS);
            Throwable e = catchThrowable(() -> pool.applyAsync(() -> new byte[32_000_000]).get(30, TimeUnit.SECONDS));
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).hasMessageContaining("could not be stored in Redis").hasMessageContaining("32000");
            assertThat(pool.applyAsync(() -> ProcessHandle.current().pid()).get(30, TimeUnit.SECONDS))
                    .as("the same worker, not a replacement").isEqualTo(pid);
        }
    }

    @Test
    void aMapThatFailsWhileItsChunksAreBeingQueuedLeavesNoneOfThemQueued() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "failfast", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "failfast")) {
            pool.map(x -> x, List.of(1), 1); // the worker is up and has taken a chunk
            assertThatThrownBy(() -> pool.map(x -> {
                if (x == 0) {
                    throw new IllegalStateException("x=0 fails at once");
                }
                RedisPoolTest.nap(20);
                return x;
            }, IntStream.range(0, 100_000).boxed().toList(), 1)).isInstanceOf(IllegalStateException.class);
            // the worker needs 20 ms per chunk: only the cancelled chunks' removal empties the queue in time
            // NOTE: a probe that gets no answer within its 5 s socket timeout counts as "not yet": the
            // removal passes over 100,000 queued chunks keep the single-threaded server busy, for seconds
            // on a loaded machine (a CI run failed on the probe's timeout, not on the queue)
            awaitUntil("the failed map's chunks are unqueued", Duration.ofSeconds(10),
                    () -> llenOrMinusOne(redis, "mp:pool:{failfast}:queue") == 0);
            assertThat(pool.map(x -> x + 1, List.of(1, 2), 1)).containsExactly(2, 3);
            pool.terminate();
            assertThat(llen(redis, "mp:pool:{failfast}:queue")).isZero();
        }
    }

    @Test
    void aTaskRedisRefusesFailsAloneWithTheSizeAndOtherPendingWorkGoesOn() throws Exception {
        aTaskOverTheLimitFailsAlone("bigtask", 2_000_000);
    }

    /**
     * Redis answers a bulk over its limit with an error and closes the connection at once; a client still
     * writing a big task sees only its write fail. That alone does not mean Redis failed: it still answers,
     * so only this call fails and other pending work goes on (it used to fail all of them as lost).
     */
    @Test
    void aTaskFarOverRedisLimitFailsAloneEvenWhenRedisDropsTheConnectionMidWrite() throws Exception {
        aTaskOverTheLimitFailsAlone("hugetask", 32_000_000);
    }

    /** A task of {@code bytes} over a 1 MB limit fails at the call, naming its size; a task queued before runs. */
    private static void aTaskOverTheLimitFailsAlone(String name, int bytes) throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPool pool = RedisPool.connect(redis.url(), name)) {
            assertThat(redis.command("CONFIG SET proto-max-bulk-len 1mb")).isEqualTo("+OK");
            CompletableFuture<Integer> first = pool.applyAsync(() -> 1); // no worker: stays queued
            byte[] big = new byte[bytes];
            assertThatThrownBy(() -> pool.applyAsync(() -> big.length)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Integer.toString(bytes).substring(0, 4)).hasMessageContaining("bytes");
            Thread.sleep(2 * RedisPool.MONITOR_PERIOD.toMillis());
            assertThat(first).isNotDone();
            assertThat(llen(redis, "mp:pool:{" + name + "}:queue")).isEqualTo(1);
            try (RedisPoolWorkers w = workers(redis, name, 1)) {
                assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            }
        }
    }

    @Test
    void aWorkerWithTheSamePidAndHostAsADeadOneDoesNotKeepTheDeadOnesChunk() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "reuse", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "reuse")) {
            awaitUntil("a live worker", WAIT, () -> pool.workers().size() == 1);
            String live = pool.workers().getFirst();
            CompletableFuture<Integer> busy = pool.applyAsync(() -> {
                Thread.sleep(600_000);
                return 0;
            });
            awaitUntil("the worker is busy", WAIT, () -> llen(redis, "mp:pool:{reuse}:held:" + live) == 1);
            CompletableFuture<Integer> orphan = pool.applyAsync(() -> 1);
            awaitUntil("the second task queued", WAIT, () -> llen(redis, "mp:pool:{reuse}:queue") == 1);
            // what a worker that had this pid on this host (a container restarted: same pid, same hostname)
            // left when it was killed holding the second task
            String previous = RedisPoolWorker.pidOf(live) + "@" + RedisPoolWorker.host();
            redis.command("RPOPLPUSH mp:pool:{reuse}:queue mp:pool:{reuse}:held:" + previous);
            redis.command("SADD mp:pool:{reuse}:workers " + previous);
            Throwable e = catchThrowable(() -> orphan.get(30, TimeUnit.SECONDS));
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).isInstanceOf(WorkerLostException.class).hasMessageContaining(previous);
            assertThat(busy).isNotDone();
            pool.terminate();
        }
    }

    /**
     * A take whose reply never reached the worker (a connection reset after Redis moved the chunk into
     * the worker's held list, a client timeout and retry): the chunk sits in the held list of a worker
     * that is alive and beating, which used to leave its caller waiting for as long as that worker lived.
     * Simulated exactly: the worker is stopped until its blocked take has timed out in Redis, the chunk
     * is moved as that take would have moved it, and the worker goes on without having seen it.
     */
    @Test
    void aChunkWhoseTakeReplyWasLostIsRunByItsWorker() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = RedisPoolWorkers.start(RedisPool.singleServer(redis.url()), "lost-take", 1, Duration.ofSeconds(30), null);
             RedisPool pool = RedisPool.connect(redis.url(), "lost-take")) {
            awaitUntil("a live worker", WAIT, () -> pool.workers().size() == 1);
            String live = pool.workers().getFirst();
            assertThat(pool.applyAsync(() -> 1).get(30, TimeUnit.SECONDS)).isEqualTo(1); // its loop is up and taking
            long pid = RedisPoolWorker.pidOf(live);
            signal("STOP", pid);
            CompletableFuture<Integer> f;
            try {
                Thread.sleep(RedisPoolWorker.TAKE_WAIT.toMillis() + 1500); // its blocked take times out in Redis
                f = pool.applyAsync(() -> 42);
                awaitUntil("the task queued", WAIT, () -> llen(redis, "mp:pool:{lost-take}:queue") == 1);
                redis.command("RPOPLPUSH mp:pool:{lost-take}:queue mp:pool:{lost-take}:held:" + live);
                assertThat(llen(redis, "mp:pool:{lost-take}:held:" + live)).isEqualTo(1);
            } finally {
                signal("CONT", pid);
            }
            assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(42);
            assertThat(llen(redis, "mp:pool:{lost-take}:held:" + live)).isZero();
            assertThat(pool.workers()).containsExactly(live);
        }
    }

    /**
     * The no-worker bound fails the work pending when it fires; a task another thread submits in that
     * moment is not part of it and must still run once a worker comes. The bound used to remove every
     * queued chunk of this caller from Redis, that task's too, which then never ran nor failed.
     */
    @Test
    void aTaskSubmittedWhileOlderWorkIsFailedForLackOfWorkersStillRuns() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPool pool = RedisPool.builder().url(redis.url()).pool("bound").noWorkerTimeout(Duration.ofSeconds(8)).build()) {
            CountDownLatch failing = new CountDownLatch(1);
            CountDownLatch goOn = new CountDownLatch(1);
            CompletableFuture<Integer> older;
            CompletableFuture<Integer> newer;
            RedisPool.afterFailSnapshot = () -> {
                failing.countDown();
                try {
                    goOn.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            try {
                older = pool.applyAsync(() -> 1); // no worker: the bound fails it
                assertThat(failing.await(30, TimeUnit.SECONDS)).isTrue();
                newer = pool.applyAsync(() -> 2);
                awaitUntil("both queued", WAIT, () -> llen(redis, "mp:pool:{bound}:queue") == 2);
            } finally {
                RedisPool.afterFailSnapshot = null;
                goOn.countDown();
            }
            Throwable e = catchThrowable(() -> older.get(30, TimeUnit.SECONDS));
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("no live worker");
            assertThat(llen(redis, "mp:pool:{bound}:queue")).as("the failed task unqueued, the newer one not").isEqualTo(1);
            // NOTE: within the bound again, which now counts for the newer task
            try (RedisPoolWorkers w = workers(redis, "bound", 1)) {
                assertThat(newer.get(30, TimeUnit.SECONDS)).isEqualTo(2);
            }
        }
    }

    /**
     * Work the no-worker bound fails is completed off the monitor thread: a dependent stage of it that
     * blocks used to stop the monitor (heartbeat, reaping, the bound itself), so later work waited on.
     */
    @Test
    void aBlockingStageOfWorkFailedByTheNoWorkerBoundDoesNotStopTheMonitor() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        try (LocalRedis redis = LocalRedis.start();
             RedisPool pool = RedisPool.builder().url(redis.url()).pool("stall").noWorkerTimeout(Duration.ofSeconds(1)).build()) {
            CompletableFuture<Integer> first = pool.applyAsync(() -> 1); // no worker: the bound fails it
            first.exceptionally(e -> {
                try {
                    never.await();
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                return 0;
            });
            assertThat(first).isNotDone();
            awaitUntil("the first task failed", WAIT, first::isDone);
            CompletableFuture<Integer> second = pool.applyAsync(() -> 2);
            Throwable e = catchThrowable(() -> second.get(30, TimeUnit.SECONDS));
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("no live worker");
        } finally {
            never.countDown();
        }
    }

    @Test
    void aReaperThatDiesBeforeAnsweringADeadWorkersChunkLeavesItForTheNextReaper() throws Exception {
        try (LocalRedis redis = LocalRedis.start(); RedisPool pool = RedisPool.connect(redis.url(), "reaper")) {
            String url = redis.url();
            // a "host" whose supervisor halts after reading its dead worker's held chunk, before answering it
            ChildProcess host = ChildProcess.start(() -> {
                System.setProperty("io.multiproc.redis.test.haltAfterReap", "true");
                try (RedisPoolWorkers w = RedisPoolWorkers.start(RedisPool.singleServer(url), "reaper", 1, LEASE, null)) {
                    w.join();
                }
            });
            try {
                awaitUntil("a live worker", WAIT, () -> pool.workers().size() == 1);
                String worker = pool.workers().getFirst();
                CompletableFuture<Integer> stuck = pool.applyAsync(() -> {
                    Thread.sleep(600_000);
                    return 1;
                });
                awaitUntil("the task is held", WAIT, () -> llen(redis, "mp:pool:{reaper}:held:" + worker) == 1);
                ProcessHandle.of(RedisPoolWorker.pidOf(worker)).orElseThrow().destroyForcibly();
                Throwable e = catchThrowable(() -> stuck.get(30, TimeUnit.SECONDS));
                assertThat(e).isInstanceOf(ExecutionException.class);
                assertThat(e.getCause()).isInstanceOf(WorkerLostException.class).hasMessageContaining(worker);
                awaitUntil("the dead worker is forgotten", WAIT, () -> pool.workers().isEmpty()
                        && redis.command("SCARD mp:pool:{reaper}:workers").equals(":0"));
            } finally {
                host.kill();
            }
        }
    }

    @Test
    void theRepliesOfACallerKilledWithSigkillExpireWithItsHeartbeat() throws Exception {
        try (LocalRedis redis = LocalRedis.start(); RedisPoolWorkers w = workers(redis, "orphan", 1)) {
            String url = redis.url();
            ChildProcess caller = ChildProcess.start(() -> {
                RedisPool pool = RedisPool.connect(url, "orphan");
                pool.applyAsync(() -> {
                    Thread.sleep(3000);
                    return 1;
                });
                Thread.sleep(600_000);
            });
            try {
                awaitUntil("the task is held", WAIT, () -> redis.command("KEYS mp:pool:{orphan}:held:*").equals("*1")
                        && llen(redis, "mp:pool:{orphan}:queue") == 0);
                caller.kill();
                awaitUntil("the reply pushed for the dead caller", WAIT,
                        () -> redis.command("KEYS mp:pool:{orphan}:results:*").equals("*1"));
                awaitUntil("the caller's heartbeat expired", WAIT,
                        () -> redis.command("KEYS mp:pool:{orphan}:caller:*").equals("*0"));
                awaitUntil("its replies are gone too", Duration.ofSeconds(3),
                        () -> redis.command("KEYS mp:pool:{orphan}:results:*").equals("*0"));
            } finally {
                caller.kill();
            }
        }
    }

    @Test
    void workReportedLostWhileRedisDidNotAnswerIsUnqueuedOnceItAnswersAgain() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPool pool = RedisPool.connect(redis.url(), "blip")) {
            CompletableFuture<Integer> f = pool.applyAsync(() -> 1); // no worker: stays queued
            assertThat(llen(redis, "mp:pool:{blip}:queue")).isEqualTo(1);
            signal("STOP", redis.pid());
            Throwable e;
            try {
                e = catchThrowable(() -> f.get(60, TimeUnit.SECONDS));
            } finally {
                signal("CONT", redis.pid());
            }
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("lost");
            // a worker starting now must not run the task its caller was told is lost
            awaitUntil("the lost task is unqueued", Duration.ofSeconds(15), () -> llen(redis, "mp:pool:{blip}:queue") == 0);
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor()).isZero();
    }
}
