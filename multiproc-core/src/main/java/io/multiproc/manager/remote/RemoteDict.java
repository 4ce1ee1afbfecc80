package io.multiproc.manager.remote;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

/**
 * A remote manager's dict. {@code get}, {@code put}, {@code remove}, {@code putIfAbsent} and both
 * {@code replace} are one request each and atomic on the server; {@code ConcurrentMap}'s default
 * {@code merge}, {@code compute*} and {@code replaceAll} are retry loops over those, so they are
 * atomic too without sending the function anywhere. {@code putAll} is one pipelined request;
 * {@link #getAll} one request; views iterate over a snapshot fetched in one request.
 */
final class RemoteDict<K, V> extends AbstractMap<K, V> implements ConcurrentMap<K, V>, RemoteManager.RemoteContainer {
    private final transient Target t;

    RemoteDict(Target t) {
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
    public boolean isEmpty() {
        return size() == 0;
    }

    @Override
    public boolean containsKey(Object key) {
        return t.callBoolean(Ops.CONTAINS, key);
    }

    @Override
    public boolean containsValue(Object value) {
        return t.callBoolean(Ops.D_CONTAINS_VALUE, value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V get(Object key) {
        return (V) t.call(Ops.D_GET, key);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V put(K key, V value) {
        return (V) t.call(Ops.D_PUT, key, value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V remove(Object key) {
        return (V) t.call(Ops.D_REMOVE, key);
    }

    @Override
    public boolean remove(Object key, Object value) {
        return t.callBoolean(Ops.D_REMOVE_IF, key, value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V putIfAbsent(K key, V value) {
        return (V) t.call(Ops.D_PUT_IF_ABSENT, key, value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V replace(K key, V value) {
        return (V) t.call(Ops.D_REPLACE, key, value);
    }

    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        return t.callBoolean(Ops.D_REPLACE_IF, key, oldValue, newValue);
    }

    /** One pipelined request for every entry of {@code m}. */
    @Override
    public void putAll(Map<? extends K, ? extends V> m) {
        Objects.requireNonNull(m, "m");
        if (!m.isEmpty()) {
            t.pipeline(Ops.D_PUT_ALL, PlainValues.encodableAsIs(m) ? m : new LinkedHashMap<>(m));
        }
    }

    /** The values of {@code keys} (absent ones left out), in one request. */
    @SuppressWarnings("unchecked")
    public Map<K, V> getAll(Collection<? extends K> keys) {
        List<K> list = new ArrayList<>(keys);
        List<V> values = (List<V>) t.call(Ops.D_GET_ALL, list);
        Map<K, V> result = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            if (values.get(i) != null) {
                result.put(list.get(i), values.get(i));
            }
        }
        return result;
    }

    @Override
    public void clear() {
        t.pipeline(Ops.CLEAR);
    }

    /** A copy of the whole dict, fetched in one request. */
    @SuppressWarnings("unchecked")
    Map<K, V> snapshot() {
        return (Map<K, V>) t.call(Ops.SNAPSHOT);
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        Map<K, V> snapshot = snapshot();
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<K, V>> iterator() {
                Iterator<Entry<K, V>> it = snapshot.entrySet().iterator();
                return new Iterator<>() {
                    private Entry<K, V> last;

                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Entry<K, V> next() {
                        Entry<K, V> e = it.next();
                        last = e;
                        return new SimpleEntry<>(e) {
                            @Override
                            public V setValue(V value) {
                                put(getKey(), value);
                                return super.setValue(value);
                            }
                        };
                    }

                    @Override
                    public void remove() {
                        if (last == null) {
                            throw new IllegalStateException("next() first");
                        }
                        RemoteDict.this.remove(last.getKey());
                        it.remove();
                        last = null;
                    }
                };
            }

            @Override
            public int size() {
                return snapshot.size();
            }
        };
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Map<?, ?> m && snapshot().equals(m instanceof RemoteDict<?, ?> r ? r.snapshot() : m);
    }

    @Override
    public int hashCode() {
        return snapshot().hashCode();
    }
}
