package io.multiproc.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A list's {@code reversed()} view whose every call is one step on the list (decisions 217, 225): reads
 * over one snapshot of it, the ends and the whole-list calls as the list's own. JDK's default view read
 * the size and then an element or a snapshot in a second step, and failed when another process changed
 * the list between. A subclass gives the index calls, counting from the end in one step. Not part of the
 * public API.
 */
public abstract class ReversedList<E> extends SnapshotReadList<E> {
    protected final SnapshotReadList<E> base;

    protected ReversedList(SnapshotReadList<E> base) {
        this.base = base;
    }

    /** The list's elements, last first, read in one step. */
    @Override
    protected List<E> snapshot() {
        List<E> snap = new ArrayList<>(base.snapshot());
        Collections.reverse(snap);
        return snap;
    }

    @Override
    public int size() {
        return base.size();
    }

    /** At the view's end: the list's front, whatever its size by then (AbstractList's add(size(), e) was two steps). */
    @Override
    public boolean add(E e) {
        base.add(0, e);
        return true;
    }

    @Override
    public boolean addAll(Collection<? extends E> c) {
        List<E> adds = new ArrayList<>(c);
        Collections.reverse(adds);
        return base.addAll(0, adds);
    }

    @Override
    public E getFirst() {
        return base.getLast();
    }

    @Override
    public E getLast() {
        return base.getFirst();
    }

    @Override
    public E removeFirst() {
        return base.removeLast();
    }

    @Override
    public E removeLast() {
        return base.removeFirst();
    }

    @Override
    public void addFirst(E e) {
        base.add(e);
    }

    @Override
    public void addLast(E e) {
        base.add(0, e);
    }

    @Override
    public boolean contains(Object o) {
        return base.contains(o);
    }

    @Override
    public boolean removeIf(Predicate<? super E> filter) {
        return base.removeIf(filter);
    }

    @Override
    public boolean removeAll(Collection<?> c) {
        return base.removeAll(c);
    }

    @Override
    public boolean retainAll(Collection<?> c) {
        return base.retainAll(c);
    }

    @Override
    public void replaceAll(UnaryOperator<E> operator) {
        base.replaceAll(operator);
    }

    /** As ArrayList's view: the list sorted in reverse order. */
    @Override
    public void sort(Comparator<? super E> c) {
        base.sort(Collections.reverseOrder(c));
    }

    @Override
    public void clear() {
        base.clear();
    }

    @Override
    public List<E> reversed() {
        return base;
    }
}
