package io.multiproc.manager.local;

import io.multiproc.internal.SegmentHeader;

/**
 * Layout of a manager's heap segments. Segment 0 ({@code mpm_NAME}, the root) also holds the heap's
 * allocator state and the manager's state; segments 1.. ({@code mpmh_NAME_I}) hold only blocks.
 *
 * <pre>
 *  every segment:
 *  0                 64        72                        128
 *  +-----------------+---------+-------------------------+---- blocks (16-aligned) ...
 *  | SegmentHeader   | top     |                         |
 *  | magic, version, | long:   |                         |
 *  | kind, size,     | bump    |                         |
 *  | creator         | pointer |                         |
 *  +-----------------+---------+-------------------------+----
 *  root only, from 128:
 *  128      132       136           144             152         256              384            768        776       1024
 *  +--------+---------+-------------+---------------+-----------+----------------+--------------+----------+---------+--- blocks
 *  | closed | segment | owner token | directory ref | free      | alloc lock     | free list    | freed    | process |
 *  | int    | count   | long        | long          | bytes     | region (128)   | heads, 48 x  | headers  | table   |
 *  |        | int     |             |               | long      |                | long refs    | head ref | ref     |
 *  +--------+---------+-------------+---------------+-----------+----------------+--------------+----------+---------+---
 * </pre>
 * top: written by the alloc lock's holder (plain; published to other holders by the lock), the next
 * free byte of that segment. closed: set once (volatile) by the owner's close. segment count: the
 * generation word, written (release) by the alloc lock's holder after the new segment is fully
 * initialised; read (acquire) by anyone resolving a ref into a segment it has not mapped yet.
 * directory ref: the names directory (a dict container), written once at creation. free lists: heads
 * by size class, written by the alloc lock's holder only. freed headers: the list of freed container
 * header blocks, kept apart so a container header is only ever reused as a container header (a stale
 * handle's generation check then reads a generation word, never item bytes); alloc lock's holder only.
 * process table: the {@link Holds} slots, written once at creation.
 *
 * <p>A ref is {@code segment index << 34 | offset}: 6 bits of segment (at most {@link #MAX_SEGMENTS})
 * and 34 bits of offset (segments up to 16 GB); it fits in 40 bits, so a dict slot packs a 24-bit hash
 * beside it. 0 is never a valid ref (offset 0 is a header).
 */
final class HeapLayout {
    static final long MAGIC = 0x3150_4145_484D_504DL; // "MPMHEAP1" read little-endian
    /** 3: keys are written in the codec's key form (Sets and Maps in canonical order, decision 212). */
    static final int VERSION = 3;
    static final int KIND_ROOT = 1;
    static final int KIND_EXTENT = 2;

    static final long TOP = SegmentHeader.SIZE;
    static final long FIRST_BLOCK = 128;

    static final long CLOSED = 128;
    static final long SEGMENT_COUNT = 132;
    static final long OWNER_TOKEN = 136;
    static final long DIRECTORY = 144;
    static final long FREE_BYTES = 152;
    static final long ALLOC_LOCK = 256;
    static final long FREE_HEADS = 384;
    static final int SIZE_CLASSES = 48;
    static final long FREE_CONTAINERS = 768;
    static final long PROCESS_TABLE = 776;
    static final long ROOT_FIRST_BLOCK = 1024;

    static final int MAX_SEGMENTS = 64;
    static final int OFFSET_BITS = 34;
    static final long OFFSET_MASK = (1L << OFFSET_BITS) - 1;
    static final long REF_MASK = (1L << 40) - 1;
    /**
     * Bytes of a manager's first segment (reserved at start: ~3 ms here). Large enough that seed 000's list
     * (40,000 ints from four processes) and most small programs never grow the heap: a growth reserves a
     * new segment under the allocator's lock and every process maps it, which took a contended 40,000-append
     * work phase from 7 ms to 50-110 ms (decision 158).
     */
    static final long ROOT_SIZE = 8L << 20;
    /** The first segment of a heap private to one JVM (the spares' warm-up makes 12 in a row). */
    static final long PRIVATE_ROOT_SIZE = 1L << 20;

    static {
        assert FREE_HEADS + 8L * SIZE_CLASSES <= ROOT_FIRST_BLOCK;
    }

    private HeapLayout() {
    }

    static long ref(int segment, long offset) {
        return (long) segment << OFFSET_BITS | offset;
    }

    static int segment(long ref) {
        return (int) (ref >>> OFFSET_BITS);
    }

    static long offset(long ref) {
        return ref & OFFSET_MASK;
    }

    static String rootName(String manager) {
        return "mpm_" + manager;
    }

    static String extentName(String manager, int index) {
        return "mpmh_" + manager + "_" + index;
    }
}
