package io.multiproc.manager.local;

import io.multiproc.internal.ProcessIdentity;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * This process's row in a manager's process table: its slot number (the identity its blocks carry, see
 * {@link BlockLayout}) and the containers it holds a proxy of, so that a sweep can drop the holds of a
 * process that died ({@link Reclaimer}). One per {@link Heap}; any thread of this process may call it.
 *
 * <pre>
 *  process table block payload:            holds array block payload:
 *  0          8          16                0          8          16
 *  +----------+----------+---- rows 1..    +----------+----------+----------+---
 *  | capacity | (pad)    | token | holds   | capacity | entry[0] | entry[1] |...
 *  | long     |          | long  | ref     | long     | long ref | long ref |
 *  +----------+----------+-------+-------  +----------+----------+----------+---
 * </pre>
 * token: the {@link ProcessIdentity#token()} of the process using the row, 0 if free; set by a
 * compare-and-set from 0 (claiming) or from a dead process's token (a sweep taking the row over), and
 * back to 0 (release) once a sweep is done with it. holds ref: the row's holds array, written (release)
 * by the row's process only, after the new array is complete. An entry is the ref of a held container,
 * 0 if empty: written by the row's process (a hold is counted in the container's life word before its
 * entry is written, and its entry cleared before the count is dropped), and cleared by a sweep after
 * the process died.
 */
final class Holds {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    /** Rows 1..ROWS; the table is one 32 KB block. */
    static final int ROWS = 2047;
    static final long TOKEN = 0;
    static final long ARRAY = 8;
    private static final int FIRST_CAPACITY = 64;

    private final Heap heap;
    /** This process's row. */
    final int slot;
    private long array;          // this row's holds array ref, 0 before the first hold
    private int capacity;
    private int used;            // entries handed out so far (the free ones are in freeIndexes)
    private int[] freeIndexes = new int[16];
    private int freeCount;
    private boolean closed;

    private Holds(Heap heap, int slot) {
        this.heap = heap;
        this.slot = slot;
    }

    /** Allocates a manager's process table (at creation, before anyone else can map the heap). */
    static long createTable(Heap heap) {
        long ref = heap.allocateShared(BlockLayout.classFor(16L * (ROWS + 1)), BlockLayout.KIND_BLOCK, 0);
        MemorySegment s = heap.segment(ref);
        long p = ContainerLife.header(ref);
        s.asSlice(p, 16L * (ROWS + 1)).fill((byte) 0);
        s.set(JAVA_LONG, p, ROWS);
        return ref;
    }

    /** Claims a free row for this process; a full table first has its dead processes swept. */
    static Holds claim(Heap heap) {
        if (heap.processTable() == 0) {
            // a row claimed now would be a word of the root segment's header
            throw new IllegalStateException("manager '" + heap.name + "' has no process table yet (its owner is still starting it)");
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            MemorySegment s = heap.segment(heap.processTable());
            long p = ContainerLife.header(heap.processTable());
            long me = ProcessIdentity.current().token();
            for (int row = 1; row <= ROWS; row++) {
                long at = p + 16L * row + TOKEN;
                if ((long) LONG.getVolatile(s, at) == 0 && LONG.compareAndSet(s, at, 0L, me)) {
                    return new Holds(heap, row);
                }
            }
            Reclaimer.sweepDeadProcesses(heap);
        }
        throw new IllegalStateException("manager '" + heap.name + "' has " + ROWS + " live processes attached: no room for another");
    }

    /** The offset of {@code row}'s token in the process table's segment. */
    static long rowAt(Heap heap, int row) {
        return ContainerLife.header(heap.processTable()) + 16L * row;
    }

    /** Records a hold on {@code ref} (already counted in its life word); returns the entry's index. */
    synchronized int add(long ref) {
        int index;
        if (freeCount > 0) {
            index = freeIndexes[--freeCount];
        } else {
            if (used == capacity) {
                grow();
            }
            index = used++;
        }
        LONG.setRelease(heap.segment(array), ContainerLife.header(array) + 8 + 8L * index, ref);
        return index;
    }

    /**
     * Records holds on {@code refs[0..n)} (already counted in their life words), one entry each, in one
     * call; entry {@code i}'s index goes to {@code indexes[i]}.
     */
    synchronized void addAll(long[] refs, int n, int[] indexes) {
        for (int i = 0; i < n; i++) {
            indexes[i] = add(refs[i]);
        }
    }

    /**
     * Clears entry {@code index} (holding {@code ref}) and drops the hold, freeing the container if it
     * was the last thing keeping it. Nothing happens once the heap is detached (its memory is unmapped).
     */
    synchronized void release(int index, long ref) {
        if (closed) {
            return;
        }
        LONG.setRelease(heap.segment(array), ContainerLife.header(array) + 8 + 8L * index, 0L);
        if (freeCount == freeIndexes.length) {
            freeIndexes = Arrays.copyOf(freeIndexes, freeCount * 2);
        }
        freeIndexes[freeCount++] = index;
        ContainerLife.dropHold(heap, ref);
    }

    /** Runs {@code change} (a reference dropped by the cleaner) unless the heap is being detached. */
    synchronized void whileOpen(Runnable change) {
        if (!closed) {
            change.run();
        }
    }

    /**
     * This live process leaves the heap (it is done with it; the owner goes on): drops every hold its
     * row records, gives back its cached blocks ({@code local}), frees the row's holds array and clears
     * its token, so the row is free again; releases stop, as after {@link #close()}. Blocks it allocated
     * and leaked (an operation that failed midway) keep its slot and are reclaimed once a later holder
     * of the row has died. The caller makes sure no operation of this process is running on the heap.
     */
    synchronized void leave(LocalBlocks local) {
        closed = true;
        MemorySegment table = heap.segment(heap.processTable());
        long row = rowAt(heap, slot);
        if (array != 0) {
            MemorySegment s = heap.segment(array);
            long p = ContainerLife.header(array);
            for (int i = 0; i < used; i++) {
                long ref = (long) LONG.getAcquire(s, p + 8 + 8L * i);
                if (ref != 0) {
                    // NOTE: the entry is cleared before the hold is dropped, as in release
                    LONG.setRelease(s, p + 8 + 8L * i, 0L);
                    ContainerLife.dropHold(heap, ref);
                }
            }
        }
        local.giveBack(); // after the drops: a container they freed may have gone to the cache
        if (array != 0) {
            LONG.setRelease(table, row + ARRAY, 0L);
            heap.freeShared(array, heap.segment(array).get(java.lang.foreign.ValueLayout.JAVA_INT,
                    HeapLayout.offset(array) + BlockLayout.CLASS));
            array = 0;
        }
        // NOTE: release: everything above is done before the row can be claimed again
        LONG.setRelease(table, row + TOKEN, 0L);
    }

    /** Stops all releases (before the heap unmaps its segments). */
    synchronized void close() {
        closed = true;
    }

    /** A bigger holds array with the same entries, published (release) in this row, then the old one freed. */
    private void grow() {
        int newCapacity = capacity == 0 ? FIRST_CAPACITY : capacity * 2;
        long fresh = heap.allocateShared(BlockLayout.classFor(8 + 8L * newCapacity), BlockLayout.KIND_BLOCK, slot);
        MemorySegment ns = heap.segment(fresh);
        long np = ContainerLife.header(fresh);
        ns.asSlice(np, 8 + 8L * newCapacity).fill((byte) 0);
        ns.set(JAVA_LONG, np, newCapacity);
        long old = array;
        if (old != 0) {
            MemorySegment.copy(heap.segment(old), ContainerLife.header(old) + 8, ns, np + 8, 8L * capacity);
        }
        // NOTE: release: the new array's entries are written before a sweep can read them through the row
        LONG.setRelease(heap.segment(heap.processTable()), rowAt(heap, slot) + ARRAY, fresh);
        array = fresh;
        capacity = newCapacity;
        if (old != 0) {
            heap.freeShared(old, heap.segment(old).get(java.lang.foreign.ValueLayout.JAVA_INT, HeapLayout.offset(old) + BlockLayout.CLASS));
        }
    }
}
