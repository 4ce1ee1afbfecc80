package io.multiproc.internal;

import java.util.AbstractList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.Objects;
import java.util.Spliterator;

/**
 * A list another process may change between two calls, whose bulk reads (iteration, streams,
 * {@code toArray}, {@code indexOf}, {@code lastIndexOf}) each go over one {@link #snapshot}: the
 * java.util defaults read the size, then elements or a snapshot from an index computed from it, and threw
 * IndexOutOfBoundsException (or "End size 10 is less than fixed size 11") when the list had shrunk between
 * (decisions 217, 225). Not part of the public API.
 */
public abstract class SnapshotReadList<E> extends AbstractList<E> {
    /** A copy of the elements, read in one step on the list. */
    protected abstract List<E> snapshot();

    /** Iterates {@code snapshot} from {@code index}; read-only unless overridden. */
    protected ListIterator<E> iterate(List<E> snapshot, int index) {
        return Collections.unmodifiableList(snapshot).listIterator(index);
    }

    @Override
    public Iterator<E> iterator() {
        return listIterator(0);
    }

    @Override
    public ListIterator<E> listIterator(int index) {
        List<E> snap = snapshot();
        Objects.checkIndex(index, snap.size() + 1);
        return iterate(snap, index);
    }

    @Override
    public Spliterator<E> spliterator() {
        return snapshot().spliterator();
    }

    @Override
    public Object[] toArray() {
        return snapshot().toArray();
    }

    @Override
    public <T> T[] toArray(T[] a) {
        return snapshot().toArray(a);
    }

    @Override
    public int indexOf(Object o) {
        return snapshot().indexOf(o);
    }

    @Override
    public int lastIndexOf(Object o) {
        return snapshot().lastIndexOf(o);
    }
}
