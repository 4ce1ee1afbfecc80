package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.multiproc.queue.Children.joinOk;
import static io.multiproc.queue.Children.reap;
import static io.multiproc.queue.Children.sleepForever;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The end of a stream: {@code closeForWriting()}, and peers that die (queues with peer tracking), with
 * real child JVMs killed with SIGKILL.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // before the fix the waits never ended
class QueueEndOfStreamTest {

    @Test
    void afterCloseForWritingPutsFailNamingTheQueueAndTakersDrainThenSeeTheEnd() throws Exception {
        try (SharedQueue<String> q = SharedQueue.create(10)) {
            q.put("a");
            q.put("b");
            assertThat(q.isClosedForWriting()).isFalse();
            q.closeForWriting();
            q.closeForWriting(); // idempotent
            assertThat(q.isClosedForWriting()).isTrue();
            assertThatThrownBy(() -> q.put("c")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'" + q.name() + "' is closed for writing");
            assertThatThrownBy(() -> q.offer("c")).isInstanceOf(IllegalStateException.class).hasMessageContaining(q.name());
            assertThatThrownBy(() -> q.offer("c", Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
            assertThat(q.take()).isEqualTo("a");
            assertThat(q.poll()).isEqualTo("b");
            assertThat(q.poll()).isNull();
            long t0 = System.nanoTime();
            assertThat(q.poll(Duration.ofSeconds(30))).as("a timed poll returns at once at the end").isNull();
            assertThatThrownBy(q::take).isInstanceOf(EndOfStreamException.class).hasMessageContaining(q.name());
            assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
            assertThat(q.describe()).contains("closedForWriting");
        }
    }

    @Test
    void blockedTakersAndPutersWakeWhenTheQueueIsClosedForWriting() throws Exception {
        try (SharedQueue<String> empty = SharedQueue.create(1); SharedQueue<String> full = SharedQueue.create(1)) {
            full.put("x");
            CompletableFuture<String> take = Children.takeAsync(empty);
            CompletableFuture<Void> put = Children.putAsync(full, "y");
            Thread.sleep(200);
            assertThat(take).isNotDone();
            assertThat(put).isNotDone();
            empty.closeForWriting();
            full.closeForWriting();
            assertThatThrownBy(() -> take.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(EndOfStreamException.class);
            assertThatThrownBy(() -> put.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed for writing");
            assertThat(full.take()).isEqualTo("x");
        }
    }

    @Test
    void consumersInOtherProcessesTakeEveryItemThenSeeTheEndOfTheStream() throws Exception {
        try (SharedQueue<Integer> q = SharedQueue.create(100); SharedLong sum = SharedLong.create(0)) {
            List<ChildProcess> consumers = new ArrayList<>();
            try {
                for (int c = 0; c < 2; c++) {
                    consumers.add(ChildProcess.start(() -> {
                        try {
                            for (;;) {
                                sum.addAndGet(q.take());
                            }
                        } catch (EndOfStreamException end) {
                            // done
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
                for (int i = 1; i <= 1000; i++) {
                    q.put(i);
                }
                q.closeForWriting();
                for (ChildProcess c : consumers) {
                    joinOk(c);
                }
                assertThat(sum.get()).isEqualTo(500_500L);
            } finally {
                reap(consumers.toArray(ChildProcess[]::new));
            }
        }
    }

    private static void awaitStage(SharedLong stage) throws InterruptedException {
        long deadline = System.nanoTime() + Children.JOIN.toNanos();
        while (stage.get() != 1) {
            assertThat(System.nanoTime()).as("the child got there in time").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void aTakeFailsWhenEveryProducerOfAPeerTrackedQueueIsKilled() throws Exception {
        try (SharedQueue<String> q = SharedQueue.<String>builder().maxItems(10).trackPeers(true).build();
             SharedLong stage = SharedLong.create(0)) {
            ChildProcess producer = ChildProcess.start(() -> {
                try {
                    q.put("one");
                    stage.set(1);
                    sleepForever();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(q.take()).isEqualTo("one");
                awaitStage(stage);
                CompletableFuture<String> take = Children.takeAsync(q);
                Thread.sleep(300);
                assertThat(take).as("waits while the producer lives").isNotDone();
                producer.kill();
                assertThat(producer.join(Children.JOIN)).isTrue();
                assertThatThrownBy(() -> take.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(PeerDiedException.class)
                        .hasMessageContaining(q.name()).hasMessageContaining("producer").hasMessageContaining(Long.toString(producer.pid()));
                assertThatThrownBy(() -> q.poll(Duration.ofSeconds(30))).as("timed waits fail too").isInstanceOf(PeerDiedException.class);
                assertThat(q.poll()).as("non-blocking calls just answer").isNull();
            } finally {
                reap(producer);
            }
        }
    }

    @Test
    void aPutFailsWhenEveryConsumerOfAPeerTrackedQueueIsKilled() throws Exception {
        try (SharedQueue<String> q = SharedQueue.<String>builder().maxItems(2).trackPeers(true).build();
             SharedLong stage = SharedLong.create(0)) {
            ChildProcess consumer = ChildProcess.start(() -> {
                q.poll(); // registers as a consumer
                stage.set(1);
                sleepForever();
            });
            try {
                awaitStage(stage);
                q.put("a");
                q.put("b");
                CompletableFuture<Void> put = Children.putAsync(q, "c");
                Thread.sleep(300);
                assertThat(put).as("waits while the consumer lives").isNotDone();
                consumer.kill();
                assertThat(consumer.join(Children.JOIN)).isTrue();
                assertThatThrownBy(() -> put.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(PeerDiedException.class)
                        .hasMessageContaining(q.name()).hasMessageContaining("consumer");
                assertThat(q.size()).as("nothing was written by the failed put").isEqualTo(2);
                assertThat(q.take()).isEqualTo("a"); // this process becomes a consumer: puts wait again
            } finally {
                reap(consumer);
            }
        }
    }

    @Test
    void withoutPeerTrackingATimedTakeJustTimesOut() throws Exception {
        try (SharedQueue<String> q = SharedQueue.create(2)) {
            ChildProcess producer = ChildProcess.start(() -> q.offer("x"));
            try {
                joinOk(producer);
                assertThat(q.take()).isEqualTo("x");
                assertThat(q.poll(Duration.ofMillis(300))).isNull();
            } finally {
                reap(producer);
            }
        }
    }
}
