package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.shared.SharedLongArray;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.multiproc.queue.Children.joinOk;
import static io.multiproc.queue.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;

/** Two producer and two consumer JVMs exchange 1,000,000 items; each is delivered exactly once. */
@ExtendWith(ReapChildrenCheckShm.class)
class QueueStressTest {
    private static final int PRODUCERS = 2;
    private static final int PER_PRODUCER = 500_000;
    private static final long TOTAL = (long) PRODUCERS * PER_PRODUCER;
    /** Item value: producer index times this plus its sequence number. */
    private static final long STRIDE = 1_000_000_000L;

    @Test
    void twoProducersAndTwoConsumersInFourJvmsDeliverAMillionItemsExactlyOnce() throws Exception {
        // per consumer: count, sum, sum of squares, FIFO violations
        try (SharedQueue<Long> q = SharedQueue.create(4096);
             SharedLong taken = SharedLong.create(0);
             SharedLongArray results = SharedLongArray.create(8)) {
            List<ChildProcess> children = new ArrayList<>();
            try {
                for (int p = 0; p < PRODUCERS; p++) {
                    long base = p * STRIDE;
                    children.add(ChildProcess.start(() -> produce(q, base)));
                }
                children.add(ChildProcess.start(() -> consume(q, taken, results, 0, false)));
                children.add(ChildProcess.start(() -> consume(q, taken, results, 1, true)));
                for (ChildProcess c : children) {
                    assertThat(c.join(Duration.ofMinutes(5))).as("%s finished", c.name()).isTrue();
                    joinOk(c);
                }
            } finally {
                reap(children.toArray(ChildProcess[]::new));
            }
            long count = results.get(0) + results.get(4);
            long sum = results.get(1) + results.get(5);
            long squares = results.get(2) + results.get(6);
            long expectedSum = 0;
            long expectedSquares = 0;
            for (int p = 0; p < PRODUCERS; p++) {
                for (long i = 0; i < PER_PRODUCER; i++) {
                    long v = p * STRIDE + i;
                    expectedSum += v;
                    expectedSquares += v * v;
                }
            }
            assertThat(results.get(3) + results.get(7)).as("items seen out of their producer's order").isZero();
            assertThat(count).as("items delivered").isEqualTo(TOTAL);
            assertThat(sum).as("sum of items").isEqualTo(expectedSum);
            assertThat(squares).as("sum of squares (mod 2^64)").isEqualTo(expectedSquares);
            assertThat(results.get(0)).as("consumer 0 took some").isPositive();
            assertThat(results.get(4)).as("consumer 1 took some").isPositive();
            assertThat(q.isEmpty()).isTrue();
        }
    }

    static void produce(SharedQueue<Long> q, long base) {
        try {
            for (long i = 0; i < PER_PRODUCER; i++) {
                q.put(base + i);
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Takes until all items are taken: one consumer item by item, the other in drainTo batches. */
    static void consume(SharedQueue<Long> q, SharedLong taken, SharedLongArray results, int index, boolean batches) {
        long count = 0;
        long sum = 0;
        long squares = 0;
        long disorder = 0;
        long[] last = new long[PRODUCERS];
        java.util.Arrays.fill(last, -1);
        List<Long> batch = new ArrayList<>(512);
        try {
            while (taken.get() < TOTAL) {
                batch.clear();
                if (!batches || q.drainTo(batch, 512) == 0) {
                    Long v = q.poll(Duration.ofMillis(20));
                    if (v != null) {
                        batch.add(v);
                    }
                }
                for (long v : batch) {
                    int from = (int) (v / STRIDE);
                    long seq = v % STRIDE;
                    if (seq <= last[from]) {
                        disorder++;
                    }
                    last[from] = seq;
                    count++;
                    sum += v;
                    squares += v * v;
                }
                taken.addAndGet(batch.size());
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        results.set(4 * index, count);
        results.set(4 * index + 1, sum);
        results.set(4 * index + 2, squares);
        results.set(4 * index + 3, disorder);
    }
}
