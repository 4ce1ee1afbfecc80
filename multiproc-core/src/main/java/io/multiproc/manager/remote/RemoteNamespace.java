package io.multiproc.manager.remote;

import io.multiproc.manager.Namespace;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** A remote manager's namespace; {@code set} is pipelined, the rest one request each. */
final class RemoteNamespace implements Namespace, RemoteManager.RemoteContainer {
    private final transient Target t;

    RemoteNamespace(Target t) {
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

    @SuppressWarnings("unchecked")
    @Override
    public <T> T get(String name) {
        return (T) t.call(Ops.N_GET, Objects.requireNonNull(name, "name"));
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> T getOrDefault(String name, T defaultValue) {
        Objects.requireNonNull(name, "name"); // as get, has and the local namespace: a snapshot would answer the default
        Map<String, Object> all = snapshot();
        return all.containsKey(name) ? (T) all.get(name) : defaultValue;
    }

    @Override
    public void set(String name, Object value) {
        t.pipeline(Ops.N_SET, Objects.requireNonNull(name, "name"), value);
    }

    @Override
    public boolean has(String name) {
        return t.callBoolean(Ops.CONTAINS, Objects.requireNonNull(name, "name"));
    }

    @Override
    public boolean remove(String name) {
        return t.callBoolean(Ops.N_REMOVE, Objects.requireNonNull(name, "name"));
    }

    @Override
    public Set<String> names() {
        return new LinkedHashSet<>(snapshot().keySet());
    }

    @SuppressWarnings("unchecked")
    @Override
    public Map<String, Object> snapshot() {
        return (Map<String, Object>) t.call(Ops.SNAPSHOT);
    }

    @Override
    public String toString() {
        return "Namespace" + snapshot();
    }

    /**
     * Proxies of one namespace are equal, as the local manager's are (its namespaces compare their
     * container, not their attributes): a server gives one container one id per connection, so the
     * same connection and id is the same namespace. Two connections' proxies are never equal.
     */
    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof RemoteNamespace n && n.t.manager() == t.manager() && n.t.ref().id() == t.ref().id();
    }

    @Override
    public int hashCode() {
        return Long.hashCode(t.ref().id());
    }
}
