package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

import static io.multiproc.queue.Children.joinOk;
import static io.multiproc.queue.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;

/** Items taken out of the middle of a queue (remove, removeIf, Iterator.remove, ...) give their room back to producers. */
@ExtendWith(ReapChildrenCheckShm.class)
class QueueRemovalTest {
    /** A queue of 1000 items whose 1 KiB ring fills with bytes long before it has 1000 items. */
    private static SharedQueue<Integer> fullOfBytes() throws InterruptedException {
        SharedQueue<Integer> q = SharedQueue.create(1000, 1024);
        for (int i = 0; q.offer(i); i++) {
            assertThat(i).as("the ring fills by bytes first").isLessThan(1000);
        }
        return q;
    }

    @Test
    void aQueueEmptiedByRemovalsTakesNewItemsWhicheverWayTheyWereRemoved() throws Exception {
        List<Consumer<SharedQueue<Integer>>> removals = List.of(
                q -> q.removeIf(x -> true),
                q -> q.removeAll(List.copyOf(q)),
                q -> q.retainAll(List.of()),
                q -> {
                    for (Integer x : List.copyOf(q)) {
                        q.remove(x);
                    }
                },
                q -> {
                    for (Iterator<Integer> it = q.iterator(); it.hasNext(); ) {
                        it.next();
                        it.remove();
                    }
                });
        for (int r = 0; r < removals.size(); r++) {
            try (SharedQueue<Integer> q = fullOfBytes()) {
                removals.get(r).accept(q);
                assertThat(q.size()).as("removal %d", r).isZero();
                assertThat(q.remainingCapacity()).isEqualTo(1000);
                assertThat(q.offer(-1)).as("removal %d: an empty queue has room", r).isTrue();
                assertThat(q.offer(-2, Duration.ofSeconds(5))).isTrue();
                assertThat(q.poll()).isEqualTo(-1);
                assertThat(q.poll()).isEqualTo(-2);
                assertThat(q.poll()).isNull();
            }
        }
    }

    @Test
    void aPutWaitingInAnotherProcessReturnsOnceEveryQueuedItemIsRemoved() throws Exception {
        try (SharedQueue<Integer> q = fullOfBytes(); SharedLong stage = SharedLong.create(0)) {
            ChildProcess producer = ChildProcess.start(() -> {
                try {
                    stage.set(1);
                    q.put(-1); // waits: the ring is full
                    stage.set(2);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                long deadline = System.nanoTime() + Children.JOIN.toNanos();
                while (stage.get() != 1 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                Thread.sleep(300); // the producer is waiting for room by now
                assertThat(stage.get()).as("put waits while the ring is full").isEqualTo(1);
                q.removeIf(x -> true);
                long t0 = System.nanoTime();
                while (stage.get() != 2 && System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos()) {
                    Thread.sleep(5);
                }
                assertThat(stage.get()).as("the waiting put returned after every item was removed").isEqualTo(2);
                joinOk(producer);
                assertThat(q.poll()).isEqualTo(-1);
                assertThat(q.poll()).isNull();
            } finally {
                reap(producer);
            }
        }
    }

    @Test
    void anItemRemovedBehindTheHeadGivesItsBytesBackOnceTheHeadIsTaken() throws Exception {
        // 1 KiB ring: "a" about 110 bytes, "b" and "c" about 500 (inline: under half the ring). After b
        // is removed and a taken, the queue is empty, and c (which needs padding to the ring's end
        // first) fits only if b's bytes are free.
        try (SharedQueue<byte[]> q = SharedQueue.create(10, 1024)) {
            byte[] a = new byte[100];
            byte[] b = new byte[480];
            byte[] c = new byte[480];
            assertThat(q.offer(a)).isTrue();
            assertThat(q.offer(b)).isTrue();
            assertThat(q.removeIf(x -> x.length == b.length)).isTrue();
            assertThat(q.poll()).hasSize(a.length);
            assertThat(q.size()).isZero();
            assertThat(q.offer(c)).as("an empty queue takes an item under half its ring").isTrue();
            assertThat(q.poll()).hasSize(c.length);
        }
    }
}
