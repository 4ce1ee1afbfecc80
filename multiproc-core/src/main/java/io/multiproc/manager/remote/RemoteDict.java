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
 * {@code replace} are one request each and atomic on the server; {@code merge}, {@code compute*} and
 * {@code replaceAll} are retry loops over those, as {@code ConcurrentMap}'s defaults, so they are
 * atomic too without sending the function anywhere. They compare with a second decode of what they
 * read, so a function that changes its argument in place (an array) still publishes, and what they
 * return is the container the dict then holds when the function gave a plain List, Map, Set or
 * Namespace (read right after: another client may have replaced it meanwhile). {@code putAll} is one
 * pipelined request; {@link #getAll} one request; views iterate over a snapshot fetched in one request
 * per iteration, and their size and removals go to the dict.
 */
final class RemoteDict<K, V> extends AbstractMap<K, V> implements ConcurrentMap<K, V>, RemoteManager.RemoteContainer,
        io.multiproc.internal.KeyContents {
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
        key = plainKey(key);
        if (!encodes(key)) {
            return false; // nothing can be stored under it
        }
        return t.callBoolean(Ops.CONTAINS, key);
    }

    @Override
    public boolean containsValue(Object value) {
        return t.callBoolean(Ops.D_CONTAINS_VALUE, value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V get(Object key) {
        key = plainKey(key);
        if (!encodes(key)) {
            return null; // nothing can be stored under it
        }
        return (V) t.call(Ops.D_GET, key);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V put(K key, V value) {
        return (V) t.call(Ops.D_PUT, storedKey(key), value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V remove(Object key) {
        key = plainKey(key);
        if (!encodes(key)) {
            return null; // nothing can be stored under it
        }
        return (V) t.call(Ops.D_REMOVE, key);
    }

    @Override
    public boolean remove(Object key, Object value) {
        key = plainKey(key);
        if (!encodes(key)) {
            return false; // nothing can be stored under it
        }
        return t.callBoolean(Ops.D_REMOVE_IF, key, value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V putIfAbsent(K key, V value) {
        return (V) t.call(Ops.D_PUT_IF_ABSENT, storedKey(key), value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public V replace(K key, V value) {
        key = plainKey(key);
        if (key != null && !encodes(key)) {
            return null; // nothing can be stored under it, so there is nothing to replace (as a local dict answers)
        }
        return (V) t.call(Ops.D_REPLACE, key, value);
    }

    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        key = plainKey(key);
        if (key != null && !encodes(key)) {
            return false; // nothing can be stored under it
        }
        return t.callBoolean(Ops.D_REPLACE_IF, key, oldValue, newValue);
    }

    /**
     * {@code key}, or a list, set or dict proxy's contents now (of any manager: this one's would travel as
     * a reference, another's not at all): the plain key it equals, sent by value (decision 234).
     */
    @SuppressWarnings("unchecked")
    private static <T> T plainKey(T key) {
        return (T) io.multiproc.internal.KeyContents.plain(key);
    }

    /**
     * {@link #plainKey}, for a call that may store it: a key holding a proxy of any manager (this
     * connection's, another's, a local manager's) or another shared object anywhere inside is refused
     * here, naming the key's class, as a local dict refuses it (decision 249). Before, each kind failed
     * differently, and this connection's only on the server, where a batch's copy named an ArrayList.
     * Scalars skip the check; other keys pay one key encoding, as a lookup's {@link #encodes} does.
     */
    static Object storedKey(Object key) {
        key = io.multiproc.internal.KeyContents.plain(key);
        if (!PlainValues.isScalar(key)) {
            io.multiproc.internal.KeyContents.checkStoredByValue(key, ManagerServer.CODEC); // refuses shared objects
        }
        return key;
    }

    /**
     * Whether {@code key} can travel at all: a lookup of one that cannot is simply absent (Map.get answers
     * null; a CodecException broke HashMap.equals). Null goes on, to fail on the server as before.
     */
    static boolean encodes(Object key) {
        if (key == null || key instanceof String || key instanceof Integer || key instanceof Long) {
            return true;
        }
        try {
            ManagerServer.CODEC.encode(key, new io.multiproc.codec.BufferSink(64));
            return true;
        } catch (IllegalArgumentException refused) { // CodecException is one
            return false;
        }
    }

    /** The value of {@code key} decoded twice: [the function's copy, the copy the server compares with]. */
    private Object[] read(Object key) {
        return t.callTwice(Ops.D_GET, key);
    }

    /** Publishes {@code next} (null: none) over {@code expected} (null: absent); false if another client came between. */
    private boolean settle(K key, V expected, V next) {
        if (expected == null) {
            return next == null || putIfAbsent(key, next) == null;
        }
        return next == null ? remove(key, expected) : replace(key, expected, next);
    }

    /** What a compute or merge that stored {@code next} returns: the container the dict holds if next was a plain one. */
    @SuppressWarnings("unchecked")
    private V stored(K key, V next) {
        if (next instanceof RemoteManager.RemoteContainer
                || !(next instanceof List || next instanceof Map || next instanceof Set || next instanceof io.multiproc.manager.Namespace)) {
            return next;
        }
        V now = get(key);
        return now instanceof RemoteManager.RemoteContainer ? now : next;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V compute(K key, java.util.function.BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f, "remappingFunction");
        K k = (K) storedKey(key); // refused before the function runs, as a local dict does
        while (true) {
            Object[] two = read(k);
            V next = f.apply(key, (V) two[0]);
            if (settle(k, (V) two[1], next)) {
                return next == null ? null : stored(k, next);
            }
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public V computeIfAbsent(K key, java.util.function.Function<? super K, ? extends V> f) {
        Objects.requireNonNull(f, "mappingFunction");
        K k = (K) storedKey(key);
        V old = get(k);
        if (old != null) {
            return old;
        }
        V next = f.apply(key);
        if (next == null) {
            return null;
        }
        V prev = putIfAbsent(k, next);
        return prev != null ? prev : stored(k, next);
    }

    @Override
    @SuppressWarnings("unchecked")
    public V computeIfPresent(K key, java.util.function.BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f, "remappingFunction");
        K k = plainKey(key);
        if (k != null && !encodes(k)) {
            return null; // nothing can be stored under it, so it is absent
        }
        while (true) {
            Object[] two = read(k);
            if (two[0] == null) {
                return null;
            }
            V next = f.apply(key, (V) two[0]);
            if (settle(k, (V) two[1], next)) {
                return next == null ? null : stored(k, next);
            }
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public V merge(K key, V value, java.util.function.BiFunction<? super V, ? super V, ? extends V> f) {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(f, "remappingFunction");
        K k = (K) storedKey(key);
        while (true) {
            Object[] two = read(k);
            V next = two[0] == null ? value : f.apply((V) two[0], value);
            if (settle(k, (V) two[1], next)) {
                return next == null ? null : stored(k, next);
            }
        }
    }

    /** Entry by entry, as ConcurrentHashMap's: each key present in a snapshot and still present is replaced once. */
    @Override
    @SuppressWarnings("unchecked")
    public void replaceAll(java.util.function.BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f, "function");
        for (K key : snapshot().keySet()) {
            while (true) {
                Object[] two = read(key);
                if (two[0] == null) {
                    break;
                }
                V next = Objects.requireNonNull(f.apply(key, (V) two[0]), "replaceAll's function returned null");
                if (replace(key, (V) two[1], next)) {
                    break;
                }
            }
        }
    }

    /**
     * One pipelined request for every entry of {@code m}, each key taken as {@link #put} takes it (a list,
     * set or dict proxy of any manager is its contents; one holding a proxy inside is refused, and then
     * nothing is sent): a batch stores what a loop of puts stores (decision 250).
     */
    @Override
    public void putAll(Map<? extends K, ? extends V> m) {
        Objects.requireNonNull(m, "m");
        if (m.isEmpty()) {
            return;
        }
        Map<?, ?> batch = PlainValues.encodableAsIs(m) ? m : new LinkedHashMap<>(m);
        for (Object k : batch.keySet()) {
            if (!PlainValues.isScalar(k)) { // a putAll of plain keys is not copied (BatchWarmUp's 10,000 entries)
                batch = storedKeys(batch);
                break;
            }
        }
        t.pipeline(Ops.D_PUT_ALL, batch);
    }

    /** {@code m} with each key as {@link #storedKey} takes it, in m's order. */
    private static Map<Object, Object> storedKeys(Map<?, ?> m) {
        Map<Object, Object> out = LinkedHashMap.newLinkedHashMap(m.size());
        for (Map.Entry<?, ?> e : m.entrySet()) {
            out.put(storedKey(e.getKey()), e.getValue());
        }
        return out;
    }

    /**
     * The values of {@code keys} (absent ones left out), in one request, each key looked up as {@link #get}
     * looks it up (decision 250): a proxy of any manager is its contents, and a key that cannot travel (one
     * holding a proxy or a shared object) is absent, not a failure of the whole batch.
     */
    @SuppressWarnings("unchecked")
    public Map<K, V> getAll(Collection<? extends K> keys) {
        List<K> list = new ArrayList<>(keys);
        List<Object> sent = new ArrayList<>(list.size());
        int[] at = new int[list.size()]; // the index in sent of each key asked, or -1: absent without asking
        for (int i = 0; i < list.size(); i++) {
            Object k = plainKey(list.get(i));
            if (PlainValues.isScalar(k) || encodes(k)) {
                at[i] = sent.size();
                sent.add(k);
            } else {
                at[i] = -1;
            }
        }
        List<V> values = sent.isEmpty() ? List.of() : (List<V>) t.call(Ops.D_GET_ALL, sent);
        Map<K, V> result = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            V v = at[i] < 0 ? null : values.get(at[i]);
            if (v != null) {
                result.put(list.get(i), v);
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
    public Object contents() {
        return snapshot();
    }

    /**
     * A view of the keys: iteration over a snapshot; {@code remove(k)} and the iterator's {@code remove}
     * remove the key whatever it maps to now, as the local manager's key set and ConcurrentHashMap's do
     * (AbstractMap's went through the entry set, which removes only the value as read, so a key another
     * client changed meanwhile stayed while {@code remove} still answered true).
     */
    @Override
    public Set<K> keySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<K> iterator() {
                return new SnapshotIterator<>(snapshot().keySet().iterator(), RemoteDict.this::remove);
            }

            @Override
            public java.util.Spliterator<K> spliterator() { // over one snapshot, as the iterator
                return java.util.Spliterators.spliteratorUnknownSize(iterator(), java.util.Spliterator.DISTINCT);
            }

            @Override
            public int size() {
                return RemoteDict.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return o != null && containsKey(o);
            }

            @Override
            public boolean remove(Object o) {
                return o != null && RemoteDict.this.remove(o) != null;
            }

            @Override
            public void clear() {
                RemoteDict.this.clear();
            }
        };
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<K, V>> iterator() {
                Iterator<Entry<K, V>> it = snapshot().entrySet().iterator();
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
                        RemoteDict.this.remove(last.getKey(), last.getValue()); // as read: a newer value stays
                        it.remove();
                        last = null;
                    }
                };
            }

            @Override
            public int size() {
                return RemoteDict.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return o instanceof Entry<?, ?> e && e.getKey() != null && e.getValue() != null
                        && Objects.equals(get(e.getKey()), e.getValue());
            }

            /**
             * Removes the entry only if the key still maps to an equal value (Map.entrySet's contract; a
             * nested container equals a plain one with its contents), and only if it was not changed since
             * this read it.
             */
            @Override
            public boolean remove(Object o) {
                if (!(o instanceof Entry<?, ?> e) || e.getKey() == null || e.getValue() == null) {
                    return false;
                }
                Object now = get(e.getKey());
                return now != null && now.equals(e.getValue()) && RemoteDict.this.remove(e.getKey(), now);
            }

            @Override
            public void clear() {
                RemoteDict.this.clear();
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
