package io.multiproc.internal;

import java.util.List;
import java.util.ListIterator;

/**
 * Iterates a snapshot of a list on a server (a remote or Redis list, or its reversed view); {@code set},
 * {@code remove} and {@code add} write through to the list by index (one round trip each, not atomic
 * against other writers between the read and the write) and keep the snapshot in step. Not part of the
 * public API.
 */
public final class SnapshotListIterator<E> implements ListIterator<E> {
    private final List<E> target;
    private final ListIterator<E> snapshot;
    /** Index of the element last returned, -1 when set/remove are not allowed. */
    private int last = -1;

    public SnapshotListIterator(List<E> target, List<E> snapshot, int index) {
        if (index < 0 || index > snapshot.size()) {
            throw new IndexOutOfBoundsException("index=" + index + ", size=" + snapshot.size());
        }
        this.target = target;
        this.snapshot = snapshot.listIterator(index);
    }

    @Override
    public boolean hasNext() {
        return snapshot.hasNext();
    }

    @Override
    public E next() {
        int at = snapshot.nextIndex();
        E e = snapshot.next();
        last = at; // NOTE: after snapshot.next(): at the end it throws, and remove/set then have no element (not index size)
        return e;
    }

    @Override
    public boolean hasPrevious() {
        return snapshot.hasPrevious();
    }

    @Override
    public E previous() {
        int at = snapshot.previousIndex();
        E e = snapshot.previous();
        last = at; // NOTE: after snapshot.previous(), as in next()
        return e;
    }

    @Override
    public int nextIndex() {
        return snapshot.nextIndex();
    }

    @Override
    public int previousIndex() {
        return snapshot.previousIndex();
    }

    @Override
    public void remove() {
        requireCurrent();
        target.remove(last);
        snapshot.remove();
        last = -1;
    }

    @Override
    public void set(E e) {
        requireCurrent();
        target.set(last, e);
        snapshot.set(e);
    }

    @Override
    public void add(E e) {
        target.add(snapshot.nextIndex(), e);
        snapshot.add(e);
        last = -1;
    }

    private void requireCurrent() {
        if (last < 0) {
            throw new IllegalStateException("call next() or previous() first");
        }
    }
}
