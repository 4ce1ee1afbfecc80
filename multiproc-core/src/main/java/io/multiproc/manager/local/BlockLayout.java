package io.multiproc.manager.local;

/**
 * Layout of one heap block: an 8-byte header, then the payload. Blocks are 16-aligned and sized by
 * power-of-two classes, {@code 16 << class} bytes including the header.
 *
 * <pre>
 *  0         4         8                                      16 << class
 *  +---------+---------+--------------------------------------+
 *  | class   | state   | payload                              |
 *  | int     | int     | (free: next free block ref, long)    |
 *  +---------+---------+--------------------------------------+
 * </pre>
 * Written only by the heap's alloc lock holder (allocate, free) and by the block's user before it
 * publishes the block's ref.
 */
final class BlockLayout {
    static final long CLASS = 0;
    static final long STATE = 4;
    static final long PAYLOAD = 8;
    static final long NEXT_FREE = PAYLOAD;
    static final int USED = 0x55_5345;   // "ESU"
    static final int FREE = 0x46_5245;   // "ERF"
    static final int MIN_SHIFT = 4;

    private BlockLayout() {
    }

    /** The size class for a payload of {@code payload} bytes. */
    static int classFor(long payload) {
        long total = payload + PAYLOAD;
        int c = 64 - Long.numberOfLeadingZeros(Math.max(total, 16) - 1) - MIN_SHIFT;
        return Math.max(c, 0);
    }

    static long blockSize(int sizeClass) {
        return 16L << sizeClass;
    }
}
