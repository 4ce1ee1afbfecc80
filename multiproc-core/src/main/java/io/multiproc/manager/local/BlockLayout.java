package io.multiproc.manager.local;

/**
 * Layout of one heap block: an 8-byte header, then the payload. Blocks are 16-aligned and sized by
 * power-of-two classes, {@code 16 << class} bytes including the header, and tile each segment from its
 * first block to its {@code top}, so the heap can be walked block by block ({@link Reclaimer}).
 *
 * <pre>
 *  0         4         8                                      16 << class
 *  +---------+---------+--------------------------------------+
 *  | class   | state   | payload                              |
 *  | int     | int     | (free: next free block ref, long)    |
 *  +---------+---------+--------------------------------------+
 * </pre>
 * The header is written as one long ({@link #header}) so a walker never sees a class from one block and
 * a state from another. class: the size class, or for the uncarved rest of a process's chunk
 * ({@link LocalBlocks}) the negative length in 16-byte units. state, bit-packed:
 * <pre>
 *  bits 24-31: tag  USED 'U' | CACHED 'C' (in a process's LocalBlocks cache) | TAIL 'T' (a chunk's rest)
 *                   | RECLAIMING 'R' (claimed by a sweep, being freed); {@link #FREE} has tag 0
 *  bits 20-23: kind (USED only): {@link #KIND_ITEM} for items whose nested ref is counted or, naming no
 *              container, whose trailer of carried shared objects is written (set by their writer after
 *              the count or the trailer: a new item is a plain block until then), 0 otherwise
 *  bits 0-19:  process slot ({@link Holds}): who allocated a USED block or retired it (unpublished it
 *              to free it), whose cache or chunk a CACHED or TAIL block is in
 * </pre>
 * Written by the block's allocator before it publishes the block's ref, by the lock holder that
 * unpublishes it (the retire tag, before the unpublishing store), by whoever frees it, and by a sweep
 * for blocks of dead processes only (compare-and-set from the dead slot's tag).
 */
final class BlockLayout {
    static final long CLASS = 0;
    static final long STATE = 4;
    static final long PAYLOAD = 8;
    static final long NEXT_FREE = PAYLOAD;
    static final int FREE = 0x46_5245;   // "ERF"
    static final int MIN_SHIFT = 4;

    static final int TAG_USED = 'U';
    static final int TAG_CACHED = 'C';
    static final int TAG_TAIL = 'T';
    static final int TAG_RECLAIMING = 'R';
    static final int KIND_BLOCK = 0;
    static final int KIND_ITEM = 1;
    static final int SLOT_MASK = (1 << 20) - 1;

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

    static int state(int tag, int kind, int slot) {
        return tag << 24 | kind << 20 | slot;
    }

    static int used(int kind, int slot) {
        return state(TAG_USED, kind, slot);
    }

    static int tag(int state) {
        return state >>> 24;
    }

    static int kind(int state) {
        return state >>> 20 & 0xF;
    }

    static int slot(int state) {
        return state & SLOT_MASK;
    }

    /** The 8-byte header word (little-endian: class in the low half, state in the high half). */
    static long header(int sizeClass, int state) {
        return (long) state << 32 | (sizeClass & 0xFFFF_FFFFL);
    }

    static int classOf(long header) {
        return (int) header;
    }

    static int stateOf(long header) {
        return (int) (header >>> 32);
    }
}
