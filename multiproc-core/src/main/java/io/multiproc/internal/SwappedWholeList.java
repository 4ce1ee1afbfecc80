package io.multiproc.internal;

import java.util.AbstractList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A list on a server (a remote manager's, a Redis one) whose bulk changes run here on a copy of a
 * snapshot and replace the whole list only if it still holds that snapshot, else read again: one
 * {@link #transform} behind {@code removeIf}, {@code removeAll}, {@code retainAll}, {@code replaceAll},
 * {@code sort} and {@code subList(..).clear()}, so each is atomic against other clients without a lock
 * and without sending the function anywhere (it may run more than once). The java.util defaults would go
 * element by element through index writes, which another client's insert at the front turns into writes
 * to the wrong elements. Not part of the public API.
 *
 * <pre>{@code
 * jobs.removeIf(j -> j % 2 == 0);   // jobs: a remote or Redis list; other clients' inserts meanwhile are kept
 * }</pre>
 */
public abstract class SwappedWholeList<E> extends AbstractList<E> {
    /**
     * Applies {@code change} to a copy of the list and, if it reports a change, publishes the copy with
     * one compare-and-set of the whole list, retrying on a conflict; false if {@code change} changed nothing
     * (then nothing is written).
     */
    protected abstract boolean transform(Predicate<List<E>> change);

    /**
     * Over one snapshot, as the subclasses' iterators are: the default sized it with a live size(), and a
     * stream failed ("end size less than fixed size") when another client removed elements between.
     */
    @Override
    public java.util.Spliterator<E> spliterator() {
        return java.util.Spliterators.spliteratorUnknownSize(iterator(), java.util.Spliterator.ORDERED);
    }

    @Override
    public boolean removeIf(Predicate<? super E> filter) {
        Objects.requireNonNull(filter, "filter");
        return transform(l -> l.removeIf(filter));
    }

    @Override
    public boolean removeAll(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        return transform(l -> l.removeAll(c));
    }

    @Override
    public boolean retainAll(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        return transform(l -> l.retainAll(c));
    }

    @Override
    public void replaceAll(UnaryOperator<E> operator) {
        Objects.requireNonNull(operator, "operator");
        transform(l -> {
            l.replaceAll(operator);
            return true;
        });
    }

    @Override
    public void sort(Comparator<? super E> c) {
        transform(l -> {
            l.sort(c);
            return true;
        });
    }

    /** AbstractList's {@code subList(from, to).clear()} comes here: one replacement too. */
    @Override
    protected void removeRange(int fromIndex, int toIndex) {
        transform(l -> {
            l.subList(fromIndex, toIndex).clear();
            return true;
        });
    }
}
