package io.multiproc.process;

import io.multiproc.RemoteException;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static io.multiproc.testing.Children.TIMEOUT;
import static io.multiproc.testing.Children.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Pool} with real worker JVMs: maps, lazy maps, single tasks, the ExecutorService contract,
 * failures travelling back, and lifetime. Worker deaths are in {@link PoolWorkerDeathTest}.
 *
 * <p>Tasks are lambdas that capture only locals (never {@code this}), so they serialize.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class PoolTest {
    private static final long SECONDS = TIMEOUT.toSeconds();

    // ---- creating

    @Test
    void poolOfZeroOrNegativeWorkersIsRejectedNamingTheValue() {
        assertThatThrownBy(() -> Pool.create(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("workers=0");
        assertThatThrownBy(() -> Pool.create(-3)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("workers=-3");
        assertThatThrownBy(() -> Pool.builder().maxTasksPerChild(-1)).hasMessageContaining("maxTasksPerChild=-1");
    }

    @Test
    void defaultChunkSizeIsCPythons() {
        assertThat(Pool.defaultChunkSize(1_000_000, 2)).isEqualTo(125_000);
        assertThat(Pool.defaultChunkSize(10, 4)).isEqualTo(1);
        assertThat(Pool.defaultChunkSize(17, 2)).isEqualTo(3);
        assertThat(Pool.defaultChunkSize(0, 2)).isEqualTo(1);
    }

    @Test
    void createWithoutCountHasOneWorkerPerCpu() {
        try (Pool pool = Pool.create()) {
            assertThat(pool.workers()).isEqualTo(io.multiproc.Multiproc.cpuCount());
        }
    }

    @Test
    void createReturnsAtOnceAndTasksQueueWhileTheWorkersBoot() throws Exception {
        long t0 = System.nanoTime();
        // four cold JVMs (JVM options: no spares); a machine boots them a core's worth at a time
        try (Pool pool = Pool.builder().workers(4).jvmOptions(List.of("-Dpool.test.cold=on")).build()) {
            long created = System.nanoTime() - t0;
            CompletableFuture<Integer> queued = pool.applyAsync(() -> 42);
            List<Integer> squares = pool.map(x -> x * x, List.of(1, 2, 3));
            assertThat(pool.awaitReady(TIMEOUT)).isTrue();
            long ready = System.nanoTime() - t0;
            assertThat(queued.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(42);
            assertThat(squares).containsExactly(1, 4, 9);
            assertThat(created).as("create took %d ms, the workers were ready after %d ms", created / 1_000_000, ready / 1_000_000)
                    .isLessThan(ready / 10);
        }
    }

    @Test
    void jvmOptionsReachTheWorkersAndACodecMustBeSerializable() throws Exception {
        try (Pool pool = Pool.builder().workers(1).jvmOptions(List.of("-Dpool.test.option=on")).build()) {
            assertThat(pool.applyAsync(() -> System.getProperty("pool.test.option")).get(SECONDS, TimeUnit.SECONDS)).isEqualTo("on");
        }
        io.multiproc.codec.Codec local = new io.multiproc.codec.Codec() {
            @Override
            public void encode(Object value, io.multiproc.codec.ByteSink out) {
            }

            @Override
            public Object decode(io.multiproc.codec.ByteSource in) {
                return null;
            }
        };
        assertThatThrownBy(() -> Pool.builder().codec(local)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be Serializable");
    }

    // ---- maps

    @Test
    void mapKeepsOrderWithAnyChunkSizeAndEmptyInputWorks() {
        List<Integer> items = IntStream.range(0, 1000).boxed().toList();
        List<Integer> squares = items.stream().map(x -> x * x).toList();
        try (Pool pool = Pool.create(2)) {
            assertThat(pool.map(x -> x * x, items)).isEqualTo(squares);
            assertThat(pool.map(x -> x * x, items, 7)).isEqualTo(squares);
            assertThat(pool.map(x -> x * x, items, 5000)).isEqualTo(squares);
            assertThat(pool.map(x -> x * x, List.<Integer>of())).isEmpty();
            assertThatThrownBy(() -> pool.map(x -> x, items, 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("chunkSize=0");
        }
    }

    @Test
    void aChunkSizeLargerThanTheInputIsOneChunkEvenNearIntegerMaxValue() throws Exception {
        try (Pool pool = Pool.create(1)) {
            // n + chunkSize - 1 overflowed: no chunk was sent and the map waited forever
            assertThat(pool.mapAsync(x -> x * 2, List.of(1, 2), Integer.MAX_VALUE).get(SECONDS, TimeUnit.SECONDS)).containsExactly(2, 4);
            assertThat(pool.mapAsync(x -> x * 2, List.of(1, 2, 3), Integer.MAX_VALUE - 1).get(SECONDS, TimeUnit.SECONDS)).containsExactly(2, 4, 6);
            List<Integer> it = new ArrayList<>();
            pool.imap(x -> x * 2, List.of(1, 2, 3), Integer.MAX_VALUE).forEachRemaining(it::add);
            assertThat(it).containsExactly(2, 4, 6);
        }
    }

    @Test
    void mapAsyncCompletesWithTheResultsAndStarmapStyleWorksWithRecords() throws Exception {
        record Pair(int a, int b) implements java.io.Serializable { }
        try (Pool pool = Pool.create(2)) {
            CompletableFuture<List<Integer>> f = pool.mapAsync(p -> p.a() * p.b(), List.of(new Pair(2, 3), new Pair(4, 5)));
            assertThat(f.get(SECONDS, TimeUnit.SECONDS)).containsExactly(6, 20);
            assertThat(pool.map(e -> e.getKey() + e.getValue(), List.of(new AbstractMap.SimpleImmutableEntry<>("a", 1), new AbstractMap.SimpleImmutableEntry<>("b", 2))))
                    .containsExactly("a1", "b2");
        }
    }

    /**
     * Starmap over {@code Map.entry} pairs or a map's own entries, and functions that return an Optional,
     * as Java code writes them (neither is Serializable; the built-in codec writes both).
     */
    @Test
    void mapTakesMapEntriesAndReturnsOptionals() throws Exception {
        java.util.Map<String, Integer> stock = new java.util.HashMap<>(java.util.Map.of("a", 1, "b", 0));
        try (Pool pool = Pool.create(1)) {
            assertThat(pool.map(e -> e.getKey() + e.getValue(), List.of(java.util.Map.entry("a", 1), java.util.Map.entry("b", 2))))
                    .containsExactly("a1", "b2");
            List<java.util.Map.Entry<String, Integer>> entries = new java.util.ArrayList<>(stock.entrySet());
            List<java.util.Optional<String>> inStock = pool.map(e -> e.getValue() > 0 ? java.util.Optional.of(e.getKey())
                    : java.util.Optional.empty(), entries);
            for (int i = 0; i < entries.size(); i++) {
                java.util.Map.Entry<String, Integer> e = entries.get(i);
                assertThat(inStock.get(i)).isEqualTo(e.getValue() > 0 ? java.util.Optional.of(e.getKey()) : java.util.Optional.empty());
            }
            java.util.Optional<String> wanted = java.util.Optional.of("a");
            assertThat(pool.applyAsync(() -> wanted.map(stock::get)).get(SECONDS, TimeUnit.SECONDS)).contains(1);
            assertThat(pool.map(xs -> java.util.Arrays.stream(xs).max(), List.of(new int[] {3, 9, 4}, new int[0])))
                    .containsExactly(java.util.OptionalInt.of(9), java.util.OptionalInt.empty());
            java.util.OptionalLong limit = java.util.OptionalLong.of(5);   // captured: JDK serialization carries it
            java.util.OptionalDouble none = java.util.OptionalDouble.empty();
            assertThat(pool.applyAsync(() -> limit.getAsLong() * 2 + (none.isPresent() ? 1 : 0)).get(SECONDS, TimeUnit.SECONDS))
                    .isEqualTo(10L);
        }
    }

    /** 0, 1, 2, ... for ever; {@code read} counts the items taken. */
    private static Iterable<Long> endless(AtomicLong read) {
        return () -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Long next() {
                return read.getAndIncrement();
            }
        };
    }

    @Test
    void imapReadsAnEndlessInputOnlyAsWorkersNeedIt() throws Exception {
        AtomicLong read = new AtomicLong();
        Iterable<Long> endless = endless(read);
        try (Pool pool = Pool.create(2)) {
            PoolIterator<Long> it = pool.imap(x -> x + 1, endless, 10);
            for (long i = 0; i < 500; i++) {
                assertThat(it.next(TIMEOUT)).isEqualTo(i + 1);
            }
            Thread.sleep(200);
            assertThat(read.get()).as("items read from the endless input").isLessThan(500 + 20 * 10 + 10);
            pool.terminate();
        }
    }

    @Test
    void closingAPoolInTheMiddleOfAnEndlessImapReturnsAndEndsTheIteratorInsteadOfWaitingForever() {
        AtomicLong read = new AtomicLong();
        Iterable<Long> endless = endless(read);
        Pool pool = Pool.create(2);
        PoolIterator<Long> it = pool.imap(x -> x + 1, endless, 10);
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(SECONDS), () -> {
            try (pool) {   // what a user writes: read a few, leave the try
                for (long i = 0; i < 50; i++) {
                    assertThat(it.next(TIMEOUT)).isEqualTo(i + 1);
                }
            }
        }, "close() waited for an endless input that nobody reads");
        assertThat(pool.isTerminated()).isTrue();
        long readAtClose = read.get();
        long i = 50;
        while (true) {   // the chunks made before close() still give their results, in order; then the end
            Long next;
            try {
                next = it.next();
            } catch (CancellationException ended) {
                assertThat(ended).hasMessageContaining("closed");
                break;
            }
            assertThat(next).isEqualTo(++i);
            assertThat(i).as("results past what was read").isLessThanOrEqualTo(readAtClose);
        }
        assertThat(read.get()).as("input read after close()").isEqualTo(readAtClose);
    }

    @Test
    void anImapReadToTheEndAfterShutdownGivesEveryResult() throws Exception {
        try (Pool pool = Pool.create(2)) {
            PoolIterator<Integer> it = pool.imap(x -> x * 2, IntStream.range(0, 2_000).boxed().toList(), 5);
            assertThat(it.next(TIMEOUT)).isZero();
            pool.shutdown();   // Python's close(): what was submitted still runs
            for (int i = 1; i < 2_000; i++) {
                assertThat(it.next(TIMEOUT)).isEqualTo(2 * i);
            }
            assertThat(it.hasNext()).isFalse();
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void closingAfterAnImapWasReadToTheEndReportsNothingMore() {
        PoolIterator<Integer> it;
        try (Pool pool = Pool.create(1)) {
            it = pool.imap(x -> x * 2, List.of(1, 2, 3));
            List<Integer> got = new ArrayList<>();
            it.forEachRemaining(got::add);
            assertThat(got).containsExactly(2, 4, 6);
        }
        assertThat(it.hasNext()).isFalse();
    }

    /** Serializable, but its writeObject throws an unchecked exception: it cannot be sent. */
    static final class Unsendable implements java.io.Serializable {
        private void writeObject(java.io.ObjectOutputStream out) {
            throw new IllegalStateException("this item refuses to be written");
        }
    }

    @Test
    void anImapItemThatFailsToEncodeFailsItsOwnResultInsteadOfHangingTheIterator() {
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            items.add(i == 6 ? new Unsendable() : (Object) i);
        }
        try (Pool pool = Pool.create(1)) {
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(SECONDS), () -> {
                PoolIterator<Object> it = pool.imap(x -> x, items);
                for (int i = 0; i < 6; i++) {
                    assertThat(it.next()).isEqualTo(i);
                }
                assertThatThrownBy(it::next).hasRootCauseMessage("this item refuses to be written");
                for (int i = 7; i < 10; i++) {
                    assertThat(it.next()).isEqualTo(i);
                }
                assertThat(it.hasNext()).isFalse();
            });
            assertThat(pool.map(x -> x * 2, List.of(1, 2, 3))).containsExactly(2, 4, 6);
        }
    }

    @Test
    void imapNextWithTimeoutThrowsTimeoutExceptionThenGetsTheResult() throws Exception {
        try (Pool pool = Pool.create(1)) {
            PoolIterator<Integer> it = pool.imap(x -> {
                sleep(1500);
                return x * 2;
            }, List.of(21));
            assertThatThrownBy(() -> it.next(Duration.ofMillis(100))).isInstanceOf(TimeoutException.class)
                    .as("names the timeout it waited, as a pipe's recv does").hasMessageContaining("timeout=PT0.1S");
            assertThat(it.next(TIMEOUT)).isEqualTo(42);
            assertThat(it.hasNext()).isFalse();
        }
    }

    /** Throws {@code t} unchecked, as Kotlin code and Lombok's {@code @SneakyThrows} do. */
    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }

    @Test
    void anImapsInputThrowingACheckedExceptionSneakilyReachesTheConsumerAndThePoolStillTerminates() throws Exception {
        Pool pool = Pool.create(1);
        try {
            PoolIterator<Integer> it = pool.imap(x -> x, () -> new Iterator<Integer>() {
                private int i;

                @Override
                public boolean hasNext() {
                    return true;
                }

                @Override
                public Integer next() {
                    if (i == 3) {
                        throw sneaky(new java.io.IOException("the input's file went away"));
                    }
                    return i++;
                }
            }, 1);
            assertThat(it.next(Duration.ofSeconds(30))).isZero();
            assertThat(it.next(Duration.ofSeconds(30))).isEqualTo(1);
            assertThat(it.next(Duration.ofSeconds(30))).isEqualTo(2);
            assertThatThrownBy(() -> it.next(Duration.ofSeconds(30))).hasRootCauseInstanceOf(java.io.IOException.class)
                    .hasStackTraceContaining("the input's file went away");
            pool.shutdown();
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        } finally {
            pool.terminate();
        }
    }

    @Test
    void aPoolWithAnImapOfAnEmptyInputShutsDownAndTerminates() throws Exception {
        Pool pool = Pool.create(1);
        try {
            PoolIterator<Integer> it = pool.imap(x -> x, List.<Integer>of());
            assertThat(it.hasNext()).isFalse();
            PoolIterator<Integer> failing = pool.imap(x -> x, () -> new Iterator<Integer>() {
                @Override
                public boolean hasNext() {
                    throw new IllegalStateException("no input today");
                }

                @Override
                public Integer next() {
                    throw new AssertionError();
                }
            });
            assertThatThrownBy(failing::next).isInstanceOf(IllegalStateException.class).hasMessageContaining("no input today");
            pool.shutdown();
            // an input that ended without a chunk left its feed behind, and idle workers waited for it
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        } finally {
            pool.terminate();
        }
    }

    @Test
    void anImapCanReadAnotherImapOfTheSamePool() throws Exception {
        try (Pool pool = Pool.create(2)) {
            CompletableFuture<List<Integer>> out = CompletableFuture.supplyAsync(() -> {
                PoolIterator<Integer> a = pool.imap(x -> x + 1, IntStream.range(0, 100).boxed().toList());
                PoolIterator<Integer> b = pool.imap(x -> x * 10, () -> a);
                List<Integer> all = new ArrayList<>();
                b.forEachRemaining(all::add);
                return all;
            });
            // Python's habit of chaining imaps. Before, the pool read b's input (a) under its lock: a's
            // results could not arrive, and the pool, its readers and terminate() all hung.
            assertThat(out.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(IntStream.range(0, 100).map(x -> (x + 1) * 10).boxed().toList());
        }
    }

    @Test
    void anImapWhoseInputBlocksDoesNotStallTheRestOfThePool() throws Exception {
        java.util.concurrent.BlockingQueue<Integer> feed = new java.util.concurrent.LinkedBlockingQueue<>();
        Iterable<Integer> blocking = () -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                try {
                    return feed.take();
                } catch (InterruptedException e) {
                    throw new CancellationException("interrupted");
                }
            }
        };
        try (Pool pool = Pool.create(1)) {
            feed.add(1);
            PoolIterator<Integer> it = pool.imap(x -> x * 2, blocking);
            assertThat(it.next(TIMEOUT)).isEqualTo(2);
            // the imap's input now waits for an item: other work goes on, and terminate() ends at once
            assertThat(pool.applyAsync(() -> 42).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(42);
            CompletableFuture<Void> terminated = CompletableFuture.runAsync(pool::terminate);
            terminated.get(SECONDS, TimeUnit.SECONDS);
        } finally {
            feed.add(0); // a reader still in next() returns
        }
    }

    @Test
    void imapUnorderedReturnsEveryResultOnce() {
        try (Pool pool = Pool.create(2)) {
            List<Integer> out = new ArrayList<>();
            pool.<Integer, Integer>imapUnordered(x -> x * 3, IntStream.range(0, 300).boxed().toList(), 7).forEachRemaining(out::add);
            assertThat(out).containsExactlyInAnyOrderElementsOf(IntStream.range(0, 300).map(x -> x * 3).boxed().toList());
        }
    }

    @Test
    void progressCallbackSeesCompletedOutOfTotal() {
        List<long[]> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Pool pool = Pool.create(2)) {
            pool.map(x -> x, IntStream.range(0, 100).boxed().toList(), 10, (done, total) -> seen.add(new long[] {done, total}));
        }
        assertThat(seen).hasSize(10);
        assertThat(seen).allSatisfy(p -> assertThat(p[1]).isEqualTo(100));
        assertThat(seen.stream().mapToLong(p -> p[0]).max().orElseThrow()).isEqualTo(100);
        assertThat(Progress.ConsoleBar.line("sq", 50, 100)).isEqualTo("sq [###############               ] 50% 50/100");
    }

    @Test
    void progressNeverGoesBackwardsAndEndsBeforeTheMapReturns() throws Exception {
        List<Long> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Pool pool = Pool.create(2)) {
            // an even count's callback takes longer: two readers' callbacks overlapping then record out of order
            pool.map(x -> x, IntStream.range(0, 400).boxed().toList(), 1, (done, total) -> {
                if (done % 2 == 0) {
                    sleep(2);
                }
                seen.add(done);
            });
            List<Long> atReturn = List.copyOf(seen);
            Thread.sleep(100);
            assertThat(seen).as("callbacks after map() returned").isEqualTo(atReturn);
        }
        assertThat(seen).isSorted().doesNotHaveDuplicates().hasSize(400).endsWith(400L);
    }

    @Test
    void aProgressCallbackThatThrowsFailsItsMapWithThatErrorAndThePoolAndItsWorkersGoOn() throws Exception {
        try (Pool pool = Pool.create(2)) {
            pool.awaitReady(TIMEOUT);
            List<Long> pids = pool.workerPids();
            List<Integer> items = IntStream.range(0, 100).boxed().toList();
            // thrown at the last chunk too: the map must still end, with the callback's error as its cause
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> x, items, 10, (done, total) -> {
                throw new IllegalStateException("progress bar broke at " + done);
            });
            assertThatThrownBy(() -> map.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(IllegalStateException.class).hasMessageStartingWith("progress bar broke at");
            // the same workers answer the next map: none was taken for dead
            assertThat(pool.map(x -> x + 1, items, 10)).hasSize(100).startsWith(1, 2, 3);
            assertThat(pool.workerPids()).containsExactlyInAnyOrderElementsOf(pids);
        }
    }

    // ---- single tasks and the ExecutorService contract

    @Test
    void applyAsyncSubmitInvokeAllInvokeAnyAndExecuteRunInWorkers() throws Exception {
        long me = ProcessHandle.current().pid();
        try (Pool pool = Pool.create(2); SharedLong ran = SharedLong.create(0)) {
            long pid = pool.applyAsync(() -> ProcessHandle.current().pid()).get(SECONDS, TimeUnit.SECONDS);
            assertThat(pid).isNotEqualTo(me).isIn(pool.workerPids());

            Callable<String> c = (Callable<String> & java.io.Serializable) () -> "called";
            assertThat(pool.submit(c).get(SECONDS, TimeUnit.SECONDS)).isEqualTo("called");
            Runnable r = (Runnable & java.io.Serializable) ran::incrementAndGet;
            assertThat(pool.submit(r).get(SECONDS, TimeUnit.SECONDS)).isNull();
            assertThat(pool.submit(r, "given").get(SECONDS, TimeUnit.SECONDS)).isEqualTo("given");
            pool.execute(r);
            awaitUntil("the executed task ran", () -> ran.get() == 3);

            List<Callable<Integer>> tasks = List.of(serializable(() -> 1), serializable(() -> 2), serializable(() -> 3));
            assertThat(pool.invokeAll(tasks)).extracting(Future::resultNow).containsExactly(1, 2, 3);
            assertThat(pool.invokeAny(List.of(serializable(() -> { throw new IllegalStateException("no"); }),
                    serializable(() -> 7)))).isEqualTo(7);
        }
    }

    @Test
    void anInterruptedInvokeAllCancelsItsTasks() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong started = SharedLong.create(0)) {
            List<Callable<Integer>> slow = List.of(serializable(() -> {
                started.incrementAndGet();
                Thread.sleep(120_000);
                return 1;
            }), serializable(() -> {
                started.incrementAndGet();
                Thread.sleep(120_000);
                return 2;
            }));
            Thread caller = Thread.currentThread();
            Thread interrupter = Thread.ofPlatform().start(() -> {
                try {
                    awaitUntil("the first task runs", () -> started.get() == 1);
                } catch (InterruptedException e) {
                    return;
                }
                caller.interrupt();
            });
            try {
                assertThatThrownBy(() -> pool.invokeAll(slow)).isInstanceOf(InterruptedException.class);
            } finally {
                interrupter.join();
                Thread.interrupted();
            }
            // ExecutorService.invokeAll: "if interrupted while waiting, unfinished tasks are cancelled". Before,
            // both kept the only worker for two minutes and this call waited behind them.
            assertThat(pool.applyAsync(() -> 42).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(42);
            assertThat(started.get()).isEqualTo(1);
        }
    }

    @Test
    void invokeAnyWhoseTasksAreAllCancelledThrowsExecutionException() throws Exception {
        try (SharedLong started = SharedLong.create(0)) {
            Pool pool = Pool.create(1);
            try {
                List<Callable<Integer>> slow = List.of(serializable(() -> {
                    started.incrementAndGet();
                    Thread.sleep(120_000);
                    return 1;
                }));
                CompletableFuture<Object> outcome = new CompletableFuture<>();
                Thread.ofPlatform().start(() -> {
                    try {
                        outcome.complete(pool.invokeAny(slow));
                    } catch (Throwable t) {
                        outcome.complete(t);
                    }
                });
                awaitUntil("the task runs", () -> started.get() == 1);
                pool.terminate();
                // the contract's "if no task successfully completes": ExecutionException, not CancellationException
                assertThat(outcome.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
            } finally {
                pool.terminate();
                assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue(); // the killed worker held `started`
            }
        }
    }

    /**
     * A caller blocked in {@code get()} on a tiny task reads its own reply (no hand-off through the
     * pool's reader thread): a dependent registered before completion runs inside the completing
     * call, so its stack shows who received the reply. Only round trips still running after the
     * dependent was registered count. Under load a reply may come after the caller's spin and the
     * reader thread then receives it (on a loaded 2-core machine, 50 of 299), so this asks for some,
     * not most: a pool whose callers never read their own replies gets none.
     */
    @Test
    void callerWaitingOnATinyTaskReceivesItsReplyItself() throws Exception {
        try (Pool pool = Pool.create(1)) {
            assertThat(pool.applyAsync(() -> 0).get(SECONDS, TimeUnit.SECONDS)).isZero();
            int counted = 0;
            int byCaller = 0;
            for (int i = 0; i < 300; i++) {
                int n = i;
                CompletableFuture<Integer> f = pool.applyAsync(() -> n + 1);
                CompletableFuture<Boolean> receivedByCaller = f.thenApply(v -> receivedInAttend());
                boolean registeredFirst = !f.isDone();
                assertThat(f.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(n + 1);
                if (registeredFirst) {
                    counted++;
                    byCaller += receivedByCaller.get(SECONDS, TimeUnit.SECONDS) ? 1 : 0;
                }
            }
            assertThat(counted).as("round trips still running once their dependent was registered").isPositive();
            assertThat(byCaller).as("of those %d, the ones whose reply the waiting caller received", counted).isPositive();
        }
    }

    /**
     * "My thenApply submits the next step to the same pool and joins it": the stage runs on the thread
     * that read the first reply, and with one worker the second reply comes through the same worker.
     * Before, that thread was the only one reading the worker's replies, so the join waited for itself
     * forever. The gate makes the stage register before the reply exists, so it runs on the pool's
     * thread, not on this one.
     */
    @Test
    void aDependentStageThatWaitsForAnotherTaskOfTheSameWorkerDoesNotHang() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong gate = SharedLong.create(0)) {
            CompletableFuture<Integer> first = pool.applyAsync(() -> {
                while (gate.get() == 0) {
                    Thread.sleep(1);
                }
                return 20;
            });
            CompletableFuture<Integer> single = first.thenApply(x -> pool.applyAsync(() -> x + 1).join());
            CompletableFuture<List<Integer>> map = first.thenApply(n -> pool.map(x -> x * n, List.of(1, 2, 3)));
            CompletableFuture<Integer> derived = first.thenApply(x -> pool.applyAsync(() -> x * 2).thenApply(y -> y + 1).join());
            assertThat(first).isNotDone();
            gate.set(1);

            assertThat(single.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(21);
            assertThat(map.get(SECONDS, TimeUnit.SECONDS)).containsExactly(20, 40, 60);
            assertThat(derived.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(41);
            assertThat(pool.applyAsync(() -> 7).get(SECONDS, TimeUnit.SECONDS)).as("the pool works on").isEqualTo(7);
            assertThat(pool.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
        }
    }

    /**
     * A stage that waits for something that never comes holds its thread, but not the pool: shutdown()
     * still ends it (the retired worker's end is handled by a new reader; before, termination waited for
     * the stage forever).
     */
    @Test
    void aDependentStageThatNeverReturnsDoesNotHoldUpShutdown() throws Exception {
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        try (Pool pool = Pool.create(1); SharedLong gate = SharedLong.create(0)) {
            CompletableFuture<Integer> first = pool.applyAsync(() -> {
                while (gate.get() == 0) {
                    Thread.sleep(1);
                }
                return 1;
            });
            CompletableFuture<Integer> stuck = first.thenApply(x -> {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return x;
            });
            assertThat(first).isNotDone();
            gate.set(1);
            // NOTE: not first.get(): a caller waiting in get() may receive the reply and run the stage itself
            awaitUntil("the first task is done", first::isDone);
            Thread.sleep(300); // the stage has been stuck for a while, with nothing else held
            pool.shutdown();
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).as("terminated").isTrue();
            assertThat(stuck).isNotDone();
        } finally {
            never.countDown();
        }
    }

    @Test
    void anInterruptedCallerGetsInterruptedExceptionAndTheTaskAndPoolGoOn() throws Exception {
        try (Pool pool = Pool.create(1)) {
            CompletableFuture<Integer> slow = pool.applyAsync(() -> {
                Thread.sleep(500);
                return 1;
            });
            Thread.currentThread().interrupt();
            assertThatThrownBy(slow::get).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).as("interrupt status after InterruptedException").isFalse();
            assertThat(slow.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(pool.applyAsync(() -> 2).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(2);
        }
    }

    /**
     * A caller whose interrupt status is set when its map finds the worker's ring full (the worker had not
     * read the chunk before) only leaves the chunk for later: the worker was marked as leaving for good, so
     * the map never completed and close() waited for ever.
     */
    @Test
    void aMapStartedWithTheInterruptSetWhileTheWorkersRingIsFullStillCompletesAndThePoolCloses() throws Exception {
        Pool pool = Pool.create(1);
        try {
            assertThat(pool.awaitReady(TIMEOUT)).isTrue();
            byte[] moves = new byte[300_000]; // the ring's next record starts ~300 KB in: a 450 KB one fits once
            assertThat(pool.applyAsync(() -> moves.length).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(300_000);
            long worker = pool.workerPids().getFirst();
            io.multiproc.testing.Children.signal("STOP", worker);
            CompletableFuture<List<Integer>> map;
            try {
                awaitUntil("worker stopped", () -> io.multiproc.testing.Children.stateOf(worker) == 'T');
                Thread.currentThread().interrupt();
                map = pool.mapAsync(b -> b.length, List.of(new byte[450_000], new byte[450_000]), 1);
                assertThat(Thread.interrupted()).as("the interrupt stays the caller's").isTrue();
            } finally {
                io.multiproc.testing.Children.signal("CONT", worker);
            }
            assertThat(map.get(SECONDS, TimeUnit.SECONDS)).containsExactly(450_000, 450_000);
            assertThat(pool.applyAsync(() -> 2).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(2);
            pool.shutdown();
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).as("terminated").isTrue();
        } finally {
            pool.terminate();
        }
    }

    /** True if this runs inside a waiting caller's reading of its worker's replies (on the caller's thread). */
    private static boolean receivedInAttend() {
        for (StackTraceElement e : new Throwable().getStackTrace()) {
            if (e.getClassName().equals(PoolWorker.class.getName()) && e.getMethodName().equals("attend")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Four threads each make 2,000 round trips while a map runs beside them: every caller gets exactly
     * its own results (callers read each other's replies and the map's), none lost or duplicated.
     */
    @Test
    void concurrentCallersEachGetTheirOwnResultsWhileAMapRuns() throws Exception {
        int threads = 4;
        int calls = 2_000;
        try (Pool pool = Pool.create(2)) {
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> x + 1, IntStream.range(0, 20_000).boxed().toList(), 50);
            List<CompletableFuture<Long>> callers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                callers.add(CompletableFuture.supplyAsync(() -> {
                    long matched = 0;
                    for (int i = 0; i < calls; i++) {
                        int n = i;
                        CompletableFuture<Long> f = pool.applyAsync(() -> thread * 1_000_000L + n);
                        long v = n % 3 == 0 ? f.join() : uncheckedGet(f);
                        assertThat(v).as("result of call %d of thread %d", n, thread).isEqualTo(thread * 1_000_000L + n);
                        matched++;
                    }
                    return matched;
                }, runnable -> {
                    Thread th = new Thread(runnable, "caller-" + thread);
                    th.start();
                }));
            }
            for (CompletableFuture<Long> c : callers) {
                assertThat(c.get(SECONDS * 4, TimeUnit.SECONDS)).isEqualTo(calls);
            }
            List<Integer> mapped = map.get(SECONDS, TimeUnit.SECONDS);
            assertThat(mapped).hasSize(20_000);
            for (int i = 0; i < mapped.size(); i++) {
                assertThat(mapped.get(i)).isEqualTo(i + 1);
            }
        }
    }

    private static <T> T uncheckedGet(CompletableFuture<T> f) {
        try {
            return f.get(SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * {@code pool.submit(() -> ...)} and {@code pool.execute(() -> ...)} as any ExecutorService is called: a
     * lambda written at the call is made serializable (a plain Callable lambda could not travel), also a
     * block that returns nothing and a task given with its result.
     */
    @Test
    void lambdasWrittenAtSubmitAndExecuteReachTheWorkers() throws Exception {
        long me = ProcessHandle.current().pid();
        try (Pool pool = Pool.create(1); SharedLong ran = SharedLong.create(0)) {
            Future<Long> pid = pool.submit(() -> ProcessHandle.current().pid());
            assertThat(pid.get(SECONDS, TimeUnit.SECONDS)).isNotEqualTo(me);
            assertThat(pool.submit(() -> "called").get(SECONDS, TimeUnit.SECONDS)).isEqualTo("called");
            assertThat(pool.submit(() -> {
                ran.incrementAndGet();
            }).get(SECONDS, TimeUnit.SECONDS)).isNull();
            assertThat(pool.submit(ran::incrementAndGet, "given").get(SECONDS, TimeUnit.SECONDS)).isEqualTo("given");
            pool.execute(() -> ran.incrementAndGet());
            awaitUntil("the executed task ran", () -> ran.get() == 3);
            Future<Object> failing = pool.submit(() -> {
                throw new IllegalStateException("expected by PoolTest: from a submitted lambda");
            });
            assertThatThrownBy(() -> failing.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void taskThatCannotBeEncodedFailsAtTheCallNamingItsClass() {
        Object notSerializable = new Object();
        try (Pool pool = Pool.create(1)) {
            Callable<Object> c = () -> notSerializable;
            assertThatThrownBy(() -> pool.submit(c)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(c.getClass().getName());
            assertThatThrownBy(() -> pool.map(x -> notSerializable, List.of(1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("java.lang.Object");
        }
    }

    @Test
    void resultThatCannotBeEncodedFailsOnlyThatTask() throws Exception {
        try (Pool pool = Pool.create(1)) {
            CompletableFuture<Object> bad = pool.applyAsync(Thread::new);
            CompletableFuture<Integer> good = pool.applyAsync(() -> 5);
            assertThatThrownBy(() -> bad.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.lang.Thread");
            assertThat(good.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(5);
        }
    }

    @Test
    void taskExceptionKeepsItsTypeMessageAndRemoteStackTrace() throws Exception {
        try (Pool pool = Pool.create(1)) {
            CompletableFuture<Object> f = pool.applyAsync(() -> {
                throw new IllegalStateException("boom in worker");
            });
            Throwable cause = catchCause(f);
            assertThat(cause).isInstanceOf(IllegalStateException.class).hasMessage("boom in worker");
            assertThat(cause.getStackTrace()).anySatisfy(e -> assertThat(e.getClassName()).startsWith(PoolTest.class.getName()));

            Throwable hidden = catchCause(pool.applyAsync(() -> {
                throw new PrivateFailure("not re-creatable");
            }));
            assertThat(hidden).isInstanceOf(RemoteException.class).hasMessageContaining("not re-creatable");
            assertThat(((RemoteException) hidden).remoteClassName()).isEqualTo(PrivateFailure.class.getName());
            assertThat(hidden.getStackTrace()).isNotEmpty();

            assertThatThrownBy(() -> pool.map(x -> 10 / x, List.of(1, 0, 2))).isInstanceOf(ArithmeticException.class);
        }
    }

    @Test
    void hugeExceptionDoesNotDeadlock() throws Exception {
        try (Pool pool = Pool.create(1)) {
            CompletableFuture<Object> f = pool.applyAsync(() -> {
                RuntimeException e = new RuntimeException("x".repeat(60_000));
                for (int i = 0; i < 3000; i++) {
                    e.addSuppressed(new IllegalStateException("suppressed " + i + " " + "y".repeat(1000)));
                }
                throw e;
            });
            assertThat(catchCause(f).getSuppressed()).hasSize(3000);
            assertThat(pool.applyAsync(() -> 1).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    @Test
    void cancelWithInterruptStopsTheTaskInTheWorker() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong state = SharedLong.create(0)) {
            CompletableFuture<Object> f = pool.applyAsync(() -> {
                state.set(1);
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    state.set(2);
                }
                return null;
            });
            awaitUntil("the task runs", () -> state.get() == 1);
            assertThat(f.cancel(true)).isTrue();
            awaitUntil("the task was interrupted in its worker", () -> state.get() == 2);
            assertThat(pool.applyAsync(() -> "next").get(SECONDS, TimeUnit.SECONDS)).isEqualTo("next");
        }
    }

    /**
     * "I cancelled it with cancel(false) to let it finish, and my clean-up's cancel(true) on every future
     * interrupted it": CompletableFuture.cancel returns true for a future cancelled before, and the pool
     * took that for a cancel of its own and interrupted the task in its worker.
     */
    @Test
    void aSecondCancelWithInterruptLeavesRunningATaskThatCancelWithoutInterruptLetRun() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong state = SharedLong.create(0)) {
            CompletableFuture<Object> f = pool.applyAsync(() -> {
                state.set(1);
                try {
                    Thread.sleep(1_000);
                    state.set(3);
                } catch (InterruptedException e) {
                    state.set(2);
                }
                return null;
            });
            awaitUntil("the task runs", () -> state.get() == 1);
            assertThat(f.cancel(false)).isTrue();
            f.cancel(true);
            assertThat(f.isCancelled()).isTrue();
            awaitUntil("the task ended", () -> state.get() > 1);
            assertThat(state.get()).as("3: ran to its end, 2: interrupted").isEqualTo(3);
        }
    }

    /**
     * "Two long tasks on a fresh pool of two workers ran one after the other": the first worker up took
     * both (one to run, one ahead) while the second was still starting, and then sat idle.
     */
    @Test
    void twoLongTasksSubmittedToAFreshPoolOfTwoRunAtTheSameTime() throws Exception {
        try (SharedLong started = SharedLong.create(0); SharedLong gate = SharedLong.create(0)) {
            Pool pool = Pool.create(2);
            try {
                List<CompletableFuture<Integer>> fs = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    fs.add(pool.applyAsync(() -> {
                        started.incrementAndGet();
                        while (gate.get() == 0) {
                            Thread.sleep(2);
                        }
                        return 1;
                    }));
                }
                awaitUntil("both tasks run at once", () -> started.get() == 2);
                gate.set(1);
                for (CompletableFuture<Integer> f : fs) {
                    assertThat(f.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
                }
            } finally {
                pool.terminate(); // a worker may still wait for the gate
                assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    /**
     * "My quick task waited for a long one although the other worker was free": it had been sent ahead to
     * the long task's worker, behind it, while the other worker still ran a short task.
     */
    @Test
    void aTaskQueuedBehindALongOneRunsOnTheWorkerThatFreesUpFirst() throws Exception {
        try (SharedLong gate = SharedLong.create(0); SharedLong longRuns = SharedLong.create(0)) {
            Pool pool = Pool.create(2);
            try {
                assertThat(pool.awaitReady(TIMEOUT)).isTrue();
                pool.applyAsync(() -> {
                    longRuns.set(1);
                    while (gate.get() == 0) {
                        Thread.sleep(2);
                    }
                    return 0;
                });
                awaitUntil("the long task runs", () -> longRuns.get() == 1);
                CompletableFuture<Integer> shortOne = pool.applyAsync(() -> {
                    sleep(300);
                    return 1;
                });
                CompletableFuture<Integer> queued = pool.applyAsync(() -> 2);
                assertThat(shortOne.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
                assertThat(queued.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(2);
                assertThat(gate.get()).as("the long task still runs").isZero();
            } finally {
                pool.terminate();
                assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void sharedObjectsCapturedByTasksWorkInWorkers() {
        try (Pool pool = Pool.create(2); SharedLong sum = SharedLong.create(0)) {
            pool.map(x -> sum.addAndGet(x), IntStream.rangeClosed(1, 100).boxed().toList(), 5);
            assertThat(sum.get()).isEqualTo(5050);
        }
    }

    @Test
    void aSharedObjectClosedRightAfterSubmittingStillReachesTheWorker() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong gate = SharedLong.create(0)) {
            // the only worker is busy, so the next tasks wait in this process while their objects are closed
            CompletableFuture<Long> busy = pool.applyAsync(() -> {
                while (gate.get() == 0) {
                    Thread.sleep(1);
                }
                return 0L;
            });
            SharedLong called = SharedLong.create(37);
            CompletableFuture<Long> call = pool.applyAsync(() -> called.addAndGet(5));
            SharedLong mapped = SharedLong.create(0);
            CompletableFuture<List<Long>> map = pool.mapAsync(x -> mapped.addAndGet(x), List.of(1L, 2L, 3L), 1);
            SharedLong item = SharedLong.create(10);
            CompletableFuture<List<Long>> items = pool.mapAsync(v -> v.incrementAndGet(), List.of(item), 1);
            SharedLong lazy = SharedLong.create(100);
            PoolIterator<Long> imap = pool.imap(x -> lazy.addAndGet(x), List.of(1L, 2L), 1);
            List<String> names = List.of(called.name(), mapped.name(), item.name(), lazy.name());
            for (SharedLong v : List.of(called, mapped, item, lazy)) {
                v.close(); // as CPython's apply_async(f, (value,)) then value's last reference dropped
            }
            gate.set(1);

            assertThat(busy.get(SECONDS, TimeUnit.SECONDS)).isZero();
            assertThat(call.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(42);
            assertThat(map.get(SECONDS, TimeUnit.SECONDS)).containsExactly(1L, 3L, 6L);
            assertThat(items.get(SECONDS, TimeUnit.SECONDS)).containsExactly(11L);
            assertThat(imap.next(TIMEOUT)).isEqualTo(101L);
            assertThat(imap.next(TIMEOUT)).isEqualTo(103L);
            pool.close();
            // what the pool held for its workers goes with it
            assertThat(names).allSatisfy(n -> assertThat(java.nio.file.Path.of("/dev/shm", n)).doesNotExist());
        }
    }

    @Test
    void aLongLivedPoolLetsGoOfTheSharedObjectsOfTasksThatEnded() throws Exception {
        // a service keeps one pool and sends a fresh shared object with each request, closing it after
        try (Pool pool = Pool.create(1)) {
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < 90; i++) {
                SharedLong v = SharedLong.create(i);
                names.add(v.name());
                long expected = switch (i % 3) {
                    case 0 -> pool.applyAsync(() -> v.addAndGet(1)).get(SECONDS, TimeUnit.SECONDS);
                    case 1 -> pool.mapAsync(x -> x.addAndGet(1), List.of(v), 1).get(SECONDS, TimeUnit.SECONDS).get(0);
                    default -> pool.imap(x -> x.addAndGet(1), List.of(v), 1).next(TIMEOUT);
                };
                assertThat(expected).isEqualTo(i + 1);
                v.close();
            }
            assertTheEarlyOnesGoWhileThePoolLives(pool, names, "objects of tasks long over are gone while the pool lives");
            // the pool still works with an object it holds, and what it still held goes with it
            try (SharedLong again = SharedLong.create(5)) {
                assertThat(pool.applyAsync(() -> again.addAndGet(1)).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(6);
            }
            pool.close();
            assertThat(names).allSatisfy(n -> assertThat(java.nio.file.Path.of("/dev/shm", n)).doesNotExist());
        }
    }

    @Test
    void aLongLivedPoolLetsGoOfWhatAnImapsFunctionCarriedOnceItsResultsAreIn() throws Exception {
        // a service keeps one pool and runs an imap per request whose function captures a fresh shared object
        try (Pool pool = Pool.create(1)) {
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < 40; i++) {
                SharedLong v = SharedLong.create(i);
                names.add(v.name());
                PoolIterator<Long> results = (i % 2 == 0 ? pool.imap(x -> v.addAndGet(x), List.of(1L, 2L), 1)
                        : pool.imapUnordered(x -> v.addAndGet(x), List.of(1L, 2L), 1));
                long last = Math.max(results.next(TIMEOUT), results.next(TIMEOUT));
                assertThat(last).isEqualTo(i + 3);
                assertThat(results.hasNext()).isFalse();
                v.close();
            }
            assertTheEarlyOnesGoWhileThePoolLives(pool, names,
                    "objects captured by the functions of imaps long over are gone while the pool lives");
            pool.close();
            assertThat(names).allSatisfy(n -> assertThat(java.nio.file.Path.of("/dev/shm", n)).doesNotExist());
        }
    }

    /**
     * All but the last {@code IDLE_KEPT + 2} of {@code names} leave /dev/shm while {@code pool} lives: its
     * worker lets go of what its program no longer reaches, after a GC that this asks it for.
     */
    private static void assertTheEarlyOnesGoWhileThePoolLives(Pool pool, List<String> names, String what) throws Exception {
        List<String> early = names.subList(0, names.size() - PoolHolds.IDLE_KEPT - 2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        while (early.stream().anyMatch(n -> java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", n)))
                && System.nanoTime() < deadline) {
            pool.applyAsync(() -> {
                System.gc();
                Thread.sleep(50);
                return 0;
            }).get(SECONDS, TimeUnit.SECONDS);
        }
        assertThat(early).as(what).allSatisfy(n -> assertThat(java.nio.file.Path.of("/dev/shm", n)).doesNotExist());
    }

    @Test
    void aSharedObjectClosedBeforeItIsSubmittedIsRefusedAtTheCallNamingIt() {
        try (Pool pool = Pool.create(1)) {
            SharedLong v = SharedLong.create(1);
            String name = v.name();
            SharedLong copy = SharedLong.attach(name);
            v.close();
            copy.close();
            assertThatThrownBy(() -> pool.applyAsync(() -> copy.get())).hasMessageContaining(name);
            assertThat(pool.applyAsync(() -> 7).join()).isEqualTo(7); // the pool goes on
        }
    }

    // ---- workers: initializer, maxTasksPerChild

    @Test
    void maxTasksPerChildReplacesWorkersAndInitializerRunsInReplacements() {
        try (Pool pool = Pool.builder().workers(1).maxTasksPerChild(2)
                .initializer(() -> System.setProperty("pool.test.init", "done")).build()) {
            List<String> seen = pool.map(x -> ProcessHandle.current().pid() + ":" + System.getProperty("pool.test.init"),
                    IntStream.range(0, 6).boxed().toList(), 1);
            Set<String> pids = new TreeSet<>();
            for (String s : seen) {
                assertThat(s).endsWith(":done");
                pids.add(s.substring(0, s.indexOf(':')));
            }
            assertThat(pids).hasSize(3);
        }
    }

    @Test
    void throwingInitializerFailsPendingWorkInsteadOfLooping() throws Exception {
        Pool pool = Pool.builder().workers(2).initializer(() -> {
            throw new IllegalStateException("initializer boom");
        }).build();
        try {
            CompletableFuture<Integer> f = pool.applyAsync(() -> 1);
            Throwable cause = catchCause(f);
            assertThat(cause).isInstanceOf(IllegalStateException.class).hasMessage("initializer boom");
            assertThatThrownBy(() -> pool.applyAsync(() -> 2)).isInstanceOf(RejectedExecutionException.class);
            assertThat(pool.join(TIMEOUT)).isTrue();
        } finally {
            pool.terminate();
        }
    }

    // ---- lifetime

    @Test
    void shutdownRejectsNewTasksRunsQueuedOnesAndTerminates() throws Exception {
        Pool pool = Pool.create(2);
        CompletableFuture<Integer> queued = pool.applyAsync(() -> {
            sleep(300);
            return 9;
        });
        pool.shutdown();
        assertThat(pool.isShutdown()).isTrue();
        assertThatThrownBy(() -> pool.applyAsync(() -> 1)).isInstanceOf(RejectedExecutionException.class);
        assertThat(queued.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(9);
        assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(pool.isTerminated()).isTrue();
        pool.join();
    }

    @Test
    void joinWhileRunningIsRejected() {
        try (Pool pool = Pool.create(1)) {
            assertThatThrownBy(pool::join).isInstanceOf(IllegalStateException.class).hasMessageContaining("shutdown()");
        }
    }

    @Test
    void shutdownNowReturnsTheTasksThatNeverStarted() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong running = SharedLong.create(0)) {
            CompletableFuture<Object> first = pool.applyAsync(() -> {
                running.set(1);
                sleep(60_000);
                return null;
            });
            awaitUntil("the first task runs", () -> running.get() == 1);
            List<CompletableFuture<Integer>> rest = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                int v = i;
                rest.add(pool.applyAsync(() -> v));
            }
            List<Runnable> never = pool.shutdownNow();
            assertThat(never).hasSize(5); // a single task is never sent ahead to a busy worker (decision 165)
            assertThat(first).isCompletedExceptionally();
            assertThat(rest).allSatisfy(f -> assertThat(f).isCompletedExceptionally());
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aChunkThatShutdownNowCancelledGivesNoResultWhenItsWorkerFinishesItAnyway() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong running = SharedLong.create(0)) {
            PoolIterator<Integer> it = pool.imapUnordered(x -> {
                running.set(1);
                long end = System.nanoTime() + 1_500_000_000L;
                while (System.nanoTime() < end) {
                    Thread.onSpinWait(); // deaf to the interrupt: the worker replies with the result
                }
                return x;
            }, List.of(7), 1);
            awaitUntil("the chunk runs", () -> running.get() == 1);
            pool.shutdownNow();
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue(); // the worker's late reply has been read
            List<String> seen = new ArrayList<>();
            for (int k = 0; k < 5; k++) {
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    seen.add("value " + it.next());
                } catch (CancellationException e) {
                    seen.add("cancelled");
                }
            }
            // decision 110: one outcome per chunk. Before, the chunk was reported cancelled and then its value came too.
            assertThat(seen).doesNotContain("value 7").contains("cancelled");
        }
    }

    @Test
    void shutdownNowReturnsTheNeverStartedChunksOfAMapAsRunnablesOfTheirItems() throws Exception {
        try (Pool pool = Pool.create(1); SharedLong running = SharedLong.create(0); SharedLong sum = SharedLong.create(0)) {
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> {
                if (x == 0) {
                    running.set(1);
                    sleep(60_000);
                }
                sum.addAndGet(x);
                return x;
            }, IntStream.range(0, 10).boxed().toList(), 1);
            awaitUntil("the first chunk runs", () -> running.get() == 1);
            List<Runnable> never = pool.shutdownNow();
            // chunk 0 runs, chunk 1 is in the worker's pipe (it holds 2): items 2..9 never started
            assertThat(never).hasSize(8);
            assertThatThrownBy(() -> map.get(SECONDS, TimeUnit.SECONDS)).hasCauseInstanceOf(CancellationException.class);
            never.forEach(Runnable::run); // here, in this JVM
            assertThat(sum.get()).isEqualTo(2 + 3 + 4 + 5 + 6 + 7 + 8 + 9);
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void terminateCompletesTenThousandQueuedFuturesExceptionallyWithinTwoSeconds() throws Exception {
        Pool pool = Pool.create(2);
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            futures.add(pool.applyAsync(() -> {
                sleep(10);
                return 1;
            }));
        }
        long t0 = System.nanoTime();
        pool.terminate();
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).handle((v, e) -> null).get(2, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(futures).allSatisfy(f -> assertThat(f).isDone());
        assertThat(futures.stream().filter(CompletableFuture::isCompletedExceptionally).count()).isGreaterThan(9_900);
        assertThat(took).isLessThan(Duration.ofSeconds(2));
        assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> pool.applyAsync(() -> 1)).isInstanceOf(RejectedExecutionException.class);
    }

    /** ExecutorService: awaitTermination's true means "all tasks have completed", their futures included. */
    @Test
    void awaitTerminationAfterTerminateReturnsTrueOnlyOnceEveryFutureIsDone() throws Exception {
        Pool pool = Pool.create(2);
        try {
            pool.awaitReady(TIMEOUT);
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                futures.add(pool.applyAsync(() -> {
                    Thread.sleep(60_000);
                    return 0;
                }));
            }
            for (int i = 0; i < 100; i++) {
                CompletableFuture<Integer> f = pool.applyAsync(() -> 1);
                f.whenComplete((r, e) -> sleep(10)); // a caller's slow dependent stage, run as the future fails
                futures.add(f);
            }
            Thread.ofPlatform().start(pool::terminate);
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(futures).allSatisfy(f -> assertThat(f).isDone());
        } finally {
            pool.terminate();
        }
    }

    /** A stage that waits for the pool's end while the pool fails its future is told so; nothing waits for itself. */
    @Test
    void joinFromAStageOfAFutureThePoolIsFailingThrowsInsteadOfWaitingForItself() throws Exception {
        Pool pool = Pool.create(1);
        try {
            CompletableFuture<Object> running = pool.applyAsync(() -> {
                Thread.sleep(60_000);
                return 0;
            });
            CompletableFuture<Object> stage = running.handle((r, e) -> {
                try {
                    pool.join();
                    return "joined";
                } catch (IllegalStateException | InterruptedException refused) {
                    return refused;
                }
            });
            pool.awaitReady(TIMEOUT);
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), pool::terminate);
            assertThat(stage.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
                    .hasToString(stage.get().toString()).asString().contains("would wait for itself");
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        } finally {
            pool.terminate();
        }
    }

    /** Future.cancel: "If this task has not started when cancel is called, this task should never run." */
    @Test
    void aTaskCancelledWhileItsWorkerRunsItsInitializerNeverRuns() throws Exception {
        try (SharedLong ran = SharedLong.create(0)) {
            Pool pool = Pool.builder().workers(1).initializer(() -> sleep(2_000)).build();
            try {
                Future<?> f = pool.submit((SerializableRunnable) ran::incrementAndGet);
                Thread.sleep(300); // sent to the booting worker by now
                assertThat(f.cancel(false)).isTrue();
                pool.awaitReady(TIMEOUT);
                assertThat(pool.applyAsync(() -> 7).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(7);
                assertThat(ran.get()).isZero();
            } finally {
                pool.terminate();
            }
        }
    }

    /** An item whose encoding takes a millisecond, so that a map is still being encoded when the test acts. */
    static final class SlowToWrite implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final int value;

        SlowToWrite(int value) {
            this.value = value;
        }

        @java.io.Serial
        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            sleep(1);
            out.defaultWriteObject();
        }
    }

    /** Pool.shutdownNow: the work that never started comes back, also a map's items its caller had not sent yet. */
    @Test
    void shutdownNowWhileAMapIsStillBeingEncodedListsTheItemsNotYetSent() throws Exception {
        int n = 2_000;
        try (SharedLong ran = SharedLong.create(0)) {
            Pool pool = Pool.create(2);
            try {
                pool.awaitReady(TIMEOUT);
                List<SlowToWrite> items = IntStream.range(0, n).mapToObj(SlowToWrite::new).toList();
                java.util.concurrent.atomic.AtomicReference<List<Runnable>> never = new java.util.concurrent.atomic.AtomicReference<>();
                Thread stopper = Thread.ofPlatform().start(() -> {
                    sleep(500);
                    never.set(pool.shutdownNow());
                });
                CompletableFuture<List<Long>> map = pool.mapAsync(x -> ran.incrementAndGet(), items, 1);
                stopper.join();
                assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
                assertThat(map).isCompletedExceptionally();
                long inWorkers = ran.get();
                assertThat(inWorkers).as("items run by the workers before the shutdown").isPositive().isLessThan(n);
                never.get().forEach(Runnable::run); // here, in this JVM
                // NOTE: the chunks in flight at the shutdown were cancelled, not listed (as running tasks are):
                // each worker held at most a few
                assertThat(ran.get()).as("items run in all").isBetween((long) n - 8, (long) n);
            } finally {
                pool.terminate();
            }
        }
    }

    // ---- found by the second review

    @Test
    void anInterruptedCloseTerminatesThePoolEvenWhenATaskIgnoresInterrupts() throws Exception {
        Pool pool = Pool.create(1);
        try (SharedLong running = SharedLong.create(0); AutoCloseable killed = pool::terminate) {
            CompletableFuture<Object> stubborn = pool.applyAsync(() -> {
                running.set(1);
                while (true) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException ignored) {
                        // this task does not stop when asked
                    }
                }
            });
            awaitUntil("the task runs", () -> running.get() == 1);
            java.util.concurrent.atomic.AtomicBoolean keptInterrupt = new java.util.concurrent.atomic.AtomicBoolean();
            Thread closer = new Thread(() -> {
                pool.close();
                keptInterrupt.set(Thread.currentThread().isInterrupted());
            }, "closer");
            closer.start();
            Thread.sleep(300); // the closer waits in close()
            closer.interrupt();
            closer.join(10_000);
            assertThat(closer.isAlive()).as("close() still waits after its thread was interrupted").isFalse();
            assertThat(keptInterrupt).isTrue();
            assertThat(pool.isTerminated()).isTrue();
            assertThat(stubborn).isCompletedExceptionally();
        }
    }

    /** Serializable and slow to write (100 ms): a map of them is still being sent when the test acts. */
    static final class SlowToSend implements java.io.Serializable {
        final int v;

        SlowToSend(int v) {
            this.v = v;
        }

        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            sleep(100);
            out.defaultWriteObject();
        }
    }

    @Test
    void aMapStartedBeforeShutdownRunsToItsEndInsteadOfBeingRejectedHalfWay() throws Exception {
        List<SlowToSend> items = IntStream.range(0, 10).mapToObj(SlowToSend::new).toList();
        Pool pool = Pool.create(1);
        try (SharedLong ran = SharedLong.create(0)) {
            assertThat(pool.awaitReady(TIMEOUT)).isTrue();
            CompletableFuture<List<Integer>> whole = CompletableFuture.supplyAsync(() -> pool.map(x -> {
                ran.incrementAndGet();
                return x.v * 2;
            }, items, 1));
            awaitUntil("the map's first chunk ran", () -> ran.get() > 0);
            pool.shutdown(); // the map is still sending its chunks (about 1 s in all)
            assertThat(whole.get(SECONDS, TimeUnit.SECONDS)).containsExactly(0, 2, 4, 6, 8, 10, 12, 14, 16, 18);
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        } finally {
            pool.terminate();
        }
    }

    @Test
    void aMapStillBeingSentWhenThePoolIsTerminatedFailsWithCancellationNotRejection() throws Exception {
        List<SlowToSend> items = IntStream.range(0, 10).mapToObj(SlowToSend::new).toList();
        Pool pool = Pool.create(1);
        try (SharedLong ran = SharedLong.create(0)) {
            assertThat(pool.awaitReady(TIMEOUT)).isTrue();
            CompletableFuture<CompletableFuture<List<Integer>>> call = CompletableFuture.supplyAsync(() -> pool.mapAsync(x -> {
                ran.incrementAndGet();
                return x.v * 2;
            }, items, 1));
            awaitUntil("the map's first chunk ran", () -> ran.get() > 0);
            pool.terminate();
            CompletableFuture<List<Integer>> whole = call.get(SECONDS, TimeUnit.SECONDS);
            assertThatThrownBy(() -> whole.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
        } finally {
            pool.terminate();
        }
    }

    @Test
    void aWorkerJvmThatCannotBootBreaksThePoolInsteadOfBeingRelaunchedForever() throws Exception {
        Pool pool = Pool.builder().workers(1).jvmOptions(List.of("-XX:+MultiprocNoSuchOption")).build();
        try {
            CompletableFuture<Integer> f = pool.applyAsync(() -> 1);
            assertThatThrownBy(() -> f.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
            assertThatThrownBy(() -> pool.applyAsync(() -> 2)).isInstanceOf(RejectedExecutionException.class)
                    .cause().hasMessageContaining("exited with code 1");
            assertThat(pool.join(TIMEOUT)).isTrue();
        } finally {
            pool.terminate();
        }
    }

    @Test
    void aTaskThatThrowsCancellationExceptionFailsItsFutureInsteadOfLookingCancelled() throws Exception {
        try (Pool pool = Pool.create(1)) {
            Future<Object> f = pool.submit(serializable(() -> {
                throw new CancellationException("the task's own");
            }));
            assertThatThrownBy(() -> f.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(CancellationException.class).hasMessage("the task's own");
            assertThat(f.isCancelled()).isFalse();
            assertThat(f.isDone()).isTrue();
        }
    }

    @Test
    void aTaskCapturingAnObjectThatRefusesToBeWrittenFailsAtTheCallNamingItsClass() {
        Unsendable refuses = new Unsendable();
        try (Pool pool = Pool.create(1)) {
            SerializableCallable<Integer> task = () -> refuses.hashCode();
            assertThatThrownBy(() -> pool.applyAsync(task)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(task.getClass().getName()).hasRootCauseMessage("this item refuses to be written");
            assertThatThrownBy(() -> pool.map(x -> x + refuses.hashCode(), List.of(1))).isInstanceOf(IllegalArgumentException.class)
                    .hasRootCauseMessage("this item refuses to be written");
            assertThat(pool.map(x -> x * 2, List.of(1, 2))).containsExactly(2, 4);
        }
    }

    // ---- helpers

    /** Not public: the parent cannot re-create it, so it arrives as a RemoteException. */
    static final class PrivateFailure extends RuntimeException {
        PrivateFailure(String message) {
            super(message);
        }
    }

    static <T> Callable<T> serializable(SerializableCallable<T> c) {
        return c;
    }

    static Throwable catchCause(Future<?> f) throws Exception {
        try {
            f.get(SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("the task did not fail");
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
