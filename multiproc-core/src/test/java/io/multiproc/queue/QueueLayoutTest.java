package io.multiproc.queue;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Random;

import static io.multiproc.queue.RecordLayout.count;
import static io.multiproc.queue.RecordLayout.position;
import static io.multiproc.queue.RecordLayout.word;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Arithmetic of the layouts and of the record ring, without processes. */
class QueueLayoutTest {
    /** Test rings put the tail word (and its full position) at 0, the head word at 16, records at 64. */
    private static final long TAIL = 0;
    private static final long HEAD = 16;

    /** Sets both sides to {@code count} items and full position {@code position}, as a ring that moved that far. */
    private static void startAt(MemorySegment seg, int count, long position) {
        for (long side : new long[] {TAIL, HEAD}) {
            seg.set(JAVA_LONG, side, word(count, (int) position));
            seg.set(JAVA_LONG, side + RecordLayout.FULL_POSITION, position);
        }
    }

    @Test
    void aPositionWordPacksCountAndPositionAndDifferencesSurviveTheWrap() {
        long w = word(-1, -8);
        assertThat(count(w)).isEqualTo(-1);
        assertThat(position(w)).isEqualTo(-8);
        long later = word(count(w) + 3, position(w) + 24);
        assertThat(count(later)).isEqualTo(2);
        assertThat(position(later)).isEqualTo(16);
        assertThat(count(later) - count(w)).as("items across the wrap").isEqualTo(3);
        assertThat(position(later) - position(w)).as("bytes across the wrap").isEqualTo(24);
    }

    @Test
    void recordsAreAHeaderPlusPayloadRoundedUpToEightBytes() {
        assertThat(RecordLayout.recordSize(0)).isEqualTo(8);
        assertThat(RecordLayout.recordSize(1)).isEqualTo(16);
        assertThat(RecordLayout.recordSize(8)).isEqualTo(16);
        assertThat(RecordLayout.recordSize(9)).isEqualTo(24);
        int kl = RecordLayout.kindLength(RecordLayout.SPILL, 12345);
        assertThat(RecordLayout.kind(kl)).isEqualTo(RecordLayout.SPILL);
        assertThat(RecordLayout.length(kl)).isEqualTo(12345);
        assertThat(RecordLayout.kind(RecordLayout.kindLength(RecordLayout.REMOVED, (1 << 29)))).isEqualTo(RecordLayout.REMOVED);
    }

    @Test
    void capacitiesRoundUpToAPowerOfTwoWithinTheBounds() {
        assertThat(RecordLayout.checkCapacity("capacityBytes", 1024)).isEqualTo(1024);
        assertThat(RecordLayout.checkCapacity("capacityBytes", 1025)).isEqualTo(2048);
        assertThat(RecordLayout.checkCapacity("capacityBytes", 1 << 30)).isEqualTo(1 << 30);
        assertThatThrownBy(() -> RecordLayout.checkCapacity("capacityBytes", 1023)).hasMessageContaining("capacityBytes=1023");
        assertThatThrownBy(() -> RecordLayout.checkCapacity("capacityBytes", (1L << 30) + 1)).hasMessageContaining("capacityBytes=");
        assertThat(QueueLayout.defaultCapacity(6)).isEqualTo(64 << 10);
        assertThat(QueueLayout.defaultCapacity(10_000)).isEqualTo(1 << 20);
        assertThat(QueueLayout.defaultCapacity(Integer.MAX_VALUE)).isEqualTo(16 << 20);
        assertThat(RecordLayout.maxInlinePayload(1024)).isEqualTo(504);
    }

    @Test
    void theQueueLinesAre128BytesApartAfterTheHeader() {
        long[] lines = {QueueLayout.PRODUCER, QueueLayout.PRODUCER_LOCK, QueueLayout.CONSUMER, QueueLayout.CONSUMER_LOCK,
                QueueLayout.NOT_EMPTY_SEQ, QueueLayout.NOT_FULL_SEQ, QueueLayout.DONE, QueueLayout.PRODUCERS};
        assertThat(QueueLayout.CAPACITY).isGreaterThanOrEqualTo(io.multiproc.internal.SegmentHeader.SIZE);
        for (int i = 1; i < lines.length; i++) {
            assertThat(lines[i] - lines[i - 1]).isEqualTo(128);
        }
        assertThat(io.multiproc.internal.EmbeddedLocks.REGION_SIZE).isLessThanOrEqualTo(128); // a lock region fits its line
        assertThat(QueueLayout.CONSUMERS - QueueLayout.PRODUCERS).isEqualTo(8L * QueueLayout.PEER_SLOTS);
        assertThat(QueueLayout.TAKERS - QueueLayout.CONSUMERS).isEqualTo(8L * QueueLayout.PEER_SLOTS);
        assertThat(QueueLayout.RING - QueueLayout.TAKERS).as("one cache line per taker").isEqualTo(64L * QueueLayout.TAKER_SLOTS);
        assertThat(QueueLayout.TAKER_STRIDE).isEqualTo(64);
        assertThat(QueueLayout.TAKER_DONE + 4).as("a taker's counts fit its line").isLessThanOrEqualTo(QueueLayout.TAKER_STRIDE);
        assertThat(QueueLayout.WRITING_CLOSED + 8).as("config fits its line").isLessThanOrEqualTo(QueueLayout.PRODUCER);
        assertThat(QueueLayout.TAIL + RecordLayout.FULL_POSITION + 8).as("full position in the tail line").isLessThanOrEqualTo(QueueLayout.PRODUCER_LOCK);
        assertThat(QueueLayout.TAIL % 8).isZero();
        assertThat(QueueLayout.HEAD % 8).isZero();
        assertThat(QueueLayout.segmentSize(1024)).isEqualTo(QueueLayout.RING + 1024);
        assertThat(PipeLayout.channel(1) - PipeLayout.channel(0)).isEqualTo(PipeLayout.CHANNEL_SIZE);
        assertThat(PipeLayout.ring(2, 1, 4096) - PipeLayout.ring(2, 0, 4096)).isEqualTo(4096);
        assertThat(PipeLayout.ring(2, 0, 4096)).isEqualTo(PipeLayout.channel(2));
    }

    @Test
    void anEmptyRingTakesTheLargestInlineRecordAtAnyOffset() {
        int capacity = 1024;
        for (int start = 0; start < capacity; start += 8) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(64 + capacity, 8);
                startAt(seg, 7, start);
                RecordRing ring = new RecordRing(seg, 64, capacity, 100, TAIL, HEAD);
                int max = RecordLayout.maxInlinePayload(capacity);
                assertThat(ring.tryAppend(RecordLayout.ITEM, new byte[max], max)).as("offset %d", start).isTrue();
                ring.tryAppend(RecordLayout.ITEM, new byte[max], max); // fits only at offsets 0 and capacity / 2
                assertThat(ring.tryAppend(RecordLayout.ITEM, new byte[max], max)).as("full at offset %d", start).isFalse();
                assertThat(ring.size()).isEqualTo(start % (capacity / 2) == 0 ? 2 : 1);
            }
        }
    }

    @Test
    void recordsOfRandomLengthsComeBackIntactAcrossManyWrapsAndTheCounterWrap() {
        int capacity = 1024;
        Random random = new Random(42);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(64 + capacity, 8);
            startAt(seg, -50, (1L << 32) - 1000); // both 32-bit counters wrap during the test
            RecordRing ring = new RecordRing(seg, 64, capacity, 6, TAIL, HEAD);
            ArrayDeque<byte[]> expected = new ArrayDeque<>();
            for (int round = 0; round < 20_000; round++) {
                if (random.nextBoolean()) {
                    byte[] b = new byte[random.nextInt(RecordLayout.maxInlinePayload(capacity) + 1)];
                    random.nextBytes(b);
                    boolean fits = ring.tryAppend(RecordLayout.ITEM, b, b.length);
                    if (fits) {
                        expected.add(b);
                    } else {
                        assertThat(expected).as("refused only when something is queued").isNotEmpty();
                    }
                } else if (!expected.isEmpty()) {
                    long at = ring.first();
                    assertThat(at).isNotEqualTo(RecordRing.EMPTY);
                    byte[] want = expected.poll();
                    int length = RecordLayout.length(ring.kindLengthAt((int) at));
                    byte[] got = new byte[length];
                    ring.copyPayload((int) at, length, got, 0);
                    assertThat(got).isEqualTo(want);
                    ring.consume((int) at);
                } else {
                    assertThat(ring.first()).isEqualTo(RecordRing.EMPTY);
                }
                assertThat(ring.size()).isEqualTo(expected.size());
                assertThat(expected.size()).isLessThanOrEqualTo(6);
            }
        }
    }

    @Test
    void twoHandlesTakingTurnsOnOneRingNeverTrustAStaleViewOfTheOtherSide() {
        int capacity = 1024;
        Random random = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(64 + capacity, 8);
            startAt(seg, Integer.MAX_VALUE - 30, (1L << 32) - 3000); // counts and positions wrap
            RecordRing[] handles = {new RecordRing(seg, 64, capacity, 20, TAIL, HEAD), new RecordRing(seg, 64, capacity, 20, TAIL, HEAD)};
            ArrayDeque<byte[]> expected = new ArrayDeque<>();
            for (int round = 0; round < 50_000; round++) {
                RecordRing r = handles[random.nextInt(2)]; // whichever "process" holds the right this time
                if (random.nextInt(3) > 0) {
                    byte[] b = new byte[random.nextInt(60)];
                    random.nextBytes(b);
                    if (r.tryAppend(RecordLayout.ITEM, b, b.length)) {
                        expected.add(b);
                    } else {
                        assertThat(expected.size() >= 20 || expected.stream().mapToInt(x -> RecordLayout.recordSize(x.length)).sum()
                                + RecordLayout.recordSize(b.length) > capacity - RecordLayout.recordSize(59)).as("refused only when full (padding included)").isTrue();
                    }
                } else {
                    long at = r.first();
                    if (expected.isEmpty()) {
                        assertThat(at).isEqualTo(RecordRing.EMPTY);
                        continue;
                    }
                    assertThat(at).isNotEqualTo(RecordRing.EMPTY);
                    byte[] want = expected.poll();
                    int length = RecordLayout.length(r.kindLengthAt((int) at));
                    byte[] got = new byte[length];
                    r.copyPayload((int) at, length, got, 0);
                    assertThat(got).isEqualTo(want);
                    r.consume((int) at);
                }
            }
        }
    }

    @Test
    void aProducerHandleLeftIdleWhileOthersPushMoreThan2To32BytesDoesNotOverwriteUnreadRecords() {
        int capacity = 1 << 20;
        int quarter = capacity / 4;
        byte[] payload = new byte[quarter - RecordLayout.HEADER]; // records of exactly a quarter ring
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(64 + capacity, 8);
            startAt(seg, 0, 0);
            RecordRing idle = new RecordRing(seg, 64, capacity, Integer.MAX_VALUE, TAIL, HEAD);
            RecordRing busy = new RecordRing(seg, 64, capacity, Integer.MAX_VALUE, TAIL, HEAD);
            assertThat(idle.tryAppend(RecordLayout.ITEM, payload, payload.length)).isTrue(); // reads its view of the head
            // Other handles push and take records until the tail is exactly 2^32 bytes past where the idle
            // handle read its view, leaving the ring full of four unread records.
            long records = (1L << 32) / quarter;
            for (long i = 1; i < records; i++) {
                if (i <= records - 4) {
                    take(busy);
                }
                payload[0] = (byte) i;
                assertThat(busy.tryAppend(RecordLayout.ITEM, payload, payload.length)).as("record %d", i).isTrue();
            }
            assertThat(seg.get(JAVA_LONG, TAIL + RecordLayout.FULL_POSITION)).isEqualTo(1L << 32);
            assertThat(busy.size()).isEqualTo(4);

            assertThat(idle.tryAppend(RecordLayout.ITEM, payload, payload.length)).as("the ring is full").isFalse();
            for (long i = records - 4; i < records; i++) {
                long at = busy.first();
                assertThat(at).isNotEqualTo(RecordRing.EMPTY);
                assertThat(busy.seqAt((int) at)).as("record %d unread and intact", i).isEqualTo((int) i);
                byte[] got = new byte[8];
                busy.copyPayload((int) at, 8, got, 0);
                assertThat(got[0]).isEqualTo((byte) i);
                busy.consume((int) at);
            }
            assertThat(busy.first()).isEqualTo(RecordRing.EMPTY);
        }
    }

    private static void take(RecordRing ring) {
        long at = ring.first();
        assertThat(at).isNotEqualTo(RecordRing.EMPTY);
        ring.consume((int) at);
    }

    @Test
    void aRemovalCutShortBetweenItsTwoStoresIsRepairedAndNoWalkPassesTheTail() {
        int capacity = 1024;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(64 + capacity, 8);
            startAt(seg, 5, (1L << 32) - 40); // the walk crosses the 32-bit wrap
            RecordRing ring = new RecordRing(seg, 64, capacity, 100, TAIL, HEAD);
            for (int i = 0; i < 3; i++) {
                assertThat(ring.tryAppend(RecordLayout.ITEM, new byte[] {(byte) i}, 1)).isTrue();
            }
            long headBefore = seg.get(JAVA_LONG, HEAD);
            take(ring);
            take(ring);
            // A consumer that dies inside markRemoved: the record says REMOVED, the head count is not moved
            // (the third record sits after a padding record, at the start of the ring).
            int third = (int) ring.first();
            seg.set(java.lang.foreign.ValueLayout.JAVA_INT, 64 + (third & (capacity - 1)),
                    RecordLayout.kindLength(RecordLayout.REMOVED, 1));
            assertThat(ring.size()).as("the count still holds the removed item").isEqualTo(1);
            // Stale bytes after the tail that look like an item: the walk must not reach them.
            long afterTail = 64 + (RecordLayout.position(ring.tailWord()) & (capacity - 1));
            seg.set(java.lang.foreign.ValueLayout.JAVA_INT, afterTail, RecordLayout.kindLength(RecordLayout.ITEM, 1));
            assertThat(ring.first()).as("only a removed record before the tail").isEqualTo(RecordRing.EMPTY);
            assertThat(ring.repairHeadCount()).isTrue();
            assertThat(ring.size()).isZero();
            assertThat(ring.repairHeadCount()).as("nothing left to repair").isFalse();
            assertThat(count(seg.get(JAVA_LONG, HEAD))).isEqualTo(count(headBefore) + 3);
            assertThat(ring.tryAppend(RecordLayout.ITEM, new byte[] {9}, 1)).isTrue();
            long at = ring.first();
            byte[] got = new byte[1];
            ring.copyPayload((int) at, 1, got, 0);
            assertThat(got[0]).isEqualTo((byte) 9);
        }
    }
}
