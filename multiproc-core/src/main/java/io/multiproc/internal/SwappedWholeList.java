package io.multiproc.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.ListIterator;
import java.util.Objects;
import java.util.function.Function;
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
public abstract class SwappedWholeList<E> extends SnapshotReadList<E> {
    /**
     * Applies {@code change} to a copy of the list and, if it reports a change, publishes the copy with
     * one compare-and-set of the whole list, retrying on a conflict; false if {@code change} changed nothing
     * (then nothing is written).
     */
    protected abstract boolean transform(Predicate<List<E>> change);

    /**
     * Iteration is over one {@link #snapshot} read in one request (as streams, {@code toArray}, ...: the
     * default stream sized itself with a live size(), and failed with "end size less than fixed size" when
     * another client removed elements between); the iterator's {@code set}, {@code remove} and {@code add}
     * write through by index.
     */
    @Override
    protected ListIterator<E> iterate(List<E> snapshot, int index) {
        return new SnapshotListIterator<>(this, snapshot, index);
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

    /**
     * The reversed view's {@code get(i)}: the element {@code i} places from the end, read in one step. This
     * reads a snapshot; a server that indexes from the end itself (Redis) overrides it with one small
     * request (decision 235).
     */
    protected E getFromEnd(int i) {
        List<E> s = snapshot();
        return s.get(s.size() - 1 - Objects.checkIndex(i, s.size()));
    }

    /**
     * The reversed view's {@code set(i, e)}: replaces the element {@code i} places from the end in one step
     * and returns it. This is one {@link #transform} of the whole list; Redis overrides it (decision 235).
     */
    protected E setFromEnd(int i, E e) {
        return atIndex(l -> l.set(l.size() - 1 - Objects.checkIndex(i, l.size()), e));
    }

    /** One {@link #transform} of the list's copy by {@code change}; what it answered on its last run. */
    private E atIndex(Function<List<E>, E> change) {
        List<E> answer = new ArrayList<>(1);
        transform(l -> {
            answer.clear();
            answer.add(change.apply(l));
            return true;
        });
        return answer.getFirst();
    }

    /**
     * A view in reverse order whose every call is one step on the list (decision 225): reads and iteration
     * go over one snapshot, index calls ({@code get(i)}, {@code set}, {@code add(i, e)}, {@code remove(i)})
     * are one {@link #transform} counting from the end, and the ends are the list's own one-step calls.
     * JDK's default view read the size in one request and a snapshot or an element in another, and threw
     * IndexOutOfBoundsException when another client had shortened the list between. The index calls move
     * the whole list, as {@code removeIf} does: at the ends, {@code getFirst}, {@code removeLast}, ... are
     * one small request.
     */
    @Override
    public List<E> reversed() {
        return new Reversed();
    }

    /** {@link #reversed()}'s view: index calls are one {@link #transform} counting from the end. */
    private final class Reversed extends ReversedList<E> {
        Reversed() {
            super(SwappedWholeList.this);
        }

        /** Writes through by this view's index, as the list's own iterator does by the list's. */
        @Override
        protected ListIterator<E> iterate(List<E> snapshot, int index) {
            return new SnapshotListIterator<>(this, snapshot, index);
        }

        @Override
        public E get(int i) {
            return getFromEnd(i);
        }

        @Override
        public E set(int i, E e) {
            return setFromEnd(i, e);
        }

        @Override
        public E remove(int i) {
            return atIndex(l -> l.remove(l.size() - 1 - Objects.checkIndex(i, l.size())));
        }

        @Override
        public void add(int i, E e) {
            addAll(i, Collections.singletonList(e));
        }

        @Override
        public boolean addAll(int i, Collection<? extends E> c) {
            List<E> adds = new ArrayList<>(c);
            if (adds.isEmpty()) {
                Objects.checkIndex(i, size() + 1);
                return false;
            }
            Collections.reverse(adds);
            atIndex(l -> {
                l.addAll(l.size() - Objects.checkIndex(i, l.size() + 1), adds);
                return null;
            });
            return true;
        }

        @Override
        protected void removeRange(int from, int to) {
            transform(l -> {
                int n = l.size();
                l.subList(n - to, n - from).clear();
                return true;
            });
        }
    }
}
