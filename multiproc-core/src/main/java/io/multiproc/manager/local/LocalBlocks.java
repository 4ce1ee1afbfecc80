package io.multiproc.manager.local;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.multiproc.manager.local.BlockLayout.CLASS;
import static io.multiproc.manager.local.BlockLayout.STATE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One process's cache of small heap blocks, so that the common operations (an append, a put) take no
 * heap-wide lock: blocks are carved from a chunk this process took from the heap (one shared
 * allocation per {@link #CHUNK} bytes), and blocks this process frees are kept for its own reuse (up to
 * {@link #MAX_CACHED} per size class; the rest go back to the shared free lists).
 *
 * <p>A block freed here was unpublished first, so no process can reach it: reusing it in this process
 * is as safe as returning it to the shared lists. When the process dies, its chunk's uncarved rest and
 * its cached blocks leak until the manager closes (as with any block a dead writer held). Guarded by
 * this object's monitor (threads of one process).
 */
final class LocalBlocks {
    /** Largest size class served here: blocks of up to 4 KB. */
    static final int MAX_CLASS = 8;
    /** Bytes taken from the heap at a time (one block of the heap). */
    private static final int CHUNK_CLASS = 12;          // 64 KB
    private static final int MAX_CACHED = 4096;

    private final Heap heap;
    private long chunk;       // ref of the current chunk's next free byte, 0 if none
    private long chunkEnd;    // ref one past the chunk's end
    private final long[][] cached = new long[MAX_CLASS + 1][];
    private final int[] counts = new int[MAX_CLASS + 1];

    LocalBlocks(Heap heap) {
        this.heap = heap;
    }

    synchronized long allocate(int c) {
        int n = counts[c];
        if (n > 0) {
            counts[c] = n - 1;
            long ref = cached[c][n - 1];
            heap.segment(ref).set(JAVA_INT, HeapLayout.offset(ref) + STATE, BlockLayout.USED);
            return ref;
        }
        long size = BlockLayout.blockSize(c);
        if (chunk == 0 || chunk + size > chunkEnd) {
            long fresh = heap.allocateShared(CHUNK_CLASS);
            chunk = fresh;
            chunkEnd = fresh + BlockLayout.blockSize(CHUNK_CLASS);
        }
        long ref = chunk;
        chunk += size;
        MemorySegment s = heap.segment(ref);
        long off = HeapLayout.offset(ref);
        s.set(JAVA_INT, off + CLASS, c);
        s.set(JAVA_INT, off + STATE, BlockLayout.USED);
        return ref;
    }

    /** Keeps {@code ref} for reuse here; false if this class's cache is full (free it to the heap). */
    synchronized boolean free(long ref, int c) {
        int n = counts[c];
        if (n >= MAX_CACHED) {
            return false;
        }
        long[] a = cached[c];
        if (a == null || a.length == n) {
            a = cached[c] = Arrays.copyOf(a == null ? new long[0] : a, Math.min(MAX_CACHED, Math.max(16, n * 2)));
        }
        a[n] = ref;
        counts[c] = n + 1;
        heap.segment(ref).set(JAVA_INT, HeapLayout.offset(ref) + STATE, BlockLayout.FREE);
        return true;
    }
}
