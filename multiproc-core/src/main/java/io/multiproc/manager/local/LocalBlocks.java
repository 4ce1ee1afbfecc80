package io.multiproc.manager.local;

import java.util.Arrays;

import java.lang.invoke.VarHandle;

import static io.multiproc.manager.local.BlockLayout.CLASS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One process's cache of small heap blocks, so that the common operations (an append, a put) take no
 * heap-wide lock: blocks are carved from a chunk this process took from the heap (one shared
 * allocation per {@link #CHUNK} bytes), and blocks this process frees are kept for its own reuse (up to
 * {@link #MAX_CACHED} per size class; the rest go back to the shared free lists).
 *
 * <p>A block freed here was unpublished first, so no process can reach it: reusing it in this process
 * is as safe as returning it to the shared lists. Cached blocks are tagged CACHED and the chunk's
 * uncarved rest is one TAIL pseudo-block (both with this process's slot, see {@link BlockLayout}), so
 * the heap stays walkable and a sweep gives both back to the shared lists once this process died
 * ({@link Reclaimer}). Carving writes the new rest's header first, then (release) the block's header
 * over the old rest's: a walker sees either the old rest or the block followed by the new rest.
 * Guarded by this object's monitor (threads of one process).
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

    private static final VarHandle LONG = JAVA_LONG.varHandle();

    /** A block of class {@code c} whose header gets {@code state} (a USED tag with this process's slot). */
    synchronized long allocate(int c, int state) {
        int n = counts[c];
        if (n > 0) {
            counts[c] = n - 1;
            long ref = cached[c][n - 1];
            LONG.setRelease(heap.segment(ref), HeapLayout.offset(ref) + CLASS, BlockLayout.header(c, state));
            return ref;
        }
        long size = BlockLayout.blockSize(c);
        int slot = BlockLayout.slot(state);
        if (chunk == 0 || chunk + size > chunkEnd) {
            long fresh = heap.allocateShared(CHUNK_CLASS, BlockLayout.KIND_BLOCK, slot);
            chunk = fresh;
            chunkEnd = fresh + BlockLayout.blockSize(CHUNK_CLASS);
            writeTail(chunk, slot);
        }
        long ref = chunk;
        chunk += size;
        writeTail(chunk, slot);
        // NOTE: release: the new rest's header is in place before this header stops covering it
        LONG.setRelease(heap.segment(ref), HeapLayout.offset(ref) + CLASS, BlockLayout.header(c, state));
        return ref;
    }

    /** The rest of the chunk from {@code at} as one TAIL pseudo-block (class: minus its length in 16-byte units). */
    private void writeTail(long at, int slot) {
        if (at < chunkEnd) {
            LONG.setRelease(heap.segment(at), HeapLayout.offset(at) + CLASS,
                    BlockLayout.header((int) -((chunkEnd - at) >> 4), BlockLayout.state(BlockLayout.TAG_TAIL, 0, slot)));
        }
    }

    /**
     * Gives every cached block and the chunk's rest back to the shared free lists: this process leaves
     * the heap ({@link Holds#leave}) and will not allocate from it again.
     */
    synchronized void giveBack() {
        for (int c = 0; c <= MAX_CLASS; c++) {
            for (int i = counts[c] - 1; i >= 0; i--) {
                heap.freeShared(cached[c][i], c);
            }
            counts[c] = 0;
        }
        if (chunk != 0 && chunk < chunkEnd) {
            Reclaimer.freeRest(heap, chunk, chunkEnd - chunk);
        }
        chunk = 0;
        chunkEnd = 0;
    }

    /** Keeps {@code ref} for reuse here; false if this class's cache is full (free it to the heap). */
    synchronized boolean free(long ref, int c, int slot) {
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
        LONG.setRelease(heap.segment(ref), HeapLayout.offset(ref) + CLASS,
                BlockLayout.header(c, BlockLayout.state(BlockLayout.TAG_CACHED, 0, slot)));
        return true;
    }
}
