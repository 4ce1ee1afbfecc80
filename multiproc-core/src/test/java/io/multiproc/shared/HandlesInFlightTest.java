package io.multiproc.shared;

import io.multiproc.process.ChildProcess;
import io.multiproc.queue.Connection;
import io.multiproc.queue.Pipe;
import io.multiproc.queue.SharedQueue;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A shared object sent to another process (captured in a child's task, put into a queue, sent through a
 * pipe) stays alive until the receiver has it, even if the sender closes it or exits right after
 * sending; and once nothing can deliver it any more (the queue is gone) it is removed.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class HandlesInFlightTest {

    @Test
    void anObjectClosedRightAfterStartingAChildStillReachesTheChild() throws Exception {
        try (SharedLong result = SharedLong.create(0)) {
            ChildProcess child;
            String name;
            try (SharedLong v = SharedLong.create(41)) {
                name = v.name();
                child = ChildProcess.start(() -> result.set(v.incrementAndGet()));
            } // closed before the child could attach: no join
            joinOk(child); // ReapChildrenCheckShm reaps it if this fails
            assertThat(result.get()).as("the child attached and incremented").isEqualTo(42);
            assertThat(shm(name)).as("gone once the child is done with it").doesNotExist();
        }
    }

    @Test
    void anObjectPutIntoAQueueByAProducerThatExitedIsTakenLater() throws Exception {
        try (SharedQueue<SharedLong> q = SharedQueue.create(4)) {
            ChildProcess producer = ChildProcess.start(() -> {
                try (SharedLong v = SharedLong.create(41)) {
                    q.put(v);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            joinOk(producer); // ReapChildrenCheckShm reaps it if this fails
            String name;
            try (SharedLong got = q.take()) {
                name = got.name();
                assertThat(got.incrementAndGet()).isEqualTo(42);
            }
            assertThat(shm(name)).as("the consumer was its last user").doesNotExist();
        }
    }

    @Test
    void anItemNeverTakenKeepsItsObjectOnlyAsLongAsTheQueue() throws Exception {
        String name;
        try (SharedQueue<Object> q = SharedQueue.create(4)) {
            try (SharedLong v = SharedLong.create(1)) {
                name = v.name();
                q.put(List.of("an item", v));
            }
            assertThat(shm(name)).as("held by the item in the queue").exists();
        }
        assertThat(shm(name)).as("the queue is gone, and with it the item").doesNotExist();
    }

    @Test
    void peekingDoesNotReleaseTheItemsHoldTakingDoes() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(4)) {
            String name;
            try (SharedLong v = SharedLong.create(7)) {
                name = v.name();
                q.put(List.of(v, v, v)); // one object three times in one item
                q.put(v);                // and again in a second item
            }
            closeAll(q.peek());
            q.forEach(HandlesInFlightTest::closeAll); // iterating decodes each item too
            assertThat(shm(name)).as("peeked and iterated, still in the queue").exists();
            closeAll(q.take());
            assertThat(shm(name)).as("the second item still holds it").exists();
            try (SharedLong last = (SharedLong) q.take()) {
                assertThat(last.get()).isEqualTo(7);
            }
            assertThat(shm(name)).as("taken and closed everywhere").doesNotExist();
        }
    }

    @Test
    void anOfferThatTimesOutLeavesNoHoldBehind() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(1)) {
            q.put("fills the queue");
            String name;
            try (SharedLong v = SharedLong.create(1)) {
                name = v.name();
                assertThat(q.offer(v, Duration.ofMillis(1))).isFalse();
            }
            assertThat(shm(name)).as("not sent, so not held").doesNotExist();
        }
    }

    @Test
    void anObjectSentThroughAPipeOutlivesItsSender() throws Exception {
        try (Pipe pipe = Pipe.open(true)) {
            Connection here = pipe.left();
            Connection there = pipe.right();
            ChildProcess sender = ChildProcess.start(() -> {
                try (SharedLong v = SharedLong.create(99)) {
                    there.send(v);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            joinOk(sender); // ReapChildrenCheckShm reaps it if this fails
            String name;
            try (SharedLong got = (SharedLong) here.recv()) {
                name = got.name();
                assertThat(got.get()).isEqualTo(99);
            }
            assertThat(shm(name)).doesNotExist();
        }
    }

    @Test
    void eachItemOfABatchHoldsItsObjectsAndItemsLeftOutHoldNothing() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(2)) {
            String shared;
            String leftOut;
            try (SharedLong v = SharedLong.create(5); SharedLong w = SharedLong.create(6)) {
                shared = v.name();
                leftOut = w.name();
                assertThat(q.offerAll(List.of(v, List.of(v), w))).as("room for two").isEqualTo(2);
            }
            assertThat(shm(leftOut)).as("not sent, so not held").doesNotExist();
            closeAll(q.take());
            assertThat(shm(shared)).as("the second item still holds it").exists();
            closeAll(q.take());
            assertThat(shm(shared)).doesNotExist();
        }
    }

    @Test
    void aBatchWhoseLaterItemCannotBeSentAddsTheItemsBeforeItAndLeavesNoHoldBehind() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(8)) {
            String sent;
            try (SharedLong v = SharedLong.create(5); SharedLong gone = SharedLong.create(6)) {
                sent = v.name();
                Files.delete(shm(gone.name())); // someone ran `multiproc clean` or rm on it
                assertThatThrownBy(() -> q.putAll(List.of(v, "text", gone, 7)))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining(gone.name());
            }
            assertThat(q.size()).as("the items before the one that cannot go are added").isEqualTo(2);
            assertThat(shm(sent)).as("the queued item holds its object").exists();
            closeAll(q.take());
            assertThat(q.take()).isEqualTo("text");
            assertThat(shm(sent)).as("taken and closed: no hold left").doesNotExist();
        }
    }

    @Test
    void queuesWhoseItemsCarryEachOtherGoOnceEveryProcessClosedThem() throws Exception {
        String a;
        String b;
        try (SharedQueue<Object> qa = SharedQueue.create(4); SharedQueue<Object> qb = SharedQueue.create(4)) {
            a = qa.name();
            b = qb.name();
            qa.put(qb);
            qb.put(qa);
            qa.put(qa);
        }
        assertThat(shm(a)).as("held only by a cycle of untaken items").doesNotExist();
        assertThat(shm(b)).doesNotExist();
    }

    @Test
    void aCycleOfQueuesThatOnlyAnotherQueueReachedGoesWithThatQueue() throws Exception {
        String b;
        String c;
        try (SharedQueue<Object> qa = SharedQueue.create(4)) {
            try (SharedQueue<Object> qb = SharedQueue.create(4); SharedQueue<Object> qc = SharedQueue.create(4)) {
                b = qb.name();
                c = qc.name();
                qa.put(qb);
                qb.put(qc);
                qc.put(qb);
            }
            assertThat(shm(b)).as("reached through the queue's item").exists();
            assertThat(shm(c)).exists();
        } // the last hold on qa: b and c now hold only each other
        assertThat(shm(b)).as("held only by a cycle once the queue that reached it went").doesNotExist();
        assertThat(shm(c)).doesNotExist();
    }

    /** Clearing drops the items, and with them the queue's holds on what they carried, also a child's objects. */
    @Test
    void clearingAQueueGivesBackTheHoldsOfItsItemsSoTheirObjectsGoWithTheirCreators() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(16); SharedQueue<String> names = SharedQueue.create(1)) {
            ChildProcess producer = ChildProcess.start(() -> {
                try (SharedLong v = SharedLong.create(41)) {
                    q.put(List.of("from a child", v));
                    names.put(v.name());
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            joinOk(producer); // ReapChildrenCheckShm reaps it if this fails
            String fromChild = names.take();
            assertThat(shm(fromChild)).as("held by the item in the queue").exists();
            String value;
            String array;
            try (SharedLong v = SharedLong.create(1); SharedIntArray a = SharedIntArray.create(4)) {
                value = v.name();
                array = a.name();
                q.put("plain");
                q.put(List.of(v, a, v));
                q.putAll(List.of(a, "plain too"));
                q.clear();
                assertThat(q.size()).isZero();
                assertThat(shm(fromChild)).as("its creator exited, the queue let it go").doesNotExist();
            }
            assertThat(shm(value)).as("closed by its creator after the clear").doesNotExist();
            assertThat(shm(array)).as("closed by its creator after the clear").doesNotExist();
            q.put("still a queue");
            assertThat(q.take()).isEqualTo("still a queue");
        }
    }

    @Test
    void removingAnItemThroughTheIteratorGivesBackItsHolds() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(4)) {
            String removed;
            String kept;
            try (SharedLong v = SharedLong.create(1); SharedLong w = SharedLong.create(2)) {
                removed = v.name();
                kept = w.name();
                q.put(List.of("first", v));
                q.put(w);
                var it = q.iterator();
                closeAll(it.next());
                it.remove();
            }
            assertThat(shm(removed)).as("removed, then closed by its creator").doesNotExist();
            assertThat(shm(kept)).as("still in the queue").exists();
            try (SharedLong last = (SharedLong) q.take()) {
                assertThat(last.get()).isEqualTo(2);
            }
            assertThat(shm(kept)).doesNotExist();
        }
    }

    private static void closeAll(Object o) {
        if (o instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        } else if (o instanceof List<?> l) {
            l.forEach(HandlesInFlightTest::closeAll);
        }
    }

    private static Path shm(String name) {
        return Path.of("/dev/shm", name);
    }
}
