package io.multiproc.process;

/**
 * Layout of a pool's holds segment ({@link PoolHolds}): only the multiproc header. The segment carries
 * no data; its registry records do the work. The shared objects a pool's tasks carried are recorded as
 * held by this segment (parent holds), so they live while it exists, and it exists while its pool does
 * (its only holder is the pool's process). Static only.
 *
 * <pre>
 *  0               64
 *  +---------------+
 *  | SegmentHeader |
 *  | magic MPPOOLH1|
 *  +---------------+
 * </pre>
 * Written once by the creating process before the name is known to anyone; never read back.
 */
final class PoolHoldsLayout {
    static final long MAGIC = 0x3148_4C4F_4F50_504DL; // "MPPOOLH1" read little-endian
    static final int VERSION = 1;
    static final int KIND = 1;
    static final long SIZE = io.multiproc.internal.SegmentHeader.SIZE;

    private PoolHoldsLayout() {
    }
}
