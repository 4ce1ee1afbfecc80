package io.multiproc.redis;

import io.multiproc.RemoteException;
import io.multiproc.process.ChildProcess;
import io.multiproc.process.PoolIterator;
import io.multiproc.process.WorkerDiedException;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.config.Config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import io.multiproc.process.SerializableCallable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** A Pool across hosts: worker JVMs (real child processes) and callers meet only through a real redis-server. */
@ExtendWith(ReapChildrenCheckShm.class)
class RedisPoolTest {
    private static final Duration LEASE = Duration.ofSeconds(2);
    private static final Duration WAIT = Duration.ofSeconds(60);
    static final Duration POLL = Duration.ofMillis(50);

    /** {@code n} worker JVMs of {@code pool} on {@code redis} (the other Redis pool tests' too). */
    static RedisPoolWorkers workers(LocalRedis redis, String pool, int n) {
        return RedisPoolWorkers.start(RedisPool.singleServer(redis.url()), pool, n, LEASE, null);
    }

    /** A worker whose pid appears in the pool's live worker list. */
    private static void awaitWorkers(RedisPool pool, int n) throws InterruptedException {
        awaitUntil(n + " live workers in " + pool, () -> pool.workers().size() >= n);
    }

    /** Thread.sleep for a function that may not throw a checked exception. */
    static void nap(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long llen(LocalRedis redis, String key) {
        return Long.parseLong(redis.command("LLEN " + key).substring(1));
    }

    /** Polls {@code condition} (a round trip to Redis, mostly) every 50 ms for at most {@link #WAIT}. */
    static void awaitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        Children.awaitUntil(what, WAIT, POLL, condition);
    }

    @Test
    void aWorkerCountNoKernelCanRunIsRefusedNamingItBeforeConnecting() {
        // nothing listens there: the count is refused first (it connected, then threw OutOfMemoryError with the
        // client's threads left running)
        String nowhere = "redis://127.0.0.1:1";
        assertThatThrownBy(() -> RedisPoolWorkers.start(RedisPool.singleServer(nowhere), "many", Integer.MAX_VALUE, LEASE, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("workers=" + Integer.MAX_VALUE)
                .hasMessageContaining("must be <= " + io.multiproc.process.Pool.MAX_WORKERS);
        assertThatThrownBy(() -> RedisPool.serveWorkers(nowhere, "many", io.multiproc.process.Pool.MAX_WORKERS + 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workers=" + (io.multiproc.process.Pool.MAX_WORKERS + 1));
    }

    @Test
    void mapKeepsOrderAndTwoWorkerJvmsShareTheWork() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "squares", 2);
             RedisPool pool = RedisPool.connect(redis.url(), "squares")) {
            List<Integer> items = IntStream.range(0, 1000).boxed().toList();
            assertThat(pool.map(x -> x * x, items, 10)).isEqualTo(items.stream().map(x -> x * x).toList());
            assertThat(pool.map(x -> x + 1, List.<Integer>of())).isEmpty();
            awaitWorkers(pool, 2);
            assertThat(pool.map(x -> x * 2, items)).isEqualTo(items.stream().map(x -> x * 2).toList()); // default chunk size

            List<Long> pids = pool.map(x -> {
                nap(20);
                return ProcessHandle.current().pid();
            }, IntStream.range(0, 60).boxed().toList(), 1);
            assertThat(new HashSet<>(pids)).containsExactlyInAnyOrderElementsOf(w.workerPids());
            assertThat(w.workerPids()).hasSize(2).doesNotContain(ProcessHandle.current().pid());

            assertThat(pool.applyAsync(() -> "hi from " + ProcessHandle.current().pid()).get(60, TimeUnit.SECONDS))
                    .startsWith("hi from ");
            assertThat(pool.submit((SerializableCallable<Integer>) () -> 42).get(60, TimeUnit.SECONDS)).isEqualTo(42);
            List<SerializableCallable<Integer>> calls = List.of(() -> 1, () -> 2, () -> 3);
            assertThat(pool.invokeAll(calls).stream().map(f -> {
                try {
                    return f.get();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }).toList()).containsExactly(1, 2, 3);
            assertThat(pool.invokeAny(List.<SerializableCallable<Integer>>of(() -> 7))).isEqualTo(7);
            assertThat(pool.mapAsync(x -> -x, List.of(1, 2, 3)).get(60, TimeUnit.SECONDS)).containsExactly(-1, -2, -3);
            // a chunk size near Integer.MAX_VALUE is one chunk (n + chunkSize - 1 overflowed)
            assertThat(pool.mapAsync(x -> -x, List.of(1, 2, 3), Integer.MAX_VALUE).get(60, TimeUnit.SECONDS)).containsExactly(-1, -2, -3);
        }
    }

    /**
     * "My thenApply submits the next step to the same pool and waits for it": the stage runs on the
     * pool's reader thread, which used to be the only one taking this caller's results from Redis, so
     * the wait never ended and every other result of the pool waited behind it.
     */
    @Test
    void aDependentStageThatWaitsForAnotherTaskOfThePoolDoesNotHang() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "stages", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "stages")) {
            awaitWorkers(pool, 1);
            CompletableFuture<Integer> first = pool.applyAsync(() -> {
                nap(500);
                return 20;
            });
            CompletableFuture<Integer> single = first.thenApply(x -> pool.applyAsync(() -> x + 1).join());
            CompletableFuture<List<Integer>> map = first.thenApply(n -> pool.map(x -> x * n, List.of(1, 2, 3)));
            assertThat(first).as("the stages are registered before the reply, so the pool's thread runs them").isNotDone();

            assertThat(single.get(60, TimeUnit.SECONDS)).isEqualTo(21);
            assertThat(map.get(60, TimeUnit.SECONDS)).containsExactly(20, 40, 60);
            assertThat(pool.applyAsync(() -> 7).get(60, TimeUnit.SECONDS)).as("the pool works on").isEqualTo(7);
        }
    }

    @Test
    void imapIsLazyOrderedAndImapUnorderedGivesEveryResult() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "lazy", 2);
             RedisPool pool = RedisPool.connect(redis.url(), "lazy")) {
            // an endless source: only what the window needs is read
            Iterable<Integer> naturals = () -> IntStream.iterate(0, i -> i + 1).iterator();
            PoolIterator<Integer> it = pool.imap(x -> x * 3, naturals, 5);
            List<Integer> first = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                first.add(it.next(WAIT));
            }
            assertThat(first).isEqualTo(IntStream.range(0, 50).map(x -> x * 3).boxed().toList());

            List<Integer> all = new ArrayList<>();
            pool.imapUnordered(x -> x + 1, IntStream.range(0, 100).boxed().toList(), 7).forEachRemaining(all::add);
            assertThat(all).containsExactlyInAnyOrderElementsOf(IntStream.range(1, 101).boxed().toList());

            // a failed chunk is reported in place and iteration goes on
            PoolIterator<Integer> failing = pool.imap(x -> {
                if (x == 2) {
                    throw new IllegalStateException("x=2 is bad");
                }
                return x;
            }, List.of(0, 1, 2, 3), 1);
            assertThat(failing.next()).isZero();
            assertThat(failing.next()).isEqualTo(1);
            assertThatThrownBy(failing::next).isInstanceOf(IllegalStateException.class).hasMessage("x=2 is bad");
            assertThat(failing.next()).isEqualTo(3);
            assertThat(failing.hasNext()).isFalse();
        }
    }

    /** Not constructible from a message: it arrives as RemoteException. */
    public static final class OddException extends RuntimeException {
        public OddException(int code) {
            super("odd " + code);
        }
    }

    @Test
    void taskExceptionsReachTheCallerWithTheirTypeAndTheWorkersTrace() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "errors", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "errors")) {
            Throwable e = catchThrowable(() -> pool.applyAsync(() -> {
                throw new IllegalArgumentException("bad x=3");
            }).get(60, TimeUnit.SECONDS));
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).isInstanceOf(IllegalArgumentException.class).hasMessage("bad x=3");
            assertThat(e.getCause().getStackTrace()[0].getClassName()).startsWith(RedisPoolTest.class.getName());

            // a lambda written at submit is made serializable (the SerializableCallable overload)
            assertThat(pool.submit(() -> "called").get(60, TimeUnit.SECONDS)).isEqualTo("called");
            Throwable odd = catchThrowable(() -> pool.submit(() -> {
                throw new OddException(7);
            }).get(60, TimeUnit.SECONDS));
            assertThat(odd.getCause()).isInstanceOf(RemoteException.class).hasMessageContaining("odd 7")
                    .hasMessageContaining(OddException.class.getName());

            assertThatThrownBy(() -> pool.map(x -> 10 / x, List.of(1, 0, 2), 1))
                    .isInstanceOf(ArithmeticException.class).hasMessageContaining("by zero");
            // the pool goes on
            assertThat(pool.map(x -> 10 / x, List.of(1, 2), 1)).containsExactly(10, 5);
        }
    }

    @Test
    void cancellingAQueuedSubmitWithAResultUnqueuesItsTask() throws Exception {
        try (LocalRedis redis = LocalRedis.start(); RedisPool pool = RedisPool.connect(redis.url(), "cancel")) {
            String queue = "mp:pool:{cancel}:queue";
            Runnable r = (Runnable & java.io.Serializable) () -> { };
            java.util.concurrent.Future<String> f = pool.submit(r, "done");   // no worker runs: it stays queued
            awaitUntil("the task queued", () -> llen(redis, queue) == 1);
            assertThat(f.cancel(true)).isTrue();
            awaitUntil("the cancelled task unqueued", () -> llen(redis, queue) == 0);
            assertThat(f.isCancelled()).isTrue();
        }
    }

    /**
     * "My task threw CancellationException and its future said it was cancelled": the local Pool reports
     * a task's own CancellationException as a failure (ExecutionException), as CompletableFuture.supplyAsync
     * does; the Redis pool set it as is.
     */
    @Test
    void aTaskThatThrowsCancellationExceptionFailsItsFutureInsteadOfLookingCancelled() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "cancels", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "cancels")) {
            CompletableFuture<Object> f = pool.applyAsync(() -> {
                throw new CancellationException("the task's own");
            });
            Throwable t = catchThrowable(() -> f.get(60, TimeUnit.SECONDS));
            assertThat(t).isInstanceOf(ExecutionException.class);
            assertThat(t.getCause()).isInstanceOf(CancellationException.class).hasMessageContaining("the task's own");
            assertThat(f.isCancelled()).isFalse();
            assertThat(f.state()).isEqualTo(java.util.concurrent.Future.State.FAILED);
        }
    }

    /**
     * "A thread that was interrupted submitted to the pool, and every pending task of the pool failed
     * with 'Redis failed'": the submit's Redis call threw for the interrupt, which the pool took for
     * Redis failing. A JDK executor's submit ignores the caller's interrupt.
     */
    @Test
    void anInterruptedThreadCanSubmitAndTheOtherPendingTasksGoOn() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "interrupted", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "interrupted")) {
            CompletableFuture<Integer> other = pool.applyAsync(() -> {
                nap(500);
                return 1;
            });
            CompletableFuture<Integer> mine;
            Thread.currentThread().interrupt();
            try {
                mine = pool.applyAsync(() -> 2);
                assertThat(Thread.currentThread().isInterrupted()).as("the caller's interrupt stays set").isTrue();
            } finally {
                Thread.interrupted();
            }
            assertThat(mine.get(60, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(other.get(60, TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    @Test
    void badInputFailsAtTheCallNamingTheValue() throws Exception {
        try (LocalRedis redis = LocalRedis.start(); RedisPool pool = RedisPool.connect(redis.url(), "input")) {
            assertThatThrownBy(() -> pool.map(x -> x, List.of(1), 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("chunkSize=0");
            Object notSerializable = new Object();
            assertThatThrownBy(() -> pool.applyAsync(() -> notSerializable.hashCode()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.lang.Object");
            assertThatThrownBy(() -> RedisPool.connect(redis.url(), "no spaces"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pool=no spaces");
        }
        Config dead = new Config();
        dead.useSingleServer().setAddress("redis://127.0.0.1:1").setConnectTimeout(500).setRetryAttempts(0);
        assertThatThrownBy(() -> RedisPool.connect(dead, "nobody")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("127.0.0.1:1");
    }

    @Test
    void aWorkerKilledInTheMiddleOfAMapFailsItWithWorkerDiedExceptionAndIsReplaced() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "kill", 2);
             RedisPool pool = RedisPool.connect(redis.url(), "kill")) {
            awaitWorkers(pool, 2);
            List<Integer> items = IntStream.range(0, 10_000).boxed().toList();
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> {
                nap(1);
                return x;
            }, items, 100);
            awaitUntil("both workers are busy", () -> llen(redis, "mp:pool:{kill}:queue") <= 96);
            long victim = w.workerPids().getFirst();
            long killedAt = System.nanoTime();
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();
            Throwable e = catchThrowable(() -> map.get(60, TimeUnit.SECONDS));
            long millis = (System.nanoTime() - killedAt) / 1_000_000;
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).isInstanceOf(WorkerDiedException.class).hasMessageContaining("pid=" + victim)
                    .hasMessageContaining("SIGKILL");
            WorkerDiedException died = (WorkerDiedException) e.getCause();
            assertThat(died.pid()).isEqualTo(victim);
            assertThat(died.exitCode()).isEqualTo(-9);
            assertThat(millis).as("ms from SIGKILL to the failure").isLessThan(10_000);
            System.out.printf("worker SIGKILLed: map failed after %d ms%n", millis);
            // the failed map's queued chunks are gone, and a replacement takes work
            awaitUntil("the queue is empty", () -> redis.command("LLEN mp:pool:{kill}:queue").equals(":0"));
            awaitUntil("a replacement worker", () -> w.workerPids().size() == 2 && !w.workerPids().contains(victim));
            assertThat(pool.map(x -> x + 1, items, 500)).isEqualTo(IntStream.range(1, 10_001).boxed().toList());
        }
    }

    @Test
    void aWorkerHostThatDiesIsNoticedThroughItsHeartbeat() throws Exception {
        try (LocalRedis redis = LocalRedis.start(); RedisPool pool = RedisPool.connect(redis.url(), "host")) {
            String url = redis.url();
            // a "host": a supervisor JVM with one worker JVM; SIGKILL takes both (parent-death signal)
            ChildProcess host = ChildProcess.start(() -> {
                try (RedisPoolWorkers w = RedisPoolWorkers.start(RedisPool.singleServer(url), "host", 1,
                        Duration.ofSeconds(2), null)) {
                    w.join();
                }
            });
            try {
                awaitWorkers(pool, 1);
                String worker = pool.workers().getFirst();
                CompletableFuture<Integer> stuck = pool.applyAsync(() -> {
                    Thread.sleep(600_000);
                    return 1;
                });
                awaitUntil("the task is held", () -> redis.command("LLEN mp:pool:{host}:held:" + worker).equals(":1"));
                host.kill();
                long killedAt = System.nanoTime();
                Throwable e = catchThrowable(() -> stuck.get(60, TimeUnit.SECONDS));
                System.out.printf("worker host SIGKILLed (lease 2 s): task failed after %d ms%n",
                        (System.nanoTime() - killedAt) / 1_000_000);
                assertThat(e.getCause()).isInstanceOf(WorkerLostException.class).hasMessageContaining(worker)
                        .hasMessageContaining("heartbeats");
                assertThat(((WorkerLostException) e.getCause()).pid()).isEqualTo(RedisPoolWorker.pidOf(worker));
                awaitUntil("the dead worker is forgotten", () -> pool.workers().isEmpty());
            } finally {
                host.kill();
            }
        }
    }

    @Test
    void withoutWorkersTimedCallsReturnAndPendingWorkFailsAfterTheBound() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPool pool = RedisPool.builder().url(redis.url()).pool("empty").noWorkerTimeout(Duration.ofSeconds(2)).build()) {
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> x, List.of(1, 2, 3));
            assertThatThrownBy(() -> map.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            PoolIterator<Integer> it = pool.imap(x -> x, List.of(1));
            assertThatThrownBy(() -> it.next(Duration.ofMillis(300))).isInstanceOf(TimeoutException.class);
            long start = System.nanoTime();
            assertThatThrownBy(() -> pool.map(x -> x, List.of(1, 2))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no live worker").hasMessageContaining("multiproc worker --redis");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
            assertThat(redis.command("LLEN mp:pool:{empty}:queue")).isEqualTo(":0");
        }
    }

    @Test
    void anImapReadsOnAfterShutdownAndCloseEndsAnEndlessOneAsTheLocalPoolDoes() throws Exception {
        try (LocalRedis redis = LocalRedis.start(); RedisPoolWorkers w = workers(redis, "ends", 1)) {
            RedisPool pool = RedisPool.connect(redis.url(), "ends");
            PoolIterator<Integer> it = pool.imap(x -> x * 2, IntStream.range(0, 200).boxed().toList(), 5);
            assertThat(it.next(WAIT)).isZero();
            pool.shutdown();   // Python's close(): what was submitted still runs, the imap reads on
            for (int i = 1; i < 200; i++) {
                assertThat(it.next(WAIT)).isEqualTo(2 * i);
            }
            assertThat(it.hasNext()).isFalse();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
            pool.close();

            java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
            Iterable<Long> endless = () -> java.util.stream.LongStream.iterate(0, i -> i + 1).peek(i -> read.incrementAndGet()).iterator();
            RedisPool p2 = RedisPool.connect(redis.url(), "ends");
            PoolIterator<Long> e = p2.imap(x -> x + 1, endless, 5);
            PoolIterator<Long> unread = p2.imap(x -> x, endless, 5);   // never read: must not hold close() either
            for (long i = 0; i < 20; i++) {
                assertThat(e.next(WAIT)).isEqualTo(i + 1);
            }
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(WAIT, p2::close,
                    "close() waited for an endless input that nobody reads");
            assertThat(p2.isTerminated()).isTrue();
            long readAtClose = read.get();
            long i = 20;
            while (true) {   // the items read before close() still give their results, in order
                Long next;
                try {
                    next = e.next(WAIT);
                } catch (CancellationException ended) {
                    assertThat(ended).hasMessageContaining("closed");
                    break;
                }
                assertThat(next).isEqualTo(++i);
            }
            assertThatThrownBy(unread::next).isInstanceOf(CancellationException.class).hasMessageContaining("closed");
            assertThat(read.get()).as("input read after close()").isEqualTo(readAtClose);
        }
    }

    @Test
    void shutdownLetsPendingWorkFinishAndTerminateFailsItAtOnce() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            RedisPool pool = RedisPool.connect(redis.url(), "life");
            List<CompletableFuture<Integer>> queued = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                int v = i;
                queued.add(pool.applyAsync(() -> v));
            }
            assertThat(redis.command("LLEN mp:pool:{life}:queue")).isEqualTo(":10000");
            long start = System.nanoTime();
            pool.terminate();
            for (CompletableFuture<Integer> f : queued) {
                assertThat(f).isCompletedExceptionally();
                assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(redis.command("LLEN mp:pool:{life}:queue")).isEqualTo(":0");
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> pool.applyAsync(() -> 1)).isInstanceOf(RejectedExecutionException.class);
            pool.close();

            try (RedisPoolWorkers w = workers(redis, "life", 1)) {
                RedisPool p2 = RedisPool.connect(redis.url(), "life");
                CompletableFuture<Integer> slow = p2.applyAsync(() -> {
                    Thread.sleep(500);
                    return 5;
                });
                p2.shutdown();
                assertThat(p2.isShutdown()).isTrue();
                assertThatThrownBy(() -> p2.map(x -> x, List.of(1))).isInstanceOf(RejectedExecutionException.class);
                assertThat(p2.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
                assertThat(slow.get()).isEqualTo(5);
                p2.close();
                assertThat(p2.isTerminated()).isTrue();
            }
        }
    }

    @Test
    void redisKilledInTheMiddleOfAMapFailsItWithAClearExceptionAndThePoolServesAgainAfterARestart() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPoolWorkers w = workers(redis, "crash", 1);
             RedisPool pool = RedisPool.connect(redis.url(), "crash")) {
            awaitWorkers(pool, 1);
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> {
                nap(10);
                return x;
            }, IntStream.range(0, 2000).boxed().toList(), 10);
            Thread.sleep(300);
            redis.kill();
            long killedAt = System.nanoTime();
            Throwable e = catchThrowable(() -> map.get(120, TimeUnit.SECONDS));
            long failedMs = (System.nanoTime() - killedAt) / 1_000_000;
            assertThat(e).isInstanceOf(ExecutionException.class);
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessageContaining(redis.url());
            // while it is down, a new call fails at the call, naming the address
            long callAt = System.nanoTime();
            assertThatThrownBy(() -> pool.map(x -> x, List.of(1, 2))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(redis.url());
            System.out.printf("redis killed: pending map failed after %d ms, a new map after %d ms%n",
                    failedMs, (System.nanoTime() - callAt) / 1_000_000);

            redis.restart();
            awaitWorkers(pool, 1);
            assertThat(mapAfterRestart(pool)).containsExactly(10, 20, 30);
        }
    }

    /**
     * The restarted server has none of this caller's keys: work submitted before the pool's monitor has
     * noticed that (within one monitor period) fails with the clear "lost" exception, as the README says;
     * after that the pool serves again.
     */
    private static List<Integer> mapAfterRestart(RedisPool pool) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return pool.map(x -> x * 10, List.of(1, 2, 3), 1);
            } catch (IllegalStateException lost) {
                assertThat(lost).hasMessageContaining("lost this caller's queued chunks");
                if (System.nanoTime() > deadline) {
                    throw lost;
                }
                Thread.sleep(RedisPool.MONITOR_PERIOD.toMillis());
            }
        }
    }

    @Test
    void redisRestartedWithoutItsDataFailsPendingWorkPromptly() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisPool pool = RedisPool.connect(redis.url(), "amnesia")) {
            CompletableFuture<Integer> f = pool.applyAsync(() -> 1); // no worker: stays queued
            redis.restart();
            Throwable e = catchThrowable(() -> f.get(120, TimeUnit.SECONDS));
            assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessageContaining(redis.url());
            Set<String> none = new HashSet<>(pool.workers());
            assertThat(none).isEmpty();
        }
    }
}
