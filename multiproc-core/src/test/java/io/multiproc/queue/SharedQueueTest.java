package io.multiproc.queue;

import io.multiproc.codec.ByteSink;
import io.multiproc.codec.ByteSource;
import io.multiproc.codec.Codec;
import io.multiproc.codec.CodecException;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.shared.SharedLongArray;
import io.multiproc.testing.ReapChildrenCheckShm;
import io.multiproc.wait.IdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.multiproc.queue.Children.checksum;
import static io.multiproc.queue.Children.joinOk;
import static io.multiproc.queue.Children.pattern;
import static io.multiproc.queue.Children.reap;
import static io.multiproc.testing.Children.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SharedQueue beyond the BlockingQueue contract: CPython's Queue behaviours, codecs, spills, handles, lifetime. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedQueueTest {

    // ------------------------------------------------------------------ CPython's Queue (test_queue, maxsize 6)

    @Test
    void aQueueOfSixFailsAtOnceWhenFullOrEmptyWithoutWaitingAndAfterAboutTheTimeoutWithIt() throws Exception {
        try (SharedQueue<Integer> q = SharedQueue.create(6)) {
            assertThat(q.poll()).isNull();
            long t0 = System.nanoTime();
            assertThat(q.poll(Duration.ofMillis(200))).isNull();
            assertThat(System.nanoTime() - t0).isBetween(TimeUnit.MILLISECONDS.toNanos(190), TimeUnit.SECONDS.toNanos(10));
            for (int i = 0; i < 6; i++) {
                q.put(i);
            }
            t0 = System.nanoTime();
            assertThat(q.offer(6)).isFalse();
            assertThat(System.nanoTime() - t0).as("non-blocking put on a full queue").isLessThan(TimeUnit.SECONDS.toNanos(1));
            t0 = System.nanoTime();
            assertThat(q.offer(6, Duration.ofMillis(200))).isFalse();
            assertThat(System.nanoTime() - t0).isBetween(TimeUnit.MILLISECONDS.toNanos(190), TimeUnit.SECONDS.toNanos(10));
            assertThat(q.size()).as("size right after failed puts").isEqualTo(6);
            assertThat(q.remainingCapacity()).isZero();
        }
    }

    @Test
    void aChildTakesItemsInTheOrderTheParentPutThemAndSendsThemBackInOrder() throws Exception {
        try (SharedQueue<Integer> toChild = SharedQueue.create(6); SharedQueue<Integer> back = SharedQueue.create(6);
             SharedLong outOfOrder = SharedLong.create(0)) {
            ChildProcess child = ChildProcess.start(() -> {
                try {
                    for (int i = 0; i < 200; i++) {
                        int v = toChild.take();
                        if (v != i) {
                            outOfOrder.incrementAndGet();
                        }
                        back.put(v * 2);
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                List<Integer> got = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    toChild.put(i);
                    while (back.poll() instanceof Integer v) {
                        got.add(v);
                    }
                }
                while (got.size() < 200) {
                    got.add(back.poll(Children.JOIN));
                }
                joinOk(child);
                assertThat(outOfOrder.get()).as("items the child saw out of order").isZero();
                for (int i = 0; i < 200; i++) {
                    assertThat(got.get(i)).isEqualTo(2 * i);
                }
            } finally {
                reap(child);
            }
        }
    }

    // ------------------------------------------------------------------ synchronous puts

    /** Not Serializable, so no codec can write it. */
    static final class NotEncodable {
        @Override
        public String toString() {
            return "NotEncodable";
        }
    }

    @Test
    void anUnencodableItemFailsAtPutNamingItsClassAndNothingIsWritten() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(6)) {
            q.put("before");
            assertThatThrownBy(() -> q.put(new NotEncodable()))
                    .isInstanceOf(CodecException.class)
                    .hasMessageContaining(NotEncodable.class.getName());
            assertThatThrownBy(() -> q.offer(List.of(1, new NotEncodable())))
                    .isInstanceOf(CodecException.class)
                    .hasMessageContaining(NotEncodable.class.getName());
            assertThat(q.size()).isEqualTo(1);
            q.put("after");
            assertThat(q.take()).isEqualTo("before");
            assertThat(q.take()).isEqualTo("after");
            assertThat(q.poll()).isNull();
        }
    }

    @Test
    void aProducerExitsRightAfterPutWhileNobodyHasTakenItsItems() throws Exception {
        // CPython gh-73983: joining a producer before draining its queue deadlocks (the feeder thread
        // cannot flush a large item). Here put writes synchronously, so the producer can exit at once.
        try (SharedQueue<Object> q = SharedQueue.create(2000)) {
            ChildProcess producer = ChildProcess.start(() -> {
                try {
                    for (int i = 0; i < 1000; i++) {
                        q.put(i);
                    }
                    q.put(pattern(1 << 20, 7)); // larger than the ring: spills
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                joinOk(producer); // join first, drain afterwards
            } finally {
                reap(producer);
            }
            assertThat(q.size()).isEqualTo(1001);
            for (int i = 0; i < 1000; i++) {
                assertThat(q.take()).isEqualTo(i);
            }
            assertThat(checksum((byte[]) q.take())).isEqualTo(checksum(pattern(1 << 20, 7)));
        }
    }

    // ------------------------------------------------------------------ large items

    @Test
    void sixteenMegabyteItemsGoBothWaysThroughA64KiBQueue() throws Exception {
        int size = 16 << 20;
        try (SharedQueue<byte[]> toChild = SharedQueue.create(2); SharedQueue<byte[]> back = SharedQueue.create(2);
             SharedLong seen = SharedLong.create(0)) {
            assertThat(toChild.capacityBytes()).isEqualTo(64 << 10);
            ChildProcess child = ChildProcess.start(() -> {
                try {
                    seen.set(checksum(toChild.take()));
                    back.put(pattern(size, 2));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                toChild.put(pattern(size, 1));
                byte[] reply = back.poll(Children.JOIN);
                joinOk(child);
                assertThat(seen.get()).isEqualTo(checksum(pattern(size, 1)));
                assertThat(reply).isNotNull();
                assertThat(checksum(reply)).isEqualTo(checksum(pattern(size, 2)));
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void spilledItemsAreSeenByPeekAndIteratorsAndRemovedWithTheQueue() throws Exception {
        SharedQueue<Object> q = SharedQueue.create(10, 4096);
        try {
            q.put("small");
            q.put(pattern(100_000, 3));
            q.put(pattern(50_000, 4));
            List<Object> items = new ArrayList<>(q);
            assertThat(items).hasSize(3);
            assertThat(checksum((byte[]) items.get(1))).isEqualTo(checksum(pattern(100_000, 3)));
            assertThat(q.poll()).isEqualTo("small");
            assertThat(checksum((byte[]) q.peek())).isEqualTo(checksum(pattern(100_000, 3)));
            assertThat(q.removeIf(o -> o instanceof byte[] b && b.length == 100_000)).isTrue();
            assertThat(q.size()).isEqualTo(1);
        } finally {
            q.close(); // the 50,000-byte item is still in it: its spill segment must go with the queue
        }
    }

    @Test
    void largeItemsFillTheByteBoundBeforeTheItemBound() throws Exception {
        try (SharedQueue<byte[]> q = SharedQueue.create(1000, 4096)) {
            int n = 0;
            while (q.offer(new byte[300])) {
                n++;
            }
            assertThat(n).as("the payload alone bounds it, whatever the codec adds").isBetween(3, 4096 / 300);
            assertThat(q.size()).isEqualTo(n);
            assertThat(q.remainingCapacity()).isEqualTo(1000 - n);
            q.take();
            assertThat(q.offer(new byte[300])).isTrue();
        }
    }

    // ------------------------------------------------------------------ handles and lifetime

    @Test
    void aClosedHandleThrowsNamingTheQueueWhileOtherHandlesKeepWorking() throws Exception {
        try (SharedQueue<String> q = SharedQueue.create(6)) {
            SharedQueue<String> other = SharedQueue.attach(q.name());
            other.put("x");
            other.close();
            other.close(); // idempotent
            String named = "'" + q.name() + "' is closed";
            assertThatThrownBy(() -> other.put("y")).isInstanceOf(IllegalStateException.class).hasMessageContaining(named);
            assertThatThrownBy(other::take).isInstanceOf(IllegalStateException.class).hasMessageContaining(named);
            assertThatThrownBy(other::poll).isInstanceOf(IllegalStateException.class).hasMessageContaining(named);
            assertThatThrownBy(() -> other.offer("y")).isInstanceOf(IllegalStateException.class).hasMessageContaining(named);
            assertThatThrownBy(other::size).isInstanceOf(IllegalStateException.class).hasMessageContaining(named);
            assertThatThrownBy(other::peek).isInstanceOf(IllegalStateException.class).hasMessageContaining(named);
            assertThatThrownBy(other::iterator).isInstanceOf(IllegalStateException.class).hasMessageContaining(named);
            assertThatThrownBy(() -> other.drainTo(new ArrayList<>())).isInstanceOf(IllegalStateException.class);
            assertThat(other.toString()).contains("closed");
            assertThat(q.take()).isEqualTo("x");
        }
    }

    @Test
    void closingAHandleWakesItsOwnBlockedTakeWithIllegalState() throws Exception {
        SharedQueue<String> q = SharedQueue.create(6);
        java.util.concurrent.CompletableFuture<Throwable> outcome = new java.util.concurrent.CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                q.take();
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        Thread.sleep(200);
        q.close();
        assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        waiter.join();
    }

    @Test
    void attachingChecksTheKindAndTheName() {
        try (SharedQueue<String> q = SharedQueue.create(3)) {
            assertThatThrownBy(() -> JoinableQueue.attach(q.name()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is not a JoinableQueue");
            assertThatThrownBy(() -> SharedQueue.attach("mpq_no_such_queue"))
                    .hasMessageContaining("mpq_no_such_queue");
        }
    }

    @Test
    void creationArgumentsAreCheckedNamingTheValue() {
        assertThatThrownBy(() -> SharedQueue.create(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxItems=0");
        assertThatThrownBy(() -> SharedQueue.create(-5, 4096)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxItems=-5");
        assertThatThrownBy(() -> SharedQueue.create(5, 100)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacityBytes=100");
        assertThatThrownBy(() -> SharedQueue.create(5, 1L << 31)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacityBytes=");
        assertThatThrownBy(() -> SharedQueue.create(5, (IdleStrategy) null)).isInstanceOf(NullPointerException.class);
        try (SharedQueue<String> q = SharedQueue.create(5, 5000)) {
            assertThat(q.capacityBytes()).isEqualTo(8192);
            assertThat(q.maxItems()).isEqualTo(5);
        }
    }

    /** A codec of its own (Serializable, so handles can carry it): a marker, then JDK serialization. */
    record MarkedCodec(int marker) implements Codec, Serializable {
        @Override
        public void encode(Object value, ByteSink out) {
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
                    o.writeObject(value);
                }
                out.writeInt(marker);
                out.writeInt(bytes.size());
                out.write(bytes.toByteArray());
            } catch (java.io.IOException e) {
                throw new CodecException("cannot encode " + value.getClass().getName(), e);
            }
        }

        @Override
        public Object decode(ByteSource in) {
            if (in.readInt() != marker) {
                throw new CodecException("not written by MarkedCodec(" + marker + ")");
            }
            byte[] b = new byte[in.readInt()];
            in.readFully(b, 0, b.length);
            try (ObjectInputStream o = new ObjectInputStream(new ByteArrayInputStream(b))) {
                return o.readObject();
            } catch (Exception e) {
                throw new CodecException("cannot decode", e);
            }
        }
    }

    @Test
    void theCodecAndTheIdleStrategyTravelWithTheHandleToAChild() throws Exception {
        try (SharedQueue<String> q = SharedQueue.create(4, 4096, IdleStrategy.busySpin(), new MarkedCodec(0x5eed));
             SharedLongArray seen = SharedLongArray.create(1)) {
            ChildProcess child = ChildProcess.start(() -> {
                seen.set(0, q.ring.idle == IdleStrategy.busySpin() ? 1 : -1);
                q.offer("from the child");
            });
            try {
                joinOk(child);
            } finally {
                reap(child);
            }
            assertThat(seen.get(0)).as("the child's queue busy-spins").isEqualTo(1);
            assertThat(q.poll()).isEqualTo("from the child");
        }
    }

    @Test
    void aChildThatAttachesByNameWithoutTheCreatorsCodecIsToldSoAndLosesNoItem() throws Exception {
        // attach(name) cannot know the creator's codec: with another one, every take would fail to decode
        // (or decode garbage) and lose the item; the queue records its codec's class and attach checks it
        try (SharedQueue<String> q = SharedQueue.create(4, 4096, IdleStrategy.blocking(), new MarkedCodec(0x5eed));
             SharedLongArray seen = SharedLongArray.create(2)) {
            q.put("for the child");
            String name = q.name();
            ChildProcess child = ChildProcess.start(() -> {
                SharedQueue<Object> other = null;
                try {
                    other = SharedQueue.attach(name);
                } catch (IllegalArgumentException e) {
                    seen.set(0, e.getMessage().contains(name) && e.getMessage().contains("BuiltinCodec") ? 1 : 3);
                }
                if (other != null) {
                    seen.set(0, 2); // attached with the default codec: its poll fails to decode the item, which is gone
                    try (SharedQueue<Object> attached = other) {
                        attached.poll();
                    } catch (CodecException expected) {
                        // the item is lost
                    }
                }
                try (SharedQueue<Object> same = SharedQueue.attach(name, new MarkedCodec(0x5eed))) {
                    seen.set(1, same.size());
                }
            });
            try {
                joinOk(child);
            } finally {
                reap(child);
            }
            assertThat(seen.get(0)).as("1: attach refused, naming the queue and the codec; 2: attached").isEqualTo(1);
            assertThat(seen.get(1)).as("the creator's codec attaches").isEqualTo(1);
            assertThat(q.poll()).as("the item is still there").isEqualTo("for the child");
        }
    }

    @Test
    void drainToKeepsTheRestOfTheBatchWhenTheUsersCodecThrowsAnError() throws InterruptedException {
        // a user's codec may fail with an Error (an assert, a StackOverflowError in its own recursion)
        Codec failsOnBad = new Codec() {
            @Override
            public void encode(Object value, ByteSink out) {
                Codec.defaultCodec().encode(value, out);
            }

            @Override
            public Object decode(ByteSource in) {
                Object o = Codec.defaultCodec().decode(in);
                if ("bad".equals(o)) {
                    throw new AssertionError("the user's codec refused " + o);
                }
                return o;
            }
        };
        try (SharedQueue<String> q = SharedQueue.create(10, 4096, IdleStrategy.blocking(), failsOnBad)) {
            q.put("a");
            q.put("bad");
            q.put("c");
            q.put("d");
            List<String> got = new ArrayList<>();
            assertThatThrownBy(() -> q.drainTo(got)).isInstanceOf(AssertionError.class).hasMessageContaining("refused bad");
            assertThat(got).as("the items around the failed one").containsExactly("a", "c", "d");
            assertThat(q).isEmpty();
        }
    }

    /** The default codec, counting its decodes (in this JVM). */
    record CountingCodec() implements Codec, Serializable {
        static final java.util.concurrent.atomic.AtomicInteger DECODES = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public void encode(Object value, ByteSink out) {
            Codec.defaultCodec().encode(value, out);
        }

        @Override
        public Object decode(ByteSource in) {
            DECODES.incrementAndGet();
            return Codec.defaultCodec().decode(in);
        }
    }

    /** clear() and an iterator's remove() decode dropped items only in a queue some item carried a shared object through. */
    @Test
    void droppingItemsDecodesThemOnlyOnceAnItemCarriedASharedObject() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(10, 4096, IdleStrategy.blocking(), new CountingCodec())) {
            q.putAll(List.of("a", "b", 3));
            int before = CountingCodec.DECODES.get();
            q.clear();
            assertThat(q).isEmpty();
            q.put("c");
            var it = q.iterator();
            it.next();
            it.remove();
            assertThat(CountingCodec.DECODES.get() - before).as("the iterator's next() only").isEqualTo(1);
            try (SharedLong v = SharedLong.create(1)) {
                q.put(v);
            }
            q.put("d");
            before = CountingCodec.DECODES.get();
            q.clear();
            assertThat(q).isEmpty();
            assertThat(CountingCodec.DECODES.get() - before).as("each item dropped, to give back the holds").isEqualTo(2);
        }
    }

    /** The default codec, except that its decode refuses every item while {@link #REFUSE} is set (in this JVM). */
    record RefusingCodec() implements Codec, Serializable {
        static final java.util.concurrent.atomic.AtomicBoolean REFUSE = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public void encode(Object value, ByteSink out) {
            Codec.defaultCodec().encode(value, out);
        }

        @Override
        public Object decode(ByteSource in) {
            if (REFUSE.get()) {
                throw new CodecException("RefusingCodec refuses to decode");
            }
            return Codec.defaultCodec().decode(in);
        }
    }

    /**
     * An item whose codec fails when clear() drops it cannot give its shared object back then (decision 242),
     * but the object goes once its own handle is closed and the queue goes: nothing outlives both.
     */
    @Test
    void anObjectCarriedByAnItemThatFailsToDecodeWhenClearedGoesWithTheQueue() throws Exception {
        String carried;
        String queue;
        try (SharedQueue<Object> q = SharedQueue.create(10, 4096, IdleStrategy.blocking(), new RefusingCodec())) {
            queue = q.name();
            try (SharedLong v = SharedLong.create(7)) {
                carried = v.name();
                q.put(v);
                q.put("plain");
            }
            assertThat(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", carried))).as("held by the queue").isTrue();
            RefusingCodec.REFUSE.set(true);
            try {
                q.clear();
            } finally {
                RefusingCodec.REFUSE.set(false);
            }
            assertThat(q).isEmpty();
            q.put("after");
            assertThat(q.poll()).isEqualTo("after");
        }
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", queue))).isFalse();
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", carried)))
                .as("the object the undecodable item carried, once the queue is gone").isFalse();
    }

    /** The default codec, except that it throws an Error for "boom" and decodes "nothing" to null. */
    record QuirkyCodec() implements Codec, Serializable {
        @Override
        public void encode(Object value, ByteSink out) {
            if ("boom".equals(value)) {
                throw new AssertionError("the user's codec refused boom");
            }
            Codec.defaultCodec().encode(value, out);
        }

        @Override
        public Object decode(ByteSource in) {
            Object o = Codec.defaultCodec().decode(in);
            return "nothing".equals(o) ? null : o;
        }
    }

    @Test
    void putAllAddsTheItemsBeforeOneTheUsersCodecFailsWithAnError() throws Exception {
        // the same promise as for a CodecException: the items before the failed one are added
        try (SharedQueue<String> q = SharedQueue.create(10, 4096, IdleStrategy.blocking(), new QuirkyCodec())) {
            assertThatThrownBy(() -> q.putAll(List.of("a", "b", "boom", "c"))).isInstanceOf(AssertionError.class)
                    .hasMessageContaining("refused boom");
            assertThat(q.toString()).as("the items before the one the codec refused").isEqualTo("[a, b]");
            q.put("d");
            assertThat(q.toString()).isEqualTo("[a, b, d]");
        }
    }

    @Test
    void anItemTheUsersCodecDecodesToNullIsReportedNotMistakenForAnEmptyQueue() throws Exception {
        // a queue holds no nulls: poll()'s null means "empty", so a null from the codec would lose the item unseen
        try (SharedQueue<String> q = SharedQueue.create(10, 4096, IdleStrategy.blocking(), new QuirkyCodec())) {
            q.put("nothing");
            q.put("next");
            assertThatThrownBy(q::poll).isInstanceOf(CodecException.class)
                    .hasMessageContaining(QuirkyCodec.class.getName()).hasMessageContaining("null");
            assertThat(q.poll()).as("the item after it").isEqualTo("next");
        }
    }

    @Test
    void aQueueWithACodecThatIsNotSerializableCannotBeSentToAChild() {
        Codec local = new Codec() {
            @Override
            public void encode(Object value, ByteSink out) {
                Codec.defaultCodec().encode(value, out);
            }

            @Override
            public Object decode(ByteSource in) {
                return Codec.defaultCodec().decode(in);
            }
        };
        try (SharedQueue<String> q = SharedQueue.create(4, 4096, IdleStrategy.blocking(), local)) {
            assertThatThrownBy(() -> ChildProcess.start(() -> q.offer("x")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not Serializable");
        }
    }

    // ------------------------------------------------------------------ java.util.concurrent conventions

    @Test
    void toStringPrintsTheItemsLikeTheJdkQueuesAndDescribeNamesTheHandle() throws Exception {
        try (SharedQueue<Integer> q = SharedQueue.create(10)) {
            assertThat(q.toString()).isEqualTo("[]");
            q.put(1);
            q.put(2);
            q.put(3);
            assertThat(q.toString()).isEqualTo(new java.util.concurrent.ArrayBlockingQueue<>(3, false, List.of(1, 2, 3)).toString())
                    .isEqualTo("[1, 2, 3]");
            assertThat(q.describe()).isEqualTo("SharedQueue[name=" + q.name() + ", size=3, maxItems=10, capacityBytes=65536]");
            assertThat(q.size()).as("printing takes nothing").isEqualTo(3);
        }
    }

    @Test
    void aStreamOverAQueueThatOtherThreadsChangeNeverFailsOnItsSize() throws Exception {
        try (SharedQueue<Integer> q = SharedQueue.create(64)) {
            java.util.Spliterator<Integer> sp = q.spliterator();
            assertThat(sp.hasCharacteristics(java.util.Spliterator.CONCURRENT)).isTrue();
            assertThat(sp.hasCharacteristics(java.util.Spliterator.ORDERED)).isTrue();
            assertThat(sp.hasCharacteristics(java.util.Spliterator.NONNULL)).isTrue();
            assertThat(sp.hasCharacteristics(java.util.Spliterator.SIZED)).isFalse();
            for (int i = 0; i < 32; i++) {
                q.put(i);
            }
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread churn = new Thread(() -> {
                for (int i = 0; !stop.get(); i++) {
                    q.offer(i);
                    q.poll();
                    if (i % 3 == 0) {
                        q.poll();
                        q.offer(i);
                    }
                }
            });
            churn.start();
            try {
                for (int round = 0; round < 2000; round++) {
                    Object[] items = q.stream().toArray(); // a SIZED spliterator threw "End size N is less than fixed size"
                    assertThat(items.length).isBetween(1, 64);
                    assertThat(q.stream().filter(x -> x >= 0).count()).isBetween(1L, 64L);
                }
            } finally {
                stop.set(true);
                churn.join();
            }
        }
    }

    // ------------------------------------------------------------------ batches

    @Test
    void offerAllAddsThePrefixThatFitsAndSaysHowMany() throws Exception {
        try (SharedQueue<Integer> q = SharedQueue.create(10)) {
            q.put(-1);
            List<Integer> items = java.util.stream.IntStream.range(0, 15).boxed().toList();
            assertThat(q.offerAll(items)).isEqualTo(9);
            assertThat(q.offerAll(items)).as("full: nothing added").isZero();
            List<Integer> got = new ArrayList<>();
            assertThat(q.drainTo(got)).isEqualTo(10);
            assertThat(got).containsExactly(-1, 0, 1, 2, 3, 4, 5, 6, 7, 8);
            assertThat(q.offerAll(List.of())).isZero();
        }
    }

    /** putAll with a time limit: what fits within it, in order, and how many. */
    @Test
    void offerAllWithATimeoutAddsWhatFitsWithinItAndSaysHowMany() throws Exception {
        try (SharedQueue<Integer> q = SharedQueue.create(10); SharedLong started = SharedLong.create(0)) {
            List<Integer> items = java.util.stream.IntStream.range(0, 25).boxed().toList();
            ChildProcess consumer = ChildProcess.start(() -> {
                try {
                    started.set(1);
                    Thread.sleep(300);
                    for (int i = 0; i < 5; i++) {
                        q.take();
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                awaitUntil("the consumer runs", () -> started.get() == 1);
                long t0 = System.nanoTime();
                assertThat(q.offerAll(items, Duration.ofSeconds(3))).as("10 at once, 5 once the consumer took 5").isEqualTo(15);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(2_900), Duration.ofSeconds(20));
                joinOk(consumer);
                List<Integer> got = new ArrayList<>();
                q.drainTo(got);
                assertThat(got).containsExactly(5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
                assertThat(q.offerAll(items, Duration.ZERO)).isEqualTo(10);
                assertThatThrownBy(() -> q.offerAll(items, Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("timeout=");
            } finally {
                reap(consumer);
            }
        }
    }

    @Test
    void putAllWaitsForRoomAndKeepsOrderAcrossBatchesAndSpilledItems() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(100, 4096)) {
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < 5000; i++) {
                items.add(i % 1000 == 500 ? pattern(10_000, i) : (Object) i); // every 1000th spills
            }
            ChildProcess consumer = ChildProcess.start(() -> {
                try {
                    for (int i = 0; i < 5000; i++) {
                        Object o = q.take();
                        boolean ok = i % 1000 == 500 ? checksum((byte[]) o) == checksum(pattern(10_000, i)) : o.equals(i);
                        if (!ok) {
                            throw new IllegalStateException("item " + i + " was " + o);
                        }
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                q.putAll(items);
                joinOk(consumer);
                assertThat(q.isEmpty()).isTrue();
            } finally {
                reap(consumer);
            }
        }
    }

    @Test
    void putAllAddsTheItemsBeforeANullOrUnencodableOneThenThrows() throws Exception {
        try (SharedQueue<Object> q = SharedQueue.create(10)) {
            assertThatThrownBy(() -> q.putAll(java.util.Arrays.asList("a", "b", null, "c"))).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> q.putAll(List.of("d", new Object(), "e"))).isInstanceOf(CodecException.class);
            assertThat(q.toString()).isEqualTo("[a, b, d]");
            assertThatThrownBy(() -> q.putAll(q)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("items=this");
            q.closeForWriting();
            assertThatThrownBy(() -> q.putAll(List.of("f"))).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed for writing");
            assertThatThrownBy(() -> q.offerAll(List.of("f"))).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed for writing");
        }
    }

    @Test
    void objectsOnlyLookedAtInAQueueGoOnceTheirHandlesAreClosedAndUnreachable() throws Exception {
        try (SharedQueue<SharedLong> q = SharedQueue.create(4)) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                SharedLong v = SharedLong.create(i);
                names.add(v.name());
                q.put(v);
                v.close(); // the queue holds it now
                assertThat(q.peek().get()).isEqualTo(i);
                assertThat(q.toString()).isNotEmpty();
                assertThat(q.contains(new Object())).isFalse(); // decodes each item to compare
                try (SharedLong taken = q.take()) {
                    assertThat(taken.get()).isEqualTo(i);
                }
            }
            awaitUntil("every looked-at object's segment is gone", () -> {
                System.gc();
                return names.stream().noneMatch(n -> java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", n)));
            });
        }
    }
}
