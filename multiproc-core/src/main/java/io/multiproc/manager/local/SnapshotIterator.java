package io.multiproc.manager.local;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Iterates a snapshot array taken under a container's lock, {@code stride} slots per element (1 for a
 * list, 2 for a dict's key and value), making the nested proxies its {@link DeferredProxies} left out as
 * the iteration reaches them. Subclasses say what an element is.
 */
abstract class SnapshotIterator<T> implements Iterator<T> {
    private final DeferredProxies deferred;
    /** The snapshot; a slot {@link #take}n is cleared, so the snapshot does not keep the caller's proxies alive. */
    final Object[] slots;
    private final int stride;
    /** The first slot of the next element. */
    int next;

    SnapshotIterator(DeferredProxies deferred, Object[] slots, int stride) {
        this.deferred = deferred;
        this.slots = slots;
        this.stride = stride;
        deferred.releaseWhenUnreachable(this);
    }

    @Override
    public boolean hasNext() {
        return next < slots.length;
    }

    /** Moves past the next element; returns its first slot. */
    int advance() {
        if (next >= slots.length) {
            throw new NoSuchElementException();
        }
        int at = next;
        next += stride;
        return at;
    }

    /** Slot {@code i}'s value (a deferred proxy made now), handed over to the caller. */
    Object take(int i) {
        Object v = slots[i];
        slots[i] = null;
        return v == DeferredProxies.DEFERRED ? deferred.next() : v;
    }
}
