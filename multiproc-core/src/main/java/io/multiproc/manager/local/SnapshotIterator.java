package io.multiproc.manager.local;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Iterates a snapshot array taken under a container's lock, {@code stride} slots per element (1 for a
 * list, 2 for a dict's key and value), handing out the nested containers its {@link DeferredProxies} left
 * out as views as the iteration reaches them. Subclasses say what an element is.
 */
abstract class SnapshotIterator<T> implements Iterator<T> {
    private final DeferredProxies deferred;
    /** Keeps the snapshot's holds while this iterator or a view it handed out is reachable; null if none. */
    private final Object anchor;
    /** The snapshot; a slot {@link #take}n is cleared, so the snapshot does not keep the caller's proxies alive. */
    final Object[] slots;
    private final int stride;
    /** The first slot of the next element. */
    int next;

    SnapshotIterator(DeferredProxies deferred, Object[] slots, int stride) {
        this.deferred = deferred;
        this.slots = slots;
        this.stride = stride;
        this.anchor = deferred.anchor();
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

    /** Slot {@code i}'s value (a deferred container's view made now), handed over to the caller. */
    Object take(int i) {
        Object v = slots[i];
        slots[i] = null;
        return v == DeferredProxies.DEFERRED ? deferred.next(anchor) : v;
    }
}
