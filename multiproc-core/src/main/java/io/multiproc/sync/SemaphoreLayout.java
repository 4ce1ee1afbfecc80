package io.multiproc.sync;

/**
 * Layout of a {@link SharedSemaphore} or {@link SharedBoundedSemaphore} segment.
 *
 * <pre>
 *  0                64              128        132       136     140        144 ... 256
 *  +----------------+---------------+----------+---------+-------+----------+--- ... ---+
 *  | SegmentHeader  | (pad)         | permits  | bound   | seq   | sleepers |           |
 *  | magic MPSEMAP1 |               | int, CAS | int, 0: | int:  | int      |           |
 *  |                |               |          | none    | futex |          |           |
 *  +----------------+---------------+----------+---------+-------+----------+--- ... ---+
 * </pre>
 * permits: CAS by acquirers (down) and releasers (up). bound: written once by the creator.
 */
final class SemaphoreLayout {
    static final long MAGIC = 0x3150_414D_4553_504DL; // "MPSEMAP1" read little-endian
    static final int VERSION = 1;
    static final int KIND_SEMAPHORE = 1;
    static final int KIND_BOUNDED = 2;
    static final long PERMITS = 128;
    static final long BOUND = 132;
    static final long SEQ = 136;
    static final long SLEEPERS = 140;
    static final long SEGMENT_SIZE = 256;

    private SemaphoreLayout() {
    }
}
