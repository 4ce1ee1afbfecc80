package io.multiproc.sync;

/**
 * Layout of a {@link SharedEvent} segment.
 *
 * <pre>
 *  0                64              128        132       136        140        144 ... 256
 *  +----------------+---------------+----------+---------+----------+----------+--- ... ---+
 *  | SegmentHeader  | (pad)         | flag     | seq     | sleepers | sets     |           |
 *  | magic MPEVENT1 |               | int 0/1  | futex   | int      | int      |           |
 *  +----------------+---------------+----------+---------+----------+----------+--- ... ---+
 * </pre>
 * flag: volatile writes by set()/clear() in any process, volatile reads by waiters. sets: how many
 * times set() ran (wrapping), getAndAdd by set() after the flag, volatile reads by waiters: a waiter
 * that sees it change knows a set() happened while it waited, even if a clear() followed.
 */
final class EventLayout {
    static final long MAGIC = 0x3154_4E45_5645_504DL; // "MPEVENT1" read little-endian
    /** 2: the sets counter. */
    static final int VERSION = 2;
    static final int KIND = 1;
    static final long FLAG = 128;
    static final long SEQ = 132;
    static final long SLEEPERS = 136;
    static final long SETS = 140;
    static final long SEGMENT_SIZE = 256;

    private EventLayout() {
    }
}
