package io.multiproc.queue;

import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.EmbeddedLocks;

/**
 * Layout of a {@link SharedQueue} segment (also {@link JoinableQueue} and {@link SimpleQueue}). Static
 * only; records and position words: {@link RecordLayout}.
 *
 * <pre>
 *  0               64              128           256            384           512            640         768         896         1024          1280          1536                 3584
 *  +---------------+---------------+-------------+--------------+-------------+--------------+-----------+-----------+-----------+-------------+-------------+--------------------+---- ... ---+
 *  | SegmentHeader | config        | tail line   | producer     | head line   | consumer     | not empty | not full  | join line | producers   | consumers   | takers (joinable)  | ring        |
 *  | magic         | +0 capacity   | +0 tail     | lock line:   | +0 head     | lock line:   | +0 seq    | +0 seq    | +0 done   | 32 process  | 32 process  | 32 slots of 64:    | capacity    |
 *  | MPQUEUE1      | +4 max items  |    word     | a lock       |    word     | a lock       | +4 sleep- | +4 sleep- | +4 seq    | tokens      | tokens      | +0 process token   | bytes of    |
 *  | kind: queue,  | +8 idle code  | +8 tail full| region (sync |+8 head full | region (sync |    ers    |    ers    | +8 sleep- | (peer       | (peer       | +8 taken           | records     |
 *  | joinable,     | +12 flags     |    position | LockLayout)  |   position  | LockLayout)  |           |           |    ers    | tracking)   | tracking)   | +12 done           |             |
 *  | simple        | +16 writing   |             |              |             |              |           |           |           |             |             |                    |             |
 *  |               |     closed    |             |              |             |              |           |           |           |             |             |                    |             |
 *  |               | +20 overflow  |             |              |             |              |           |           |           |             |             |                    |             |
 *  |               | +24 codec id  |             |              |             |              |           |           |           |             |             |                    |             |
 *  |               | +28 carried   |             |              |             |              |           |           |           |             |             |                    |             |
 *  +---------------+---------------+-------------+--------------+-------------+--------------+-----------+-----------+-----------+-------------+-------------+--------------------+---- ... ---+
 * </pre>
 * <ul>
 *   <li>config: capacity, max items, idle code and flags ({@link #FLAG_TRACK_PEERS}) written once by
 *       the creator before the name is shared; plain reads. writing closed: 0, or 1 once
 *       {@code closeForWriting()} ran; written (release) only under the producer lock, never reset;
 *       read (acquire) by producers under that lock and by consumers that found the queue empty.
 *       overflow: bit 0 / bit 1 set (CAS) when a producer / consumer process found no free peer slot,
 *       bit 2 when a joinable queue's taker found no takers slot ({@link Takers#OVERFLOW_BIT}).
 *       codec id: which codec class the creator's handle encodes with ({@code QueueRing.codecId}), 0 if
 *       unknown (a hidden class or proxy, or a segment made before the field: attach unchecked); written
 *       once by the creator with the config, plain reads by {@code attach(name, codec)} (decision 214).
 *       carried: 0, or 1 once an item carried a shared object (the queue holds it for the taker,
 *       {@code InFlight}); written (volatile, once: read first) by a producer before it publishes such an
 *       item, never reset; read (volatile) by {@code clear()} and iterator removal, which decode the items
 *       they drop only then, to give the holds back (decision 232). 0 in segments made before the field.</li>
 *   <li>tail line: the tail word and the tail's full position ({@link RecordLayout}), written only by
 *       the holder of the producer lock (full position plain, then the word with a release store),
 *       the word read by consumers (when their view says empty) and producers.</li>
 *   <li>producer lock line: an {@code io.multiproc.sync} lock region ({@code EmbeddedLocks.lockAt}: owner
 *       token with the waiters bit, owner thread, wait word), taken over from a dead holder. Only
 *       producers touch it.</li>
 *   <li>head line and consumer lock line: the same for the head word and the consumer lock.</li>
 *   <li>not empty: consumers sleep here, producers wake them after publishing. not full: the other
 *       way round.</li>
 *   <li>join line: done, the count of {@code taskDone()} calls modulo 2^32 (CAS by any process); join
 *       waiters sleep on its wait word.</li>
 *   <li>producers, consumers (used only when peer tracking is on): {@link #PEER_SLOTS} process tokens
 *       each, 0 when free. A process CASes its token into a free slot (or a dead process's) at its
 *       first put / take; waiters read them to tell whether every producer / consumer died.</li>
 *   <li>takers (joinable queues only; zeros in the others): {@link #TAKER_SLOTS} slots, one cache line
 *       each, of a process token, the items that process took and its {@code taskDone()} calls (ints
 *       modulo 2^32), so that {@code join()} can name a process that died holding tasks (decision 237).
 *       Writers and orderings: {@link Takers}.</li>
 * </ul>
 * Each line is 128 bytes from the next. NOTE: the lock words have lines of their own because the other
 * side reads the position words: a producer waiting on a full ring re-reads the head, and if the
 * consumer lock shared the head's line, every take's lock and unlock would first have to take the line
 * back from that producer (three contended writes per take instead of one).
 */
final class QueueLayout {
    static final long MAGIC = 0x3145_5545_5551_504DL; // "MPQUEUE1" read little-endian
    /**
     * 2: the ring locks are sync lock regions on lines of their own. 3: 64-bit full positions beside
     * the position words, the writing-closed word, peer tracking. 4: the takers table, which moved the
     * ring from 1536 to 3584.
     */
    static final int VERSION = 4;
    static final int KIND_QUEUE = 1;
    static final int KIND_JOINABLE = 2;
    static final int KIND_SIMPLE = 3;

    static final long CAPACITY = 64;
    static final long MAX_ITEMS = 68;
    static final long IDLE = 72;
    static final long FLAGS = 76;
    static final long WRITING_CLOSED = 80;
    static final long PEER_OVERFLOW = 84;
    static final long CODEC_ID = 88;
    static final long CARRIED = 92;
    /** {@link #FLAGS} bit: producers and consumers register in the peer tables. */
    static final int FLAG_TRACK_PEERS = 1;

    static final long PRODUCER = 128;
    static final long PRODUCER_LOCK = 256;
    static final long CONSUMER = 384;
    static final long CONSUMER_LOCK = 512;
    /** Offset of the position word in the tail and head lines. */
    static final long POSITION_WORD = 0;

    static final long NOT_EMPTY_SEQ = 640;
    static final long NOT_EMPTY_SLEEPERS = 644;
    static final long NOT_FULL_SEQ = 768;
    static final long NOT_FULL_SLEEPERS = 772;
    static final long DONE = 896;
    static final long JOIN_SEQ = 900;
    static final long JOIN_SLEEPERS = 904;
    static final long PRODUCERS = 1024;
    static final long CONSUMERS = 1280;
    static final int PEER_SLOTS = 32;
    static final long TAKERS = 1536;
    static final int TAKER_SLOTS = 32;
    /** One cache line per taker: each process writes its own slot's counts on every take and taskDone. */
    static final int TAKER_STRIDE = 64;
    /** Offsets in a takers slot: the token is at +0. */
    static final long TAKER_TAKEN = 8;
    static final long TAKER_DONE = 12;
    static final long RING = TAKERS + (long) TAKER_SLOTS * TAKER_STRIDE;

    static final long TAIL = PRODUCER + POSITION_WORD;
    static final long HEAD = CONSUMER + POSITION_WORD;

    /** Default ring bytes for {@code create(maxItems)}: 64 per item, between 64 KiB and 16 MiB. */
    static final int DEFAULT_BYTES_PER_ITEM = 64;
    static final int DEFAULT_MIN_CAPACITY = 64 << 10;
    static final int DEFAULT_MAX_CAPACITY = 16 << 20;

    static {
        assert CAPACITY >= SegmentHeader.SIZE;
        assert EmbeddedLocks.REGION_SIZE <= CONSUMER - PRODUCER_LOCK;
        assert PRODUCERS + PEER_SLOTS * 8L == CONSUMERS && CONSUMERS + PEER_SLOTS * 8L == TAKERS;
        assert RING == 3584 && TAKER_DONE + 4 <= TAKER_STRIDE;
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
