package io.multiproc.process;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static io.multiproc.testing.Children.TIMEOUT;
import static io.multiproc.testing.Children.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A pool's workers over their lives: initializers, maxTasksPerChild, Errors in tasks, a failing imap input. */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class PoolWorkerLifecycleTest {
    private static final long SECONDS = TIMEOUT.toSeconds();

    @Test
    void anInitializerThatEndsItsJvmBreaksThePoolInsteadOfStartingReplacementsForever() throws Exception {
        // System.exit(0) exits as cleanly as a worker that reached maxTasksPerChild; halt(3) as a JVM that failed
        List<SerializableRunnable> initializers = List.of(() -> System.exit(0), () -> Runtime.getRuntime().halt(3));
        for (SerializableRunnable init : initializers) {
            Pool pool = Pool.builder().workers(1).initializer(init).build();
            try {
                CompletableFuture<Integer> f = pool.applyAsync(() -> 1);
                assertThatThrownBy(() -> f.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(WorkerDiedException.class).hasMessageContaining("initializer");
                assertThatThrownBy(() -> pool.applyAsync(() -> 2)).isInstanceOf(RejectedExecutionException.class)
                        .hasMessageContaining("initializer");
                assertThat(pool.join(TIMEOUT)).isTrue();
                assertThat(pool.workerPids()).isEmpty();
            } finally {
                pool.terminate();
            }
        }
    }

    @Test
    void maxTasksPerChildCountsAMapChunkAsOneTaskAndLosesOrRepeatsNothing() throws Exception {
        try (Pool pool = Pool.builder().workers(1).maxTasksPerChild(2).build()) {
            // 12 items in chunks of 3: 4 tasks, so 2 workers
            List<String> seen = pool.map(x -> x + ":" + ProcessHandle.current().pid(), IntStream.range(0, 12).boxed().toList(), 3);
            Set<String> pids = new TreeSet<>();
            for (int i = 0; i < 12; i++) {
                assertThat(seen.get(i)).startsWith(i + ":");
                pids.add(seen.get(i).substring(seen.get(i).indexOf(':') + 1));
            }
            assertThat(pids).hasSize(2);
            // imap, imapUnordered and applyAsync across more replacements: every item once
            List<String> fromImap = new ArrayList<>();
            pool.imap(x -> x + ":" + ProcessHandle.current().pid(), IntStream.range(0, 7).boxed().toList(), 1)
                    .forEachRemaining(fromImap::add);
            assertThat(fromImap).hasSize(7);
            List<Integer> unordered = new ArrayList<>();
            pool.imapUnordered(x -> x, IntStream.range(0, 9).boxed().toList(), 2).forEachRemaining(unordered::add);
            assertThat(unordered).containsExactlyInAnyOrderElementsOf(IntStream.range(0, 9).boxed().toList());
            List<CompletableFuture<Long>> calls = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                calls.add(pool.applyAsync(() -> ProcessHandle.current().pid()));
            }
            Set<Long> callPids = new TreeSet<>();
            for (CompletableFuture<Long> c : calls) {
                callPids.add(c.get(SECONDS, TimeUnit.SECONDS));
            }
            assertThat(callPids).hasSizeGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void aTaskThatRunsOutOfHeapFailsWithOutOfMemoryErrorAndItsWorkerStaysUsable() throws Exception {
        try (Pool pool = Pool.builder().workers(1).jvmOptions(List.of("-Xmx64m")).build()) {
            long pid = pool.applyAsync(() -> ProcessHandle.current().pid()).get(SECONDS, TimeUnit.SECONDS);
            CompletableFuture<Integer> oom = pool.applyAsync(() -> {
                List<long[]> hog = new ArrayList<>();
                while (true) {
                    hog.add(new long[1 << 20]);
                }
            });
            assertThatThrownBy(() -> oom.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(OutOfMemoryError.class);
            CompletableFuture<Integer> deep = pool.applyAsync(PoolWorkerLifecycleTest::recurse);
            assertThatThrownBy(() -> deep.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(StackOverflowError.class);
            assertThat(pool.map(x -> x * 2, List.of(1, 2, 3))).containsExactly(2, 4, 6);
            assertThat(pool.applyAsync(() -> ProcessHandle.current().pid()).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(pid);
        }
    }

    private static int recurse() {
        return recurse() + 1;
    }

    @Test
    void anImapInputThatThrowsMidWayReachesTheConsumerAndThePoolStaysUsable() throws Exception {
        try (Pool pool = Pool.create(2)) {
            Iterable<Integer> input = () -> new Iterator<>() {
                private int i;

                @Override
                public boolean hasNext() {
                    return true;
                }

                @Override
                public Integer next() {
                    if (i == 5) {
                        throw new IllegalStateException("input broke at 5");
                    }
                    return i++;
                }
            };
            PoolIterator<Integer> it = pool.imap(x -> x * 10, input, 2);
            List<Integer> got = new ArrayList<>();
            Throwable thrown = null;
            try {
                while (it.hasNext()) {
                    got.add(it.next(Duration.ofSeconds(SECONDS)));
                }
            } catch (IllegalStateException e) {
                thrown = e;
            }
            assertThat(thrown).hasMessage("input broke at 5");
            assertThat(got).containsExactly(0, 10, 20, 30);
            assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).containsExactly(2, 3, 4);
        }
    }

    /** The default task codec, counting its encodes in this JVM. */
    static final class CountingCodec implements io.multiproc.codec.Codec, java.io.Serializable {
        static final java.util.concurrent.atomic.AtomicInteger ENCODES = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public void encode(Object value, io.multiproc.codec.ByteSink out) {
            ENCODES.incrementAndGet();
            TaskCodec.codec().encode(value, out);
        }

        @Override
        public Object decode(io.multiproc.codec.ByteSource in) {
            return TaskCodec.codec().decode(in);
        }
    }

    @Test
    void replacementWorkersKeepTheJvmOptionsAndTheCodec() throws Exception {
        int before = CountingCodec.ENCODES.get();
        try (Pool pool = Pool.builder().workers(1).maxTasksPerChild(1).jvmOptions(List.of("-Dpool.audit=yes"))
                .codec(new CountingCodec()).build()) {
            Set<Long> pids = new TreeSet<>();
            for (int i = 0; i < 3; i++) {
                // the worker's own count: it encoded its HELLO and READY through the codec, and encodes this result
                String r = pool.applyAsync(() -> ProcessHandle.current().pid() + ":" + System.getProperty("pool.audit")
                                + ":" + CountingCodec.ENCODES.get())
                        .get(SECONDS, TimeUnit.SECONDS);
                String[] parts = r.split(":");
                assertThat(parts[1]).isEqualTo("yes");
                assertThat(Integer.parseInt(parts[2])).isPositive();
                pids.add(Long.parseLong(parts[0]));
            }
            assertThat(pids).hasSize(3);
        }
        assertThat(CountingCodec.ENCODES.get()).isGreaterThan(before); // the tasks went through it here too
    }

    /** Spins a little, then parks 50 µs; counts its pauses in this JVM. */
    static final class CountingIdle implements io.multiproc.wait.IdleStrategy, java.io.Serializable {
        static final java.util.concurrent.atomic.AtomicLong PAUSES = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public void pause(int round) {
            PAUSES.incrementAndGet();
            if (round < 100) {
                Thread.onSpinWait();
            } else {
                java.util.concurrent.locks.LockSupport.parkNanos(50_000);
            }
        }
    }

    @Test
    void theIdleStrategyIsTheWorkersToo() throws Exception {
        try (Pool pool = Pool.builder().workers(1).idle(new CountingIdle()).build()) {
            assertThat(pool.applyAsync(() -> 1).get(SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
            Thread.sleep(100); // the worker waits for the next task with the pool's strategy
            assertThat(pool.applyAsync(() -> CountingIdle.PAUSES.get()).get(SECONDS, TimeUnit.SECONDS)).isPositive();
        }
    }

    @Test
    void anIdleStrategyTheWorkersCannotReceiveIsRefusedNamingItsClass() {
        // a lambda is not Serializable: the workers waited with blocking() instead, and nothing said so
        io.multiproc.wait.IdleStrategy spin = round -> Thread.onSpinWait();
        assertThatThrownBy(() -> Pool.builder().idle(spin)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(spin.getClass().getName()).hasMessageContaining("Serializable");
    }

    @Test
    void aShutdownWhileWorkersAreBeingReplacedStillRunsEveryChunkOnceThenTerminates() throws Exception {
        Pool pool = Pool.builder().workers(2).maxTasksPerChild(1).build();
        try {
            CompletableFuture<List<Long>> map = pool.mapAsync(x -> ProcessHandle.current().pid(), IntStream.range(0, 8).boxed().toList(), 1);
            pool.shutdown();
            List<Long> pids = map.get(SECONDS, TimeUnit.SECONDS);
            assertThat(pids).hasSize(8).doesNotHaveDuplicates(); // one task per worker: 8 workers
            assertThat(pool.join(TIMEOUT)).isTrue();
        } finally {
            pool.terminate();
        }
    }

    @Test
    void terminateWhileWorkersAreBeingReplacedFailsTheMapAndEndsThePool() throws Exception {
        Pool pool = Pool.builder().workers(2).maxTasksPerChild(1).build();
        try {
            java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> x, IntStream.range(0, 200).boxed().toList(), 1,
                    (completed, total) -> done.set(completed));
            awaitUntil("3 items are done", () -> done.get() >= 3);
            pool.terminate();
            assertThatThrownBy(() -> map.get(5, TimeUnit.SECONDS)).isInstanceOf(java.util.concurrent.CancellationException.class);
            assertThat(pool.awaitTermination(SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(pool.workerPids()).isEmpty();
        } finally {
            pool.terminate();
        }
    }

    @Test
    void progressNeverPassesItsTotalNorGoesBackWhenAChunkFails() {
        try (Pool pool = Pool.create(2)) {
            List<long[]> seen = java.util.Collections.synchronizedList(new ArrayList<>());
            assertThatThrownBy(() -> pool.map(x -> {
                if (x == 30) {
                    throw new IllegalStateException("item 30");
                }
                return x;
            }, IntStream.range(0, 40).boxed().toList(), 1, (completed, total) -> seen.add(new long[] {completed, total})))
                    .hasMessageContaining("item 30");
            long last = 0;
            for (long[] s : List.copyOf(seen)) {
                assertThat(s[1]).isEqualTo(40);
                assertThat(s[0]).isGreaterThan(last).isLessThanOrEqualTo(40);
                last = s[0];
            }
            assertThat(pool.map(x -> x, List.of(1, 2), Progress.consoleBar("after", new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))))
                    .containsExactly(1, 2);
        }
    }

    /** The default task codec with a field that cannot be serialized: the workers can never get it. */
    static final class UnsendableCodec implements io.multiproc.codec.Codec, java.io.Serializable {
        @SuppressWarnings("unused")
        private final Object lock = new Object();

        @Override
        public void encode(Object value, io.multiproc.codec.ByteSink out) {
            TaskCodec.codec().encode(value, out);
        }

        @Override
        public Object decode(io.multiproc.codec.ByteSource in) {
            return TaskCodec.codec().decode(in);
        }
    }

    @Test
    void aPoolWhoseWorkersCannotStartSaysSoInsteadOfBlamingAnInitializerItDoesNotHave() throws Exception {
        Pool pool = Pool.builder().workers(1).codec(new UnsendableCodec()).build();
        try {
            CompletableFuture<Integer> f = pool.applyAsync(() -> 1);
            assertThatThrownBy(() -> f.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
            assertThatThrownBy(() -> pool.applyAsync(() -> 2)).isInstanceOf(RejectedExecutionException.class)
                    .hasMessageNotContaining("initializer").hasMessageContaining("could not start");
        } finally {
            pool.terminate();
        }
    }
}
