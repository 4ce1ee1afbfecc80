package io.multiproc.manager.remote;

import io.multiproc.internal.SwappedWholeList;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A remote manager's list: every call is a request (see {@link RemoteManager} for which ones are
 * pipelined). Iteration is over a snapshot fetched in one request; the iterator's {@code set} and
 * {@code remove} write through by index, which is not atomic against other clients. {@code removeIf},
 * {@code removeAll}, {@code retainAll}, {@code replaceAll}, {@code sort} and {@code subList(..).clear()}
 * are ({@link SwappedWholeList}): they run here on a snapshot and publish the result only if the list
 * still holds that snapshot, as a Redis list's do.
 *
 * <pre>{@code
 * List<Integer> jobs = Manager.connect(address, key).list("jobs");
 * jobs.removeIf(j -> j % 2 == 0);   // other clients' inserts meanwhile are kept, never hit by a stale index
 * }</pre>
 */
final class RemoteList<E> extends SwappedWholeList<E> implements RemoteManager.RemoteContainer,
        io.multiproc.internal.KeyContents {
    private final transient Target t;

    RemoteList(Target t) {
        this.t = t;
    }

    @Override
    public RemoteRef ref(RemoteManager m) {
        return t.refFor(m);
    }

    /** Travels as a {@link RemoteHandle}: re-attaches in the receiving process (decision 116). */
    @java.io.Serial
    Object writeReplace() {
        return t.handle();
    }

    @Override
    public int size() {
        return t.callInt(Ops.SIZE);
    }

    @SuppressWarnings("unchecked")
    @Override
    public E get(int index) {
        return (E) t.call(Ops.L_GET, index);
    }

    @SuppressWarnings("unchecked")
    @Override
    public E set(int index, E element) {
        return (E) t.call(Ops.L_SET, index, element);
    }

    /** Pipelined: returns true at once (a list always accepts); a failure surfaces at the next waiting call. */
    @Override
    public boolean add(E element) {
        t.pipeline(Ops.L_ADD, element);
        return true;
    }

    @Override
    public void add(int index, E element) {
        t.call(Ops.L_INSERT, index, element);
    }

    @SuppressWarnings("unchecked")
    @Override
    public E remove(int index) {
        return (E) t.call(Ops.L_REMOVE_AT, index);
    }

    /** One request, one step on the server (the default reads the size first: two clients popping got IndexOutOfBounds). */
    @SuppressWarnings("unchecked")
    @Override
    public E removeLast() {
        return (E) t.call(Ops.L_END, Ops.END_REMOVE_LAST);
    }

    @SuppressWarnings("unchecked")
    @Override
    public E removeFirst() {
        return (E) t.call(Ops.L_END, Ops.END_REMOVE_FIRST);
    }

    @SuppressWarnings("unchecked")
    @Override
    public E getLast() {
        return (E) t.call(Ops.L_END, Ops.END_GET_LAST);
    }

    @SuppressWarnings("unchecked")
    @Override
    public E getFirst() {
        return (E) t.call(Ops.L_END, Ops.END_GET_FIRST);
    }

    @Override
    public boolean remove(Object o) {
        return t.callBoolean(Ops.L_REMOVE, o);
    }

    @Override
    public int indexOf(Object o) {
        return t.callInt(Ops.L_INDEX_OF, o);
    }

    @Override
    public int lastIndexOf(Object o) {
        return t.callInt(Ops.L_LAST_INDEX_OF, o);
    }

    @Override
    public boolean contains(Object o) {
        return t.callBoolean(Ops.CONTAINS, o);
    }

    /** One pipelined request for all of {@code c}. */
    @Override
    public boolean addAll(Collection<? extends E> c) {
        Objects.requireNonNull(c, "c");
        if (c.isEmpty()) {
            return false;
        }
        t.pipeline(Ops.L_ADD_ALL, c instanceof List<?> && PlainValues.encodableAsIs(c) ? c : new ArrayList<>(c)); // the server takes a list
        return true;
    }

    /**
     * One request: all of {@code c} at {@code index}, in one step on the server (element by element, an
     * element refused or another client's change half way would leave part of {@code c} inserted).
     */
    @Override
    public boolean addAll(int index, Collection<? extends E> c) {
        Objects.requireNonNull(c, "c");
        return t.callBoolean(Ops.L_INSERT_ALL, index, c instanceof List<?> && PlainValues.encodableAsIs(c) ? c : new ArrayList<>(c));
    }

    @Override
    public void clear() {
        t.pipeline(Ops.CLEAR);
    }

    /**
     * Runs {@code change} on a copy of a snapshot and, if it reports a change, replaces the list's
     * contents with the copy in one request that succeeds only if the list still holds the snapshot;
     * else reads again. Nested containers travel as references both ways, so they stay the same ones.
     */
    @Override
    protected boolean transform(Predicate<List<E>> change) {
        while (true) {
            // NOTE: two decodes of one snapshot: change may alter an element in place (sort an array), and
            // the server must compare with the elements as read
            Object[] two = t.callTwice(Ops.SNAPSHOT);
            @SuppressWarnings("unchecked")
            List<E> before = (List<E>) two[1];
            @SuppressWarnings("unchecked")
            List<E> after = new ArrayList<>((List<E>) two[0]);
            if (!change.test(after)) {
                return false;
            }
            if (t.callBoolean(Ops.L_REPLACE_IF, before, after)) {
                return true;
            }
        }
    }

    /** A copy of the whole list, fetched in one request. */
    @SuppressWarnings("unchecked")
    @Override
    protected List<E> snapshot() {
        return (List<E>) t.call(Ops.SNAPSHOT);
    }

    @Override
    public Object contents() {
        return snapshot();
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof List<?> l && snapshot().equals(l instanceof RemoteList<?> r ? r.snapshot() : l);
    }

    @Override
    public int hashCode() {
        return snapshot().hashCode();
    }
}
