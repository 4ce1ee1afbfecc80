package io.multiproc.manager.remote;

import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** A set nested in a remote manager's container; iteration is over a snapshot. */
final class RemoteSet<E> extends AbstractSet<E> implements RemoteManager.RemoteContainer,
        io.multiproc.internal.KeyContents {
    private final transient Target t;

    RemoteSet(Target t) {
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

    @Override
    public boolean contains(Object o) {
        o = io.multiproc.internal.KeyContents.plain(o); // a list, set or dict proxy is its contents (decision 234)
        if (!storable(o)) {
            return false; // nothing can be stored as it (a local set answers so too)
        }
        return t.callBoolean(Ops.CONTAINS, o);
    }

    @Override
    public boolean add(E e) {
        return t.callBoolean(Ops.S_ADD, RemoteDict.storedKey(e)); // stored by value, as a dict's keys (decision 249)
    }

    @Override
    public boolean remove(Object o) {
        o = io.multiproc.internal.KeyContents.plain(o);
        if (!storable(o)) {
            return false; // nothing can be stored as it
        }
        return t.callBoolean(Ops.S_REMOVE, o);
    }

    /** Whether {@code o} can be sent as an element: a value the codec writes, or a proxy (refused by the server as before). */
    private static boolean storable(Object o) {
        return o instanceof RemoteManager.RemoteContainer || RemoteDict.encodes(o);
    }

    @Override
    public void clear() {
        t.pipeline(Ops.CLEAR);
    }

    /** Over one snapshot, as the iterator (the default sized it with a live size()). */
    @Override
    public java.util.Spliterator<E> spliterator() {
        return java.util.Spliterators.spliteratorUnknownSize(iterator(), java.util.Spliterator.DISTINCT);
    }

    @Override
    public Object contents() {
        return new java.util.LinkedHashSet<>((List<?>) t.call(Ops.SNAPSHOT));
    }

    @SuppressWarnings("unchecked")
    @Override
    public Iterator<E> iterator() {
        List<E> snapshot = new ArrayList<>((List<E>) t.call(Ops.SNAPSHOT));
        return new SnapshotIterator<>(snapshot.iterator(), RemoteSet.this::remove);
    }
}
