package io.multiproc.manager.local;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static io.multiproc.manager.local.ContainerLayout.ADOPTED;
import static io.multiproc.manager.local.ContainerLayout.DATA;
import static io.multiproc.manager.local.ContainerLayout.GENERATION;
import static io.multiproc.manager.local.ContainerLayout.KIND;
import static io.multiproc.manager.local.ContainerLayout.LIFE;
import static io.multiproc.manager.local.ContainerLayout.MAGIC;
import static io.multiproc.manager.local.ContainerLayout.ONE_REFERENCE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * When a container lives and when it is freed: the {@link ContainerLayout#LIFE} word of its header.
 *
 * <h2>Implementation overview</h2>
 * A container is alive while an item or directory entry refers to it (the reference half of the life
 * word) or a process holds a proxy of it (the hold half: one per proxy object, recorded in that
 * process's {@link Holds} so a dead process's holds can be dropped). Both halves change by atomic adds
 * on the one word, so exactly one change brings it to 0, and that process frees the container: its
 * items (dropping their nested containers' references, which may free those in turn: a work list, not
 * recursion), its array or table, and last its header, whose magic becomes
 * {@link ContainerLayout#FREED_MAGIC} and whose generation is raised before it goes to the freed-headers
 * list. A life word at 0 never rises again: new holds come only from a published item (whose reference
 * keeps the word above 0 until the item is unpublished, under the parent's lock, after the decode that
 * takes the hold) or from a handle, whose hold is a compare-and-set that refuses 0 and a changed
 * generation. So a handle that outlived its container fails with IllegalStateException and never writes
 * to reused memory (header blocks are reused only as headers).
 * <p>Crash consistency: a reference is counted before the item that carries it is published and dropped
 * after it was unpublished; a hold is counted before its {@link Holds} entry is written and its entry is
 * cleared before it is dropped. A process killed between the two steps therefore leaks a count (the
 * container stays until the manager closes) and never frees a container something still reaches.
 */
final class ContainerLife {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();

    private ContainerLife() {
    }

    static long header(long ref) {
        return HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
    }

    static int generation(Heap heap, long ref) {
        return (int) INT.getAcquire(heap.segment(ref), header(ref) + GENERATION);
    }

    /** Counts one more item or entry referring to the live container {@code ref} (the caller reaches it). */
    static void addReference(Heap heap, long ref) {
        LONG.getAndAdd(heap.segment(ref), header(ref) + LIFE, ONE_REFERENCE);
    }

    /** Drops one reference; frees the container if that was the last reference and nobody holds it. */
    static void dropReference(Heap heap, long ref) {
        long before = (long) LONG.getAndAdd(heap.segment(ref), header(ref) + LIFE, -ONE_REFERENCE);
        if (before == ONE_REFERENCE) {
            free(heap, ref);
        }
    }

    /**
     * Counts one more hold on {@code ref}, which the caller reaches through a published item under its
     * parent's lock: that item's reference keeps the life word above 0, so a plain atomic add is safe
     * (no compare-and-set against 0 or a changed generation, unlike {@link #tryHold}).
     */
    static void addHold(Heap heap, long ref) {
        LONG.getAndAdd(heap.segment(ref), header(ref) + LIFE, 1L);
    }

    /** Drops one hold; frees the container if that was the last hold and nothing refers to it. */
    static void dropHold(Heap heap, long ref) {
        long before = (long) LONG.getAndAdd(heap.segment(ref), header(ref) + LIFE, -1L);
        if (before == 1) {
            free(heap, ref);
        }
    }

    /** The first hold of a container its creator just made (nobody else knows its ref yet). */
    static void adopt(Heap heap, long ref) {
        MemorySegment s = heap.segment(ref);
        long h = header(ref);
        LONG.getAndAdd(s, h + LIFE, 1L);
        // NOTE: adopted after the hold: a sweep drops a dead creator's hold only on an adopted header
        INT.setRelease(s, h + ADOPTED, 1);
    }

    static boolean isAdopted(MemorySegment s, long h) {
        return (int) INT.getAcquire(s, h + ADOPTED) != 0;
    }

    /**
     * Takes a hold on the container {@code ref} of generation {@code generation} if it is still alive
     * (see the overview); false if it was freed (or freed and reused).
     */
    static boolean tryHold(Heap heap, long ref, int generation) {
        MemorySegment s = heap.segment(ref);
        long h = header(ref);
        while (true) {
            if ((int) INT.getVolatile(s, h) != MAGIC || (int) INT.getVolatile(s, h + GENERATION) != generation) {
                return false;
            }
            long life = (long) LONG.getVolatile(s, h + LIFE);
            if (life == 0) {
                return false; // being freed: it never comes back
            }
            if (LONG.compareAndSet(s, h + LIFE, life, life + 1)) {
                if ((int) INT.getVolatile(s, h + GENERATION) == generation) {
                    return true;
                }
                dropHold(heap, ref); // freed and reused between the checks: that hold was not ours to take
                return false;
            }
        }
    }

    /** Frees the container {@code ref}, whose life word just reached 0, and whatever only it kept alive. */
    static void free(Heap heap, long ref) {
        ArrayDeque<Long> work = new ArrayDeque<>();
        // the shared objects the freed items named (decision 172): their holds go once the locks are let go
        List<String> carried = new ArrayList<>(0);
        work.push(ref);
        while (!work.isEmpty()) {
            long c = work.pop();
            MemorySegment s = heap.segment(c);
            long h = header(c);
            ContainerKind kind = ContainerKind.of(s.get(JAVA_INT, h + KIND));
            // NOTE: under its lock, so a sweep tracing it ({@link Reclaimer}) never holds the lock of a
            // header that was freed and reused meanwhile
            Container k = new Container(heap, c, kind, s.get(JAVA_INT, h + GENERATION));
            k.lock();
            try {
                long data = (long) LONG.getAcquire(s, h + DATA);
                forEachItem(heap, kind, data, item -> freeItem(heap, item, work, carried));
                if (kind != ContainerKind.VALUE) {
                    heap.free(data);
                }
                heap.markContainerFreed(c);
            } finally {
                k.unlock();
                k.lock.close();
            }
            heap.freeContainerHeader(c);
        }
        if (!carried.isEmpty()) {
            Items.dropHolds(heap, carried);
        }
    }

    /**
     * Calls {@code visit} with each item block ref of a container of {@code kind} whose data is
     * {@code data} (a list's array, a table, a value's item; inline words are not blocks). Call under the
     * container's lock. A list's size is bounded by its capacity, so a sweep reading a block that was
     * freed and reused meanwhile stays inside it.
     */
    static void forEachItem(Heap heap, ContainerKind kind, long data, java.util.function.LongConsumer visit) {
        if (data <= 0) {
            return;
        }
        MemorySegment s = heap.segment(data);
        long p = header(data);
        switch (kind) {
            case LIST -> {
                long n = Math.min(s.get(JAVA_LONG, p + ListLayout.SIZE), s.get(JAVA_LONG, p + ListLayout.CAPACITY));
                for (long i = 0; i < n; i++) {
                    long item = s.get(JAVA_LONG, p + ListLayout.ITEMS + 8 * i);
                    if (item > 0) {
                        visit.accept(item);
                    }
                }
            }
            case DICT, SET, NAMESPACE -> {
                long cap = s.get(JAVA_LONG, p + TableLayout.CAPACITY);
                for (long i = 0; i < cap; i++) {
                    long slot = s.get(JAVA_LONG, p + TableLayout.SLOTS + 8 * i);
                    if (slot != TableLayout.EMPTY && slot != TableLayout.TOMBSTONE) {
                        visit.accept(slot & HeapLayout.REF_MASK);
                    }
                }
            }
            case VALUE -> visit.accept(data);
        }
    }

    /**
     * Frees an unreachable item; its nested container, if that was its last reference, joins the work,
     * and the shared objects it names join {@code carried}.
     */
    private static void freeItem(Heap heap, long item, ArrayDeque<Long> work, List<String> carried) {
        long nested = Items.nestedOf(heap, item);
        List<String> names = Items.carriedOf(heap, item); // read before the block can be reused
        if (names != null) {
            carried.addAll(names);
        }
        heap.free(item);
        if (nested != 0) {
            long before = (long) LONG.getAndAdd(heap.segment(nested), header(nested) + LIFE, -ONE_REFERENCE);
            if (before == ONE_REFERENCE) {
                work.push(nested);
            }
        }
    }
}
