package io.multiproc.queue;

import io.multiproc.internal.SegmentRegistry;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.multiproc.queue.Children.checksum;
import static io.multiproc.queue.Children.pattern;
import static io.multiproc.queue.Children.reap;
import static io.multiproc.queue.Children.sleepForever;
import static io.multiproc.queue.Children.awaitStage;
import static io.multiproc.queue.Children.kill;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dead processes: producers and consumers SIGKILLed in the middle of a record (stopped there by the
 * package-private {@link FaultInjection} hook, then killed), and a producer killed at a random moment.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class QueueKillTest {
    private static final long ONE_SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aProducerKilledMidRecordBlocksNoConsumerAndCorruptsNoLaterItem() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(100); SharedLong stage = SharedLong.create(0)) {
            ChildProcess producer = Children.startHooked(() -> {
                try {
                    for (int i = 0; i < 10; i++) {
                        q.put(i);
                    }
                    FaultInjection.hook = point -> {
                        stage.set(1);
                        sleepForever(); // holds the producer lock with half a record written
                    };
                    q.put("half-written " + "x".repeat(200));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                awaitStage(stage, 1, producer);
                long t0 = System.nanoTime();
                for (int i = 0; i < 10; i++) {
                    assertThat(q.poll(Duration.ofSeconds(1))).isEqualTo(i);
                }
                assertThat(System.nanoTime() - t0).as("consumers go on while a producer is stuck mid-record").isLessThan(ONE_SECOND);
                assertThat(q.poll()).as("the half-written record is invisible").isNull();
                kill(producer);
                t0 = System.nanoTime();
                assertThat(q.offer("after", Duration.ofSeconds(5))).isTrue();
                assertThat(System.nanoTime() - t0).as("the next producer takes the dead one's lock over").isLessThan(ONE_SECOND);
                q.put(pattern(100_000, 9));
                assertThat(q.poll()).isEqualTo("after");
                assertThat(checksum((byte[]) q.poll())).isEqualTo(checksum(pattern(100_000, 9)));
                assertThat(q.poll()).isNull();
                assertThat(q.size()).isZero();
            } finally {
                reap(producer);
            }
        }
    }

    @Test
    void aProducerKilledWhileReferencingASpilledItemLeaksNoSegment() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(10, 4096); SharedLong stage = SharedLong.create(0)) {
            ChildProcess producer = Children.startHooked(() -> {
                FaultInjection.hook = point -> {
                    stage.set(1);
                    sleepForever(); // the spill segment exists (held by the queue); its reference is half-written
                };
                q.offer(pattern(200_000, 1));
            });
            try {
                awaitStage(stage, 1, producer);
                kill(producer);
                q.put("after");
                assertThat(q.poll()).isEqualTo("after");
                assertThat(q.poll()).isNull();
            } finally {
                reap(producer);
            }
        } // closing the queue removes the orphaned spill segment with it; the extension checks /dev/shm
    }

    @Test
    void aConsumerKilledMidReadLosesNothing() throws Exception {
        try (SharedQueue<String> q = SharedQueue.create(10); SharedLong stage = SharedLong.create(0)) {
            q.put("a");
            q.put("b");
            ChildProcess consumer = Children.startHooked(() -> {
                FaultInjection.hook = point -> {
                    stage.set(1);
                    sleepForever(); // holds the consumer lock with "a" copied, the head not moved
                };
                q.poll();
            });
            try {
                awaitStage(stage, 1, consumer);
                kill(consumer);
                long t0 = System.nanoTime();
                assertThat(q.poll(Duration.ofSeconds(5))).isEqualTo("a");
                assertThat(System.nanoTime() - t0).as("the next consumer takes the dead one's lock over").isLessThan(ONE_SECOND);
                assertThat(q.poll()).isEqualTo("b");
            } finally {
                reap(consumer);
            }
        }
    }

    @Test
    void aConsumerKilledAfterUnlinkingASpilledItemLosesOnlyThatItemAndLeaksNothing() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(10, 4096); SharedLong stage = SharedLong.create(0)) {
            q.put(pattern(300_000, 5));
            q.put("next");
            ChildProcess consumer = Children.startHooked(() -> {
                FaultInjection.hook = Children.parkAt(FaultInjection.Point.CONSUMER_AFTER_SPILL_UNLINK, stage);
                q.poll();
            });
            try {
                awaitStage(stage, 1, consumer);
                kill(consumer);
                assertThat(q.poll(Duration.ofSeconds(5))).as("the item being taken is lost, the next is not").isEqualTo("next");
                assertThat(q.poll()).isNull();
            } finally {
                reap(consumer);
            }
        }
    }

    @Test
    void aConsumerKilledInTheMiddleOfRemovingAnItemLeavesACorrectQueue() throws Exception {
        try (SharedQueue<String> q = SharedQueue.create(10); SharedLong stage = SharedLong.create(0)) {
            q.put("a");
            q.put("b");
            ChildProcess remover = Children.startHooked(() -> {
                // parks with "b" marked removed and the head count not yet told
                FaultInjection.hook = Children.parkAt(FaultInjection.Point.CONSUMER_MID_REMOVE, stage);
                q.remove("b");
            });
            try {
                awaitStage(stage, 1, remover);
                kill(remover);
                assertThat(q.poll(Duration.ofSeconds(5))).isEqualTo("a");
                assertThat(q.poll()).as("b was removed; nothing after the tail is read").isNull();
                assertThat(q.size()).as("the count was repaired").isZero();
                assertThat(q.isEmpty()).isTrue();
                q.put("c");
                assertThat(q.size()).isEqualTo(1);
                assertThat(q.poll()).isEqualTo("c");
                assertThat(q.poll()).isNull();
            } finally {
                reap(remover);
            }
        }
    }

    @Test
    void aProducerKilledAtARandomMomentLeavesOnlyCompleteItemsInOrder() throws Exception {
        try (SharedQueue<List<Object>> q = SharedQueue.create(100_000, 1 << 20); SharedLong produced = SharedLong.create(0)) {
            ChildProcess producer = ChildProcess.start(() -> {
                try {
                    for (int seq = 0; ; seq++) {
                        int length = seq % 97 == 0 ? 600_000 : seq % 1000; // every 97th spills (over half the ring)
                        q.put(List.of(seq, pattern(length, seq)));
                        produced.set(seq + 1);
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            int next = 0;
            try {
                while (produced.get() < 300) {
                    next = takeAndCheck(q, next, Duration.ofSeconds(5));
                }
                kill(producer);
                while (q.peek() != null) {
                    next = takeAndCheck(q, next, Duration.ZERO);
                }
                assertThat((long) next).as("every item put before the kill arrived").isGreaterThanOrEqualTo(produced.get());
                q.put(List.of(-1, "after the kill"));
                assertThat(q.poll(Duration.ofSeconds(5))).isEqualTo(List.of(-1, "after the kill"));
            } finally {
                reap(producer);
            }
            // A producer killed while writing a spill segment, before handing it to the queue, leaves one
            // whose only holder is dead: the next multiproc process (or `multiproc clean`) sweeps it.
            SegmentRegistry.sweep();
        }
    }

    /** Takes the next item, checks it is {@code expected} and intact; returns the next expected seq. */
    private static int takeAndCheck(SharedQueue<List<Object>> q, int expected, Duration timeout) throws InterruptedException {
        List<Object> item = timeout.isZero() ? q.poll() : q.poll(timeout);
        assertThat(item).as("item %d", expected).isNotNull();
        assertThat(item.get(0)).as("FIFO").isEqualTo(expected);
        byte[] data = (byte[]) item.get(1);
        assertThat(checksum(data)).as("item %d intact", expected).isEqualTo(checksum(pattern(data.length, expected)));
        return expected + 1;
    }
}
