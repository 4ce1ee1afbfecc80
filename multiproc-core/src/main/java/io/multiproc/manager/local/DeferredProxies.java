package io.multiproc.manager.local;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Arrays;

/**
 * The nested containers one snapshot iteration met under its container's lock, whose proxies it hands
 * out only when the iteration reaches them, as light views: a reader of 100,000 nested lists then makes
 * no cache entry, cleaner registration or hold release per list, and keeps nothing per
 * list alive once the user drops it (decisions 114, 132).
 *
 * <h2>Implementation overview</h2>
 * Under the parent's lock, {@link #decode} returns this process's cached proxy if it has one, else it
 * counts a hold on the nested container ({@link ContainerLife#addHold}: the item's reference keeps it
 * alive at that moment) and returns {@link #DEFERRED}; {@link #recordHolds}, still under the lock,
 * writes all those holds into this process's {@link Holds} in one call. So the snapshot's nested values
 * live exactly as if their proxies had been made under the lock: another process removing one later does
 * not free it, and a sweep after this process dies drops the holds. {@link #next} hands the next deferred
 * container, in snapshot order, out as a view ({@link Heap#view}) that refers to the snapshot's anchor
 * (an object the iterator holds too); the holds are all released by one {@link Cleaner} registration
 * once the anchor is unreachable, that is once the iterator and every view it handed out are
 * ({@link #run}). A view kept past the loop thus keeps the snapshot's other containers alive with its
 * own: memory another process frees meanwhile comes back when the last view goes.
 * <p>One instance per iterator; {@link #next} and {@link #run} may be called from different threads (the
 * cleaner's), hence the monitor.
 */
final class DeferredProxies implements Runnable {
    /** What {@link #decode} puts in a snapshot in place of a proxy it deferred. */
    static final Object DEFERRED = new Object();
    /** {@link #indexes} entry of a hold already released (its container had a cached proxy by then). */
    private static final int RELEASED = -1;

    private final Heap heap;
    private long[] refs;
    private int[] generations;
    private int[] indexes;
    private int count;
    /** Deferred containers handed out so far, in order; guarded by this. */
    private int taken;
    /** True once {@link #run} released the holds; guarded by this. */
    private boolean released;

    DeferredProxies(Heap heap) {
        this.heap = heap;
    }

    /**
     * Under the parent's lock: the value of an item whose value is the nested container {@code nested}:
     * this process's cached proxy of it, or {@link #DEFERRED} with a hold counted.
     */
    Object decode(long nested) {
        int generation = ContainerLife.generation(heap, nested);
        Proxy cached = heap.cachedProxy(nested, generation);
        if (cached != null) {
            return cached;
        }
        if (refs == null) {
            refs = new long[16];
            generations = new int[16];
        } else if (count == refs.length) {
            refs = Arrays.copyOf(refs, count * 2);
            generations = Arrays.copyOf(generations, count * 2);
        }
        ContainerLife.addHold(heap, nested);
        refs[count] = nested;
        generations[count++] = generation;
        return DEFERRED;
    }

    /**
     * Under the parent's lock, after the last {@link #decode}: records the counted holds. If recording
     * fails (no heap space for a bigger holds array), the holds are dropped again before it throws.
     */
    void recordHolds() {
        if (count > 0) {
            int[] recorded = new int[count];
            Arrays.fill(recorded, RELEASED); // what addAll did not reach when it threw
            try {
                heap.holds().addAll(refs, count, recorded);
            } catch (RuntimeException | Error e) {
                Holds hs = heap.holds();
                for (int i = 0; i < count; i++) {
                    if (recorded[i] != RELEASED) {
                        hs.release(recorded[i], refs[i]);
                    } else {
                        ContainerLife.dropHold(heap, refs[i]);
                    }
                }
                count = 0;
                throw e;
            }
            indexes = recorded;
        }
    }

    /**
     * Under the parent's lock, when the snapshot failed before {@link #recordHolds} (an element that
     * does not decode): drops the holds {@link #decode} counted, which nothing else would ever drop.
     */
    void abandon() {
        if (indexes != null || heap.isDetached()) {
            return; // recorded (the snapshot succeeded), or the manager closed: nothing to drop
        }
        for (int i = 0; i < count; i++) {
            ContainerLife.dropHold(heap, refs[i]);
        }
        count = 0;
    }

    /**
     * The object whose reachability keeps this snapshot's holds (null when it deferred nothing): the
     * iterator and every view hold it, and this (the cleaner's action) must not.
     */
    Object anchor() {
        if (count == 0) {
            return null;
        }
        Object anchor = new Object();
        Heap.CLEANER.register(anchor, this);
        return anchor;
    }

    /** The view of the next deferred container in snapshot order, tied to {@code anchor}. */
    Proxy next(Object anchor) {
        int i;
        synchronized (this) {
            if (taken >= count) {
                throw new IllegalStateException("no deferred container left"); // a bug: the iterator counts them
            }
            i = taken++;
        }
        Proxy p = heap.view(refs[i], generations[i], anchor);
        if (p.container().anchor != anchor) {
            synchronized (this) { // a cached proxy appeared meanwhile: its own hold keeps the container
                // NOTE: the returned proxy does not refer to the anchor: the cleaner may have run already
                if (!released && indexes[i] != RELEASED) {
                    heap.holds().release(indexes[i], refs[i]);
                    indexes[i] = RELEASED;
                }
            }
        }
        Reference.reachabilityFence(anchor); // the holds outlive this call whatever the caller keeps
        return p;
    }

    /** Releases the snapshot's holds (once; the cleaner's action, when the anchor is unreachable). */
    @Override
    public synchronized void run() {
        // NOTE: under the monitor, so a next() releasing one hold early cannot release it a second time
        if (released) {
            return;
        }
        released = true;
        Holds hs = heap.holds();
        for (int i = 0; i < count; i++) {
            if (indexes[i] != RELEASED) {
                hs.release(indexes[i], refs[i]);
                indexes[i] = RELEASED;
            }
        }
    }
}
