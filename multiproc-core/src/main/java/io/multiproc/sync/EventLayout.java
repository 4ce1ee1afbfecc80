package io.multiproc.sync;

/**
 * Layout of a {@link SharedEvent} segment.
 *
 * <pre>
 *  0                64              128        132       136        140 ... 256
 *  +----------------+---------------+----------+---------+----------+--- ... ---+
 *  | SegmentHeader  | (pad)         | flag     | seq     | sleepers |           |
 *  | magic MPEVENT1 |               | int 0/1  | futex   | int      |           |
 *  +----------------+---------------+----------+---------+----------+--- ... ---+
 * </pre>
 * flag: volatile writes by set()/clear() in any process, volatile reads by waiters.
 */
final class EventLayout {
    static final long MAGIC = 0x3154_4E45_5645_504DL; // "MPEVENT1" read little-endian
    static final int VERSION = 1;
    static final int KIND = 1;
    static final long FLAG = 128;
    static final long SEQ = 132;
    static final long SLEEPERS = 136;
    static final long SEGMENT_SIZE = 256;

    private EventLayout() {
    }
}
