package io.multiproc.manager.local;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Set;

/**
 * A manager's set: what a {@code Set} stored into a managed container becomes. A table of keys with
 * the container's lock, like {@link ManagedMap}; iteration is over a snapshot (its {@code remove}
 * removes from the set).
 */
final class ManagedSet<E> extends AbstractSet<E> implements Serializable, Proxy, ManagedMap.Backed,
        io.multiproc.internal.KeyContents {
    @Serial
    private static final long serialVersionUID = 1L;
    private final transient ManagedMap<E, Boolean> map;

    ManagedSet(Container c) {
        this.map = new ManagedMap<>(c, false);
    }

    @SuppressWarnings("unchecked")
    static <E> ManagedSet<E> create(Heap heap) {
        long table = Table.allocate(heap, Table.INITIAL_CAPACITY);
        return (ManagedSet<E>) heap.adopt(Container.allocate(heap, ContainerKind.SET, table));
    }

    @Override
    public ManagedMap<?, ?> map() {
        return map;
    }

    @Override
    public Container container() {
        return map.container();
    }

    @Override
    public boolean add(E e) {
        java.util.Objects.requireNonNull(e, "e=null: a managed set does not store null elements");
        return map.putIfAbsent(e, Boolean.TRUE) == null;
    }

    @Override
    public boolean remove(Object o) {
        return map.remove(o) != null;
    }

    @Override
    public boolean contains(Object o) {
        return map.containsKey(o);
    }

    @Override
    public int size() {
        return map.size();
    }

    @Override
    public void clear() {
        map.clear();
    }

    @Override
    public Iterator<E> iterator() {
        return map.keySet().iterator();
    }

    /** Over one snapshot, as the iterator (the default sized it with a live size()). */
    @Override
    public java.util.Spliterator<E> spliterator() {
        return java.util.Spliterators.spliteratorUnknownSize(iterator(), java.util.Spliterator.DISTINCT);
    }

    @Override
    public Object contents() {
        return map.snapshot().keySet();
    }

    @Override
    public String toString() {
        return map.snapshot().keySet().toString();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Set<?> s && map.snapshot().keySet().equals(s);
    }

    @Override
    public int hashCode() {
        return map.snapshot().keySet().hashCode();
    }

    @Serial
    Object writeReplace() {
        return container().handle(this);
    }
}
