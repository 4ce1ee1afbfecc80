package io.multiproc.queue;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static io.multiproc.queue.RecordLayout.FULL_POSITION;
import static io.multiproc.queue.RecordLayout.HEADER;
import static io.multiproc.queue.RecordLayout.ITEM;
import static io.multiproc.queue.RecordLayout.KIND_LENGTH;
import static io.multiproc.queue.RecordLayout.PADDING;
import static io.multiproc.queue.RecordLayout.PAYLOAD;
import static io.multiproc.queue.RecordLayout.REMOVED;
import static io.multiproc.queue.RecordLayout.SEQ;
import static io.multiproc.queue.RecordLayout.SPILL;
import static io.multiproc.queue.RecordLayout.count;
import static io.multiproc.queue.RecordLayout.kind;
import static io.multiproc.queue.RecordLayout.kindLength;
import static io.multiproc.queue.RecordLayout.length;
import static io.multiproc.queue.RecordLayout.position;
import static io.multiproc.queue.RecordLayout.recordSize;
import static io.multiproc.queue.RecordLayout.word;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The records of one ring ({@link RecordLayout}) over a mapped segment: appending at the tail,
 * reading and freeing at the head. It does no locking: producer methods assume the caller is the only
 * producer right now (it holds the producer lock, or it is a pipe's one sender), consumer methods the
 * same for consumers. Reads of the other side's word are volatile; writes of one's own word are
 * release stores (they publish). Callers that then check a wait word for sleepers issue a full fence
 * first (a pipe's {@code VarHandle.fullFence()}, a queue's lock release): the store and the sleeper check
 * are one half of a Dekker pair with a waiter's registration and re-check.
 *
 * <pre>{@code
 * RecordRing r = new RecordRing(seg, RING, capacity, maxItems, TAIL, HEAD);
 * if (r.tryAppend(RecordLayout.ITEM, bytes, n)) { ... }          // producer
 * long at = r.first(); if (at != RecordRing.EMPTY) { copy; r.consume((int) at); }   // consumer
 * }</pre>
 */
final class RecordRing {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle ARRAY_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** Payloads up to this many bytes are copied as 8-byte words rather than with a bulk copy. */
    private static final int WORD_COPY_MAX = 32;
    /** {@link #first()} when there is no item. */
    static final long EMPTY = -1L;

    private final MemorySegment seg;
    private final long ring;
    private final int capacity;
    private final int mask;
    private final int maxItems;
    private final long tail;
    private final long head;
    /** The sides' 64-bit full positions ({@link RecordLayout#FULL_POSITION} after each word). */
    private final long tailFull;
    private final long headFull;
    /*
     * Each side's last view of the other side's word, so that it reads (and pulls over the other
     * core's cache line) only when the view says "full" or "empty". Stale views are conservative: the
     * head and tail only move forward. A view is trusted only while this side's own full position
     * (64 bits, never wraps) has moved less than one ring since the view was read, whoever moved it:
     * other handles of an MPMC queue move "this side" too, and no amount of their traffic can make an
     * old view look fresh. Plain fields: used only by the holder of that side's right (lock, or a pipe
     * end's own thread), whose acquisition orders them.
     */
    private long headView;
    private long headViewAt = UNTRUSTED;
    private long tailView;
    private long tailViewAt = UNTRUSTED;
    /** A view-read position that no own position is within one ring of: the first use reads fresh. */
    private static final long UNTRUSTED = Long.MIN_VALUE;

    RecordRing(MemorySegment seg, long ring, int capacity, int maxItems, long tail, long head) {
        this.seg = seg;
        this.ring = ring;
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.maxItems = maxItems;
        this.tail = tail;
        this.head = head;
        this.tailFull = tail + FULL_POSITION;
        this.headFull = head + FULL_POSITION;
    }

    /** A view read when this side's full position was {@code viewAt} is trusted while it moved {@code [0, capacity)} since. */
    private boolean trusted(long ownFull, long viewAt) {
        return Long.compareUnsigned(ownFull - viewAt, capacity) < 0;
    }

    /** This side's exact full position, for the holder of its right, given its word {@code w} read now. */
    private long ownFull(long fullOffset, long w) {
        return RecordLayout.fullPosition(seg.get(JAVA_LONG, fullOffset), position(w));
    }

    int capacity() {
        return capacity;
    }

    int maxItems() {
        return maxItems;
    }

    long tailWord() {
        return (long) LONG.getVolatile(seg, tail);
    }

    long headWord() {
        return (long) LONG.getVolatile(seg, head);
    }

    /** Items between head and tail (read head first: never negative, possibly already stale). */
    int size() {
        long h = headWord();
        long t = tailWord();
        return Math.max(0, Math.min(maxItems, count(t) - count(h)));
    }

    /** True if an item (not just padding or removed records) is between head and tail. */
    boolean hasItems() {
        return count(tailWord()) != count(headWord());
    }

    // ------------------------------------------------------------------ producer side

    /**
     * Appends one record if there is room for it (item count and bytes), and publishes it.
     *
     * @return false if the ring is full for this record; nothing written
     */
    boolean tryAppend(int kind, byte[] src, int length) {
        return tryAppend(kind, src, 0, length);
    }

    /** {@link #tryAppend(int, byte[], int)} of {@code src[from, from + length)}. */
    boolean tryAppend(int kind, byte[] src, int from, int length) {
        long t = tailWord();
        long full = ownFull(tailFull, t);
        int size = recordSize(length);
        int offset = (int) full & mask;
        int pad = capacity - offset < size ? capacity - offset : 0;
        if (!trusted(full, headViewAt) || !fits(t, headView, pad + size)) {
            long h = headWord();
            headView = h;
            headViewAt = full;
            if (!fits(t, h, pad + size)) {
                return false;
            }
        }
        if (pad > 0) {
            seg.set(JAVA_INT, ring + offset + KIND_LENGTH, kindLength(PADDING, pad - HEADER));
            offset = 0;
        }
        int tailCount = count(t);
        long at = ring + offset;
        seg.set(JAVA_INT, at + SEQ, tailCount);
        copyIn(src, from, length, at + PAYLOAD);
        seg.set(JAVA_INT, at + KIND_LENGTH, kindLength(kind, length));
        publishTail(tailCount + 1, full + pad + size);
        return true;
    }

    /** Publishes the tail: the full position first (never behind the word), then the word. */
    private void publishTail(int count, long full) {
        seg.set(JAVA_LONG, tailFull, full);
        // NOTE: publishes the records: their bytes (plain writes before) become visible before the
        // tail covers them. The caller fences before it checks for sleeping consumers.
        LONG.setRelease(seg, tail, word(count, (int) full));
    }

    /** Publishes the head: the full position first (never behind the word), then the word. */
    private void publishHead(int count, long full) {
        seg.set(JAVA_LONG, headFull, full);
        // NOTE: frees the records for producers only after the caller copied them out (release). The
        // caller fences before it checks for sleeping producers.
        LONG.setRelease(seg, head, word(count, (int) full));
    }

    /** Room for one more item of {@code bytes} (padding included) between head {@code h} and tail {@code t}. */
    private boolean fits(long t, long h, int bytes) {
        return count(t) - count(h) < maxItems && Integer.toUnsignedLong(position(t) - position(h)) + bytes <= capacity;
    }

    private void copyIn(byte[] src, int from, int length, long at) {
        int words = (length + 7) & -8;
        if (words <= WORD_COPY_MAX && src.length - from >= words) {
            // Small items: whole words. The record's payload area is 8-aligned and at least this long,
            // so the bytes after length land in the record's own alignment padding.
            for (int i = 0; i < words; i += 8) {
                seg.set(JAVA_LONG, at + i, (long) ARRAY_LONG.get(src, from + i));
                if (FaultInjection.ENABLED && i == 0) {
                    FaultInjection.at(FaultInjection.Point.PRODUCER_MID_RECORD);
                }
            }
            return;
        }
        if (!FaultInjection.ENABLED) {
            MemorySegment.copy(src, from, seg, JAVA_BYTE, at, length);
            return;
        }
        // The same bulk copy in two halves, so that a test can stop the producer in the middle.
        int half = length / 2;
        MemorySegment.copy(src, from, seg, JAVA_BYTE, at, half);
        FaultInjection.at(FaultInjection.Point.PRODUCER_MID_RECORD);
        MemorySegment.copy(src, from + half, seg, JAVA_BYTE, at + half, length - half);
    }

    // ------------------------------------------------------------------ consumer side

    /**
     * The position of the first item record (ITEM or SPILL), after freeing the padding and removed
     * records before it; {@link #EMPTY} if there is none. The walk never passes a tail value read from
     * the tail word: only records a producer published are read.
     */
    long first() {
        long h = headWord();
        long full = ownFull(headFull, h);
        long t = tailView;
        if (!trusted(full, tailViewAt) || count(t) - count(h) <= 0) {
            t = tailWord();
            tailView = t;
            tailViewAt = full;
        }
        int pos = position(h);
        for (;;) {
            // NOTE: records in [head, t) were complete before the tail word t was written (release),
            // which this side read (acquire), now or in the view.
            int end = position(t);
            while (pos - end < 0) {
                int kl = seg.get(JAVA_INT, ring + (pos & mask) + KIND_LENGTH);
                int k = kind(kl);
                if (k == ITEM || k == SPILL) {
                    freeSkipped(h, full, pos);
                    return pos & 0xffff_ffffL;
                }
                pos += recordSize(length(kl));
            }
            long fresh = tailWord();
            if (position(fresh) == end) {
                freeSkipped(h, full, pos);
                return EMPTY;
            }
            t = fresh;
            tailView = t;
            tailViewAt = full;
        }
    }

    /** Frees the padding and removed records between the head {@code h} and {@code pos}; the count is unchanged. */
    private void freeSkipped(long h, long full, int pos) {
        if (pos != position(h)) {
            publishHead(count(h), full + (pos - position(h)));
        }
    }

    int kindLengthAt(int pos) {
        return seg.get(JAVA_INT, ring + (pos & mask) + KIND_LENGTH);
    }

    int seqAt(int pos) {
        return seg.get(JAVA_INT, ring + (pos & mask) + SEQ);
    }

    /**
     * Copies {@code length} payload bytes of the record at {@code pos} into {@code dst} at
     * {@code dstOffset}. Small payloads are copied as whole words when {@code dst} has room for them
     * (the bytes after {@code length} are then overwritten with the record's padding).
     */
    void copyPayload(int pos, int length, byte[] dst, int dstOffset) {
        long at = ring + (pos & mask) + PAYLOAD;
        int words = (length + 7) & -8;
        if (words <= WORD_COPY_MAX && dst.length - dstOffset >= words) {
            for (int i = 0; i < words; i += 8) {
                ARRAY_LONG.set(dst, dstOffset + i, seg.get(JAVA_LONG, at + i));
            }
            return;
        }
        MemorySegment.copy(seg, JAVA_BYTE, at, dst, dstOffset, length);
    }

    /**
     * Takes the record at {@code pos}, which is the head record: frees it, and the padding and removed
     * records right after it (see {@link #freeDone()}), and counts one item taken, in one store.
     */
    void consume(int pos) {
        consume(pos, length(kindLengthAt(pos)));
    }

    /** {@link #consume(int)} for a record whose payload length the caller already read. */
    void consume(int pos, int length) {
        long h = headWord();
        long full = ownFull(headFull, h);
        int count = count(h) + 1;
        int next = skipDone(full, count, pos + recordSize(length));
        publishHead(count, full + (next - position(h)));
    }

    /**
     * Frees the padding and removed records at the head, up to the first item or the tail. A removed
     * record keeps its bytes until the head passes it, and producers wait on bytes: one left at the head
     * of a queue nobody takes from would keep them waiting forever. Consumer-lock holders call this after
     * a removal; {@link #consume} and {@link #first()} do the same as they move the head.
     */
    void freeDone() {
        long h = headWord();
        long full = ownFull(headFull, h);
        int next = skipDone(full, count(h), position(h));
        if (next != position(h)) {
            publishHead(count(h), full + (next - position(h)));
        }
    }

    /**
     * The position of the first record at or after {@code pos} (the head once its records before
     * {@code pos} are freed) that is not padding or removed; the tail's if there is none. Reads the tail
     * word only if a removed record may lie beyond this side's view: the head count {@code count} counts
     * every item below {@code pos} and every removed record not yet passed, the view's count every item
     * below the view's position, so at that position equal counts mean no removed record is pending.
     */
    private int skipDone(long full, int count, int pos) {
        long t = tailView;
        if (!trusted(full, tailViewAt)) {
            t = tailWord();
            tailView = t;
            tailViewAt = full;
        }
        for (;;) {
            // NOTE: records below the tail value t were complete before t was written (release), which
            // this side read (acquire), now or in the view.
            int end = position(t);
            while (pos - end < 0) {
                int k = kind(kindLengthAt(pos));
                if (k == ITEM || k == SPILL) {
                    return pos;
                }
                pos = next(pos);
            }
            if (count == count(t)) {
                return pos;
            }
            long fresh = tailWord();
            if (fresh == t) {
                return pos;
            }
            t = fresh;
            tailView = t;
            tailViewAt = full;
        }
    }

    /**
     * Turns the item record at {@code pos} (anywhere between head and tail) into a removed one: two
     * stores. The kind change is what consumers act on (the walk skips the record); the head count is
     * bookkeeping for {@link #size()}. A consumer killed between the two leaves the count one short,
     * which {@link #repairHeadCount()} fixes under the consumer lock taken over from it.
     */
    void markRemoved(int pos) {
        long at = ring + (pos & mask) + KIND_LENGTH;
        seg.set(JAVA_INT, at, kindLength(REMOVED, length(seg.get(JAVA_INT, at))));
        if (FaultInjection.ENABLED) {
            FaultInjection.at(FaultInjection.Point.CONSUMER_MID_REMOVE);
        }
        long h = headWord();
        // NOTE: the item counts as taken now (release, after the kind change); its bytes are freed when
        // the head passes the record (the caller's freeDone(), or the consumer that takes the item before it).
        LONG.setRelease(seg, head, word(count(h) + 1, position(h)));
    }

    /**
     * After taking the consumer right over from a dead holder: sets the head count to the tail count
     * minus the items actually between head and tail (a walk bounded by the tail), in one store.
     *
     * @return true if the count was wrong
     */
    boolean repairHeadCount() {
        long h = headWord();
        long t = tailWord();
        int items = 0;
        int end = position(t);
        for (int pos = position(h); pos - end < 0; pos = next(pos)) {
            int k = kind(kindLengthAt(pos));
            if (k == ITEM || k == SPILL) {
                items++;
            }
        }
        int want = count(t) - items;
        if (want == count(h)) {
            return false;
        }
        // NOTE: one release store; the position is unchanged, so the full position stays valid.
        LONG.setRelease(seg, head, word(want, position(h)));
        return true;
    }

    /** Position of the record after the one at {@code pos}. */
    int next(int pos) {
        return pos + recordSize(length(kindLengthAt(pos)));
    }

    /** True if {@code pos} lies in [head, tail) as seen now. */
    boolean holds(int pos) {
        int h = position(headWord());
        int t = position(tailWord());
        return pos - h >= 0 && pos - h < t - h;
    }
}
