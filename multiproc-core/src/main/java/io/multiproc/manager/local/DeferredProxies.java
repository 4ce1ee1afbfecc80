package io.multiproc.manager.local;

import java.lang.ref.Cleaner;
import java.util.Arrays;

/**
 * The nested containers one snapshot iteration met under its container's lock, whose proxies it makes
 * only when the iteration reaches them: a reader of 100,000 nested lists then keeps no 100,000 proxies
 * (each with its lock object and cleaner) alive at once, so they die young instead of being copied by
 * every young collection the read spans.
 *
 * <h2>Implementation overview</h2>
 * Under the parent's lock, {@link #decode} returns this process's cached proxy if it has one, else it
 * counts a hold on the nested container ({@link ContainerLife#addHold}: the item's reference keeps it
 * alive at that moment) and returns {@link #DEFERRED}; {@link #recordHolds}, still under the lock,
 * writes all those holds into this process's {@link Holds} in one call. So the snapshot's nested values
 * live exactly as if their proxies had been made under the lock: another process removing one later does
 * not free it, and a sweep after this process dies drops the holds. {@link #next} hands the next deferred
 * hold, in snapshot order, to a proxy ({@link Heap#proxyHeld}); whatever the iteration did not reach is
 * released when it ends, or by a {@link Cleaner} once the iterator is unreachable ({@link #run}).
 * <p>One instance per iterator; {@link #next} and {@link #run} may be called from different threads (the
 * cleaner's), hence the monitor.
 */
final class DeferredProxies implements Runnable {
    /** What {@link #decode} puts in a snapshot in place of a proxy it deferred. */
    static final Object DEFERRED = new Object();

    private final Heap heap;
    private long[] refs = new long[16];
    private int[] generations = new int[16];
    private int[] indexes;
    private int count;
    /** Deferred holds handed to proxies or released so far, in order; guarded by this. */
    private int taken;
    private Cleaner.Cleanable cleanable;

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
        if (count == refs.length) {
            refs = Arrays.copyOf(refs, count * 2);
            generations = Arrays.copyOf(generations, count * 2);
        }
        ContainerLife.addHold(heap, nested);
        refs[count] = nested;
        generations[count++] = generation;
        return DEFERRED;
    }

    /** Under the parent's lock, after the last {@link #decode}: records the counted holds. */
    void recordHolds() {
        if (count > 0) {
            indexes = new int[count];
            heap.holds().addAll(refs, count, indexes);
        }
    }

    /** Releases the holds nobody took once {@code owner} (the iterator) is unreachable. */
    void releaseWhenUnreachable(Object owner) {
        if (count > 0) {
            cleanable = Heap.CLEANER.register(owner, this);
        }
    }

    /** The proxy of the next deferred container in snapshot order (it takes over that hold). */
    Proxy next() {
        int i;
        synchronized (this) {
            if (taken >= count) {
                throw new IllegalStateException("no deferred container left"); // a bug: the iterator counts them
            }
            i = taken++;
        }
        Proxy p = heap.proxyHeld(refs[i], generations[i], indexes[i]);
        if (i == count - 1 && cleanable != null) {
            cleanable.clean(); // all taken: nothing left for the cleaner
        }
        return p;
    }

    /** Releases the holds the iteration did not reach (once; the cleaner's action). */
    @Override
    public void run() {
        int from;
        synchronized (this) {
            from = taken;
            taken = count;
        }
        Holds hs = heap.holds();
        for (int i = from; i < count; i++) {
            hs.release(indexes[i], refs[i]);
        }
    }
}
