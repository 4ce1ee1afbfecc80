package io.multiproc.queue;

import io.multiproc.internal.SegmentHeader;

/**
 * Layout of a {@link SharedQueue} segment (also {@link JoinableQueue} and {@link SimpleQueue}). Static
 * only; records and position words: {@link RecordLayout}.
 *
 * <pre>
 *  0               64              128                  256                  384         512         640         768
 *  +---------------+---------------+--------------------+--------------------+-----------+-----------+-----------+------- ... ---+
 *  | SegmentHeader | config        | producer line      | consumer line      | not empty | not full  | join line | ring          |
 *  | magic         | +0 capacity   | +0 tail word       | +0 head word       | +0 seq    | +0 seq    | +0 done   | capacity      |
 *  | MPQUEUE1      | +4 max items  | +8 producer lock   | +8 consumer lock   | +4 sleep- | +4 sleep- | +4 seq    | bytes of      |
 *  | kind: queue,  | +8 idle code  |    owner token     |    owner token     |    ers    |    ers    | +8 sleep- | records       |
 *  | joinable,     |               | +16 lock seq       | +16 lock seq       |           |           |    ers    |               |
 *  | simple        |               | +20 lock sleepers  | +20 lock sleepers  |           |           |           |               |
 *  +---------------+---------------+--------------------+--------------------+-----------+-----------+-----------+------- ... ---+
 * </pre>
 * <ul>
 *   <li>config: written once by the creator before the name is shared; plain reads.</li>
 *   <li>producer line: the tail word, written (volatile) only by the holder of the producer lock; the
 *       lock word, CAS 0 to a {@code ProcessIdentity} token by producers (or a dead holder's token to
 *       theirs), volatile 0 by the holder; its wait word (seq, sleepers).</li>
 *   <li>consumer line: the same for the head word and the consumer lock.</li>
 *   <li>not empty: consumers sleep here, producers wake them after publishing. not full: the other
 *       way round.</li>
 *   <li>join line: done, the count of {@code taskDone()} calls modulo 2^32 (CAS by any process); join
 *       waiters sleep on its wait word.</li>
 * </ul>
 * Each line is 128 bytes from the next: producers and consumers write different lines.
 */
final class QueueLayout {
    static final long MAGIC = 0x3145_5545_5551_504DL; // "MPQUEUE1" read little-endian
    static final int VERSION = 1;
    static final int KIND_QUEUE = 1;
    static final int KIND_JOINABLE = 2;
    static final int KIND_SIMPLE = 3;

    static final long CAPACITY = 64;
    static final long MAX_ITEMS = 68;
    static final long IDLE = 72;

    static final long PRODUCER = 128;
    static final long CONSUMER = 256;
    /** Offsets inside the producer and consumer lines. */
    static final long POSITION_WORD = 0;
    static final long LOCK = 8;
    static final long LOCK_SEQ = 16;
    static final long LOCK_SLEEPERS = 20;

    static final long NOT_EMPTY_SEQ = 384;
    static final long NOT_EMPTY_SLEEPERS = 388;
    static final long NOT_FULL_SEQ = 512;
    static final long NOT_FULL_SLEEPERS = 516;
    static final long DONE = 640;
    static final long JOIN_SEQ = 644;
    static final long JOIN_SLEEPERS = 648;
    static final long RING = 768;

    static final long TAIL = PRODUCER + POSITION_WORD;
    static final long HEAD = CONSUMER + POSITION_WORD;

    /** Default ring bytes for {@code create(maxItems)}: 64 per item, between 64 KiB and 16 MiB. */
    static final int DEFAULT_BYTES_PER_ITEM = 64;
    static final int DEFAULT_MIN_CAPACITY = 64 << 10;
    static final int DEFAULT_MAX_CAPACITY = 16 << 20;

    static {
        assert CAPACITY >= SegmentHeader.SIZE;
    }

    private QueueLayout() {
    }

    static long segmentSize(int capacity) {
        return RING + capacity;
    }

    static int defaultCapacity(int maxItems) {
        long bytes = Math.min((long) maxItems * DEFAULT_BYTES_PER_ITEM, DEFAULT_MAX_CAPACITY);
        return RecordLayout.checkCapacity("capacityBytes", Math.max(DEFAULT_MIN_CAPACITY, bytes));
    }

    static void checkMaxItems(int maxItems) {
        if (maxItems <= 0) {
            throw new IllegalArgumentException("maxItems=" + maxItems + " must be > 0");
        }
    }
}
