package io.multiproc.redis;

import io.multiproc.manager.Namespace;

import java.io.Serial;
import java.io.Serializable;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link RedisManager}'s namespace: a Redis hash from attribute name to codec bytes, through the same
 * code as {@link RedisDict} (nested containers included), so {@code ns.get("y").add(10)} on one host is
 * seen on every other.
 */
final class RedisNamespace implements Namespace, RedisProxy, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final transient RedisManager m;
    private final transient String key;
    private final transient RedisDict<String, Object> attributes;

    RedisNamespace(RedisManager m, String key) {
        this.m = m;
        this.key = key;
        this.attributes = new RedisDict<>(m, key);
    }

    @Override
    public RedisManager manager() {
        return m;
    }

    @Override
    public String key() {
        return key;
    }

    @Override
    public Kind kind() {
        return Kind.NAMESPACE;
    }

    @Serial
    Object writeReplace() {
        return handle();
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> T get(String name) {
        Object v = attributes.get(Objects.requireNonNull(name, "name"));
        if (v == null) {
            throw Namespace.missing(name);
        }
        return (T) v;
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> T getOrDefault(String name, T defaultValue) {
        Object v = attributes.get(Objects.requireNonNull(name, "name"));
        return v == null ? defaultValue : (T) v;
    }

    @Override
    public void set(String name, Object value) {
        attributes.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
    }

    /** Sets every attribute of {@code values} in one write: all of them, or none if one cannot be stored. */
    void setAll(Map<String, Object> values) {
        attributes.putAll(values);
    }

    @Override
    public boolean has(String name) {
        return attributes.containsKey(Objects.requireNonNull(name, "name"));
    }

    @Override
    public boolean remove(String name) {
        return attributes.remove(Objects.requireNonNull(name, "name")) != null;
    }

    @Override
    public Set<String> names() {
        return new LinkedHashSet<>(attributes.snapshot().keySet());
    }

    @Override
    public Map<String, Object> snapshot() {
        return attributes.snapshot();
    }

    @Override
    public String toString() {
        return "Namespace" + attributes.snapshot();
    }
}
