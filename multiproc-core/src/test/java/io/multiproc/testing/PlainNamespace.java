package io.multiproc.testing;

import io.multiproc.manager.Namespace;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A namespace that is no manager's: attributes in this JVM's memory, in the order they were set,
 * thread-safe. Storing one into a managed container copies its attributes. A missing attribute
 * throws as a managed namespace's does.
 */
public final class PlainNamespace implements Namespace {
    private final Map<String, Object> attributes = Collections.synchronizedMap(new LinkedHashMap<>());

    @SuppressWarnings("unchecked")
    @Override
    public <T> T get(String name) {
        synchronized (attributes) {
            if (!attributes.containsKey(name)) {
                throw Namespace.missing(name);
            }
            return (T) attributes.get(name);
        }
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> T getOrDefault(String name, T defaultValue) {
        return (T) attributes.getOrDefault(name, defaultValue);
    }

    @Override
    public void set(String name, Object value) {
        attributes.put(name, value);
    }

    @Override
    public boolean has(String name) {
        return attributes.containsKey(name);
    }

    @Override
    public boolean remove(String name) {
        return attributes.remove(name) != null;
    }

    @Override
    public Set<String> names() {
        synchronized (attributes) {
            return new LinkedHashSet<>(attributes.keySet());
        }
    }

    @Override
    public Map<String, Object> snapshot() {
        synchronized (attributes) {
            return new LinkedHashMap<>(attributes);
        }
    }
}
