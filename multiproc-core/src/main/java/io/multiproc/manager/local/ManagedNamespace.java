package io.multiproc.manager.local;

import io.multiproc.manager.Namespace;

import java.io.Serial;
import java.io.Serializable;
import java.util.Map;
import java.util.Set;

/** A manager's namespace: a table of attribute names under the container's lock (see {@link ManagedMap}). */
final class ManagedNamespace implements Namespace, Serializable, Proxy, ManagedMap.Backed {
    @Serial
    private static final long serialVersionUID = 1L;
    private final transient ManagedMap<String, Object> map;

    ManagedNamespace(Container c) {
        this.map = new ManagedMap<>(c, true);
    }

    static ManagedNamespace create(Heap heap) {
        long table = Table.allocate(heap, Table.INITIAL_CAPACITY);
        return (ManagedNamespace) heap.adopt(Container.allocate(heap, ContainerKind.NAMESPACE, table));
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
    @SuppressWarnings("unchecked")
    public <T> T get(String name) {
        Object v = map.lookup(check(name));
        if (v == ManagedMap.ABSENT) {
            throw Namespace.missing(name);
        }
        return (T) v;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOrDefault(String name, T defaultValue) {
        Object v = map.lookup(check(name));
        return v == ManagedMap.ABSENT ? defaultValue : (T) v;
    }

    @Override
    public void set(String name, Object value) {
        map.putValue(check(name), value, false);
    }

    @Override
    public boolean has(String name) {
        return map.lookup(check(name)) != ManagedMap.ABSENT;
    }

    @Override
    public boolean remove(String name) {
        return map.removeEntry(check(name)) != ManagedMap.ABSENT;
    }

    @Override
    public Set<String> names() {
        return map.snapshot().keySet();
    }

    @Override
    public Map<String, Object> snapshot() {
        return map.snapshot();
    }

    private static String check(String name) {
        if (name == null) {
            throw new NullPointerException("name=null: a namespace attribute needs a name");
        }
        return name;
    }

    @Override
    public String toString() {
        return "Namespace" + map.snapshot();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ManagedNamespace n && n.container().ref == container().ref
                && n.managerName().equals(managerName());
    }

    @Override
    public int hashCode() {
        return Long.hashCode(container().ref);
    }

    @Serial
    Object writeReplace() {
        return container().handle(this);
    }
}
