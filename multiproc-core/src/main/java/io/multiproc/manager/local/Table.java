package io.multiproc.manager.local;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static io.multiproc.manager.local.TableLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The open-addressing table behind dicts, sets and namespaces ({@link TableLayout}). Every method runs
 * under the container's lock. Lookups compare the key's bytes in the codec's key form
 * ({@link io.multiproc.codec.Codec#encodeKey}), where keys equal by {@code equals} share their bytes: a Set
 * or Map inside a key in a canonical order, a NaN as its canonical bits (decision 212). Not for what goes as
 * JDK serialization (a Serializable class of the user's whose equals ignores a field): equal only by bytes.
 */
final class Table {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    static final long INITIAL_CAPACITY = 8;
    static final long MAX_CAPACITY = 1L << 24;

    private Table() {
    }

    static long allocate(Heap heap, long capacity) {
        long ref = heap.allocate(bytesFor(capacity));
        MemorySegment s = heap.segment(ref);
        long p = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        s.asSlice(p, bytesFor(capacity)).fill((byte) 0);
        s.set(JAVA_LONG, p + CAPACITY, capacity);
        return ref;
    }

    static int hash24(int hash) {
        return hash >>> 8;
    }

    /**
     * The slot's offset (in the table's segment) holding the scratch key, or the bitwise complement of
     * the slot where it would go (the first tombstone or empty slot on its probe path).
     */
    static long find(Container c, Items.Scratch k) {
        Heap heap = c.heap;
        long t = c.data();
        MemorySegment s = heap.segment(t);
        long p = HeapLayout.offset(t) + BlockLayout.PAYLOAD;
        long cap = s.get(JAVA_LONG, p + CAPACITY);
        long mask = cap - 1;
        long h24 = hash24(k.keyHash);
        long free = -1;
        for (long i = h24 & mask, n = 0; n < cap; i = (i + 1) & mask, n++) {
            long at = p + SLOTS + 8 * i;
            long slot = s.get(JAVA_LONG, at);
            if (slot == EMPTY) {
                return ~(free >= 0 ? free : at);
            }
            if (slot == TOMBSTONE) {
                if (free < 0) {
                    free = at;
                }
            } else if (slot >>> HASH_SHIFT == h24 && Items.keyEquals(heap, slot & HeapLayout.REF_MASK, k)) {
                return at;
            }
        }
        return ~free;
    }

    static long itemAt(Container c, long slotOffset) {
        return (long) LONG.get(c.heap.segment(c.data()), slotOffset) & HeapLayout.REF_MASK;
    }

    /** Replaces the entry at an occupied slot with {@code item} (one store); returns the old item to free. */
    static long replace(Container c, long slotOffset, long item, int keyHash) {
        MemorySegment s = c.heap.segment(c.data());
        long old = (long) LONG.get(s, slotOffset) & HeapLayout.REF_MASK;
        FaultPoints.at(FaultPoints.Point.DICT_REPLACE_BEFORE_PUBLISH);
        c.heap.retire(old);
        LONG.setRelease(s, slotOffset, (long) hash24(keyHash) << HASH_SHIFT | item);
        FaultPoints.at(FaultPoints.Point.DICT_REPLACE_AFTER_PUBLISH);
        return old;
    }

    /**
     * Inserts {@code item} at the free slot {@code ~notFound} (as {@link #find} returned), growing the
     * table first if needed; the slot store publishes it, the counts follow.
     */
    static void insert(Container c, long notFound, Items.Scratch k, long item) {
        boolean reusedTombstone = insertSlot(c, notFound, k, item, true);
        addCounts(c, 1, reusedTombstone ? 0 : 1);
    }

    /**
     * {@link #insert} without the counts, for a batch under one lock hold that adds them once at the
     * end ({@link #addCounts}; a holder killed in between leaves them to the next holder's recount).
     * With {@code mayGrow} false the caller has {@link #reserve reserved} room, so the table is not
     * checked for growth (its counts lag behind meanwhile). Returns true if the slot was a tombstone.
     */
    static boolean insertSlot(Container c, long notFound, Items.Scratch k, long item, boolean mayGrow) {
        long t = c.data();
        MemorySegment s = c.heap.segment(t);
        long p = HeapLayout.offset(t) + BlockLayout.PAYLOAD;
        long at = ~notFound;
        boolean reusesTombstone = s.get(JAVA_LONG, at) == TOMBSTONE;
        if (mayGrow && !reusesTombstone && (s.get(JAVA_LONG, p + USED) + 1) * 4 > s.get(JAVA_LONG, p + CAPACITY) * 3) {
            resize(c, s.get(JAVA_LONG, p + COUNT) + 1);
            at = ~find(c, k);
            t = c.data();
            s = c.heap.segment(t);
        }
        FaultPoints.at(FaultPoints.Point.DICT_PUT_BEFORE_PUBLISH);
        LONG.setRelease(s, at, (long) hash24(k.keyHash) << HASH_SHIFT | item);
        FaultPoints.at(FaultPoints.Point.DICT_PUT_AFTER_PUBLISH);
        return reusesTombstone;
    }

    /** Adds to the table's derived counts (live entries, used slots) after inserts published their slots. */
    static void addCounts(Container c, long entries, long used) {
        long t = c.data();
        MemorySegment s = c.heap.segment(t);
        long p = HeapLayout.offset(t) + BlockLayout.PAYLOAD;
        s.set(JAVA_LONG, p + COUNT, s.get(JAVA_LONG, p + COUNT) + entries);
        if (used != 0) {
            s.set(JAVA_LONG, p + USED, s.get(JAVA_LONG, p + USED) + used);
        }
    }

    /** Removes the entry at an occupied slot (a tombstone, one store); returns its item to free. */
    static long remove(Container c, long slotOffset) {
        long t = c.data();
        MemorySegment s = c.heap.segment(t);
        long p = HeapLayout.offset(t) + BlockLayout.PAYLOAD;
        long old = (long) LONG.get(s, slotOffset) & HeapLayout.REF_MASK;
        c.heap.retire(old);
        LONG.setRelease(s, slotOffset, TOMBSTONE);
        s.set(JAVA_LONG, p + COUNT, s.get(JAVA_LONG, p + COUNT) - 1);
        return old;
    }

    static long count(Container c) {
        long t = c.data();
        return c.heap.segment(t).get(JAVA_LONG, HeapLayout.offset(t) + BlockLayout.PAYLOAD + COUNT);
    }

    /** Calls {@code visit} with each live entry's item ref, in slot order. */
    static void forEach(Container c, java.util.function.LongConsumer visit) {
        long t = c.data();
        MemorySegment s = c.heap.segment(t);
        long p = HeapLayout.offset(t) + BlockLayout.PAYLOAD;
        long cap = s.get(JAVA_LONG, p + CAPACITY);
        for (long i = 0; i < cap; i++) {
            long slot = s.get(JAVA_LONG, p + SLOTS + 8 * i);
            if (slot != EMPTY && slot != TOMBSTONE) {
                visit.accept(slot & HeapLayout.REF_MASK);
            }
        }
    }

    /**
     * Grows the table once (one publishing store) if {@code more} inserts could make it grow, so that a
     * batch of inserts under one lock hold resizes at most here.
     */
    static void reserve(Container c, long more) {
        long t = c.data();
        MemorySegment s = c.heap.segment(t);
        long p = HeapLayout.offset(t) + BlockLayout.PAYLOAD;
        if ((s.get(JAVA_LONG, p + USED) + more) * 4 > s.get(JAVA_LONG, p + CAPACITY) * 3) {
            resize(c, s.get(JAVA_LONG, p + COUNT) + more);
        }
    }

    /** Rebuilds the table with room for {@code entries} and no tombstones; one store publishes it. */
    static void resize(Container c, long entries) {
        long cap = INITIAL_CAPACITY;
        while (entries * 4 > cap * 3 || cap < entries * 2) {
            cap <<= 1;
        }
        if (cap > MAX_CAPACITY) {
            throw new IllegalStateException(c.describe() + " cannot hold more than " + (MAX_CAPACITY * 3 / 4) + " entries");
        }
        long old = c.data();
        MemorySegment os = c.heap.segment(old);
        long op = HeapLayout.offset(old) + BlockLayout.PAYLOAD;
        long oldCap = os.get(JAVA_LONG, op + CAPACITY);
        long fresh = allocate(c.heap, cap);
        MemorySegment ns = c.heap.segment(fresh);
        long np = HeapLayout.offset(fresh) + BlockLayout.PAYLOAD;
        long mask = cap - 1;
        long count = 0;
        for (long i = 0; i < oldCap; i++) {
            long slot = os.get(JAVA_LONG, op + SLOTS + 8 * i);
            if (slot == EMPTY || slot == TOMBSTONE) {
                continue;
            }
            long j = (slot >>> HASH_SHIFT) & mask;
            while (ns.get(JAVA_LONG, np + SLOTS + 8 * j) != EMPTY) {
                j = (j + 1) & mask;
            }
            ns.set(JAVA_LONG, np + SLOTS + 8 * j, slot);
            count++;
        }
        ns.set(JAVA_LONG, np + COUNT, count);
        ns.set(JAVA_LONG, np + USED, count);
        FaultPoints.at(FaultPoints.Point.DICT_RESIZE_BEFORE_PUBLISH);
        c.publishData(fresh);
        c.heap.free(old);
    }

    /** After a holder died mid-operation: recount live entries and tombstones from the slots. */
    static void recount(Container c) {
        long t = c.data();
        MemorySegment s = c.heap.segment(t);
        long p = HeapLayout.offset(t) + BlockLayout.PAYLOAD;
        long cap = s.get(JAVA_LONG, p + CAPACITY);
        long count = 0;
        long used = 0;
        for (long i = 0; i < cap; i++) {
            long slot = s.get(JAVA_LONG, p + SLOTS + 8 * i);
            if (slot != EMPTY) {
                used++;
                if (slot != TOMBSTONE) {
                    count++;
                }
            }
        }
        s.set(JAVA_LONG, p + COUNT, count);
        s.set(JAVA_LONG, p + USED, used);
    }

    /** Empties the table: a fresh one is published; returns the old table ref (its items are still to free). */
    static long clear(Container c) {
        long old = c.data();
        c.publishData(allocate(c.heap, INITIAL_CAPACITY));
        return old;
    }
}
