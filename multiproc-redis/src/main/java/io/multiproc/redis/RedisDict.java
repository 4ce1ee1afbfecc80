package io.multiproc.redis;

import org.redisson.api.RMap;
import org.redisson.api.RScript;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

/**
 * A {@link RedisManager}'s dict: a Redis hash of codec bytes ({@link RMap} with {@link RedisCodec}); its
 * fields are the keys' key bytes ({@link io.multiproc.codec.Codec#encodeKey}: equal keys, one field, decision
 * 212), and lookups by value ({@code containsValue}, {@code remove(k, v)}, {@code replace(k, old, new)})
 * compare by equals where bytes cannot tell (decision 213).
 * {@code putIfAbsent}, {@code replace} and {@code remove(key, value)} are Redisson's atomic scripts (values
 * compared as codec bytes); {@code merge}, {@code compute}, {@code computeIfAbsent} and
 * {@code computeIfPresent} are {@link ConcurrentMap}'s retry loops over them, so they are atomic across
 * hosts without a lock (the function may run more than once, as with {@code ConcurrentHashMap}'s
 * defaults). Null keys and values throw NullPointerException. Views iterate a snapshot read in one round
 * trip; their iterators' {@code remove} and entries' {@code setValue} write through.
 *
 * <pre>{@code
 * ConcurrentMap<String, Integer> hits = redisManager.dict("hits");
 * hits.merge("page", 1, Integer::sum);    // from any number of hosts at once, nothing lost
 * }</pre>
 */
final class RedisDict<K, V> extends AbstractMap<K, V> implements ConcurrentMap<K, V>, RedisProxy, Serializable,
        io.multiproc.internal.KeyContents {
    @Serial
    private static final long serialVersionUID = 1L;

    private final transient RedisManager m;
    private final transient String key;
    private final transient RMap<Object, Object> map;

    RedisDict(RedisManager m, String key) {
        this.m = m;
        this.key = key;
        this.map = m.redisson().getMap(key, RedisCodec.INSTANCE);
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
        return Kind.DICT;
    }

    @Serial
    Object writeReplace() {
        return handle();
    }

    @Override
    public int size() {
        return m.call(() -> map.size());
    }

    @Override
    public boolean isEmpty() {
        return size() == 0;
    }

    @Override
    public boolean containsKey(Object given) {
        Object k = plainKey(given);
        if (k != null && !RedisCodec.encodes(k)) {
            return false; // nothing can be stored under it
        }
        return m.call(() -> map.containsKey(Objects.requireNonNull(k, "key")));
    }

    @Override
    public boolean containsValue(Object v) {
        Object stored = m.nesting.asStored(Objects.requireNonNull(v, "value"));
        if (RedisCodec.bytesDecideEquality(stored)) {
            return m.call(() -> map.containsValue(stored));
        }
        // NOTE: by equals: Redisson's containsValue compares bytes, and an equal record whose Set iterates in
        // another order is stored as other bytes (decision 213)
        return m.call(() -> map.readAllValues().contains(stored));
    }

    @SuppressWarnings("unchecked")
    @Override
    public V get(Object given) {
        Object k = plainKey(given);
        if (k != null && !RedisCodec.encodes(k)) {
            return null; // nothing can be stored under it
        }
        return m.call(() -> (V) m.nesting.fromStored(key, map.get(Objects.requireNonNull(k, "key"))));
    }

    @SuppressWarnings("unchecked")
    @Override
    public V put(K given, V v) {
        K k = plainKey(given);
        return m.call(() -> {
            m.nesting.checkKey(Objects.requireNonNull(k, "key"));
            Object stored = m.nesting.toStored(Objects.requireNonNull(v, "value"));
            Object old;
            try {
                old = map.put(k, stored);
            } catch (RuntimeException e) {
                throw m.nesting.undo(stored, e);
            }
            m.nesting.release(old);
            return (V) m.nesting.fromStored(key, old);
        });
    }

    @SuppressWarnings("unchecked")
    @Override
    public V remove(Object given) {
        Object k = plainKey(given);
        if (k != null && !RedisCodec.encodes(k)) {
            return null; // nothing can be stored under it
        }
        return m.call(() -> {
            Object old = map.remove(Objects.requireNonNull(k, "key"));
            m.nesting.release(old);
            return (V) m.nesting.fromStored(key, old);
        });
    }

    @SuppressWarnings("unchecked")
    @Override
    public V putIfAbsent(K given, V v) {
        K k = plainKey(given);
        return m.call(() -> {
            m.nesting.checkKey(Objects.requireNonNull(k, "key"));
            Object stored = m.nesting.toStored(Objects.requireNonNull(v, "value"));
            Object old;
            try {
                old = map.putIfAbsent(k, stored);
            } catch (RuntimeException e) {
                throw m.nesting.undo(stored, e);
            }
            if (old != null) {
                m.nesting.undo(stored);
            }
            return (V) m.nesting.fromStored(key, old);
        });
    }

    @Override
    public boolean remove(Object given, Object v) {
        Object k = plainKey(given);
        if (k != null && !RedisCodec.encodes(k)) {
            return false; // nothing can be stored under it
        }
        return m.call(() -> {
            Objects.requireNonNull(k, "key");
            if (v == null) {
                return false;
            }
            Object stored = m.nesting.asStored(v);
            if (!RedisCodec.bytesDecideEquality(stored)) {
                return replaceIfEqual(k, stored, null); // by equals, not Redisson's byte compare (decision 213)
            }
            boolean removed = map.remove(k, stored);
            if (removed) {
                m.nesting.release(stored);
            }
            return removed;
        });
    }

    @Override
    public boolean replace(K given, V oldValue, V newValue) {
        K k = plainKey(given);
        if (k != null && !RedisCodec.encodes(k)) {
            return false; // nothing can be stored under it
        }
        return m.call(() -> {
            Objects.requireNonNull(k, "key");
            Objects.requireNonNull(oldValue, "oldValue");
            Objects.requireNonNull(newValue, "newValue");
            Object expected = m.nesting.asStored(oldValue);
            if (!RedisCodec.bytesDecideEquality(expected)) {
                return replaceIfEqual(k, expected, newValue); // by equals, not Redisson's byte compare (decision 213)
            }
            Object stored = m.nesting.toStored(newValue);
            boolean replaced;
            try {
                replaced = map.replace(k, expected, stored);
            } catch (RuntimeException e) {
                throw m.nesting.undo(stored, e);
            }
            m.nesting.release(replaced ? expected : stored);
            return replaced;
        });
    }

    @SuppressWarnings("unchecked")
    @Override
    public V replace(K given, V v) {
        K k = plainKey(given);
        if (k != null && !RedisCodec.encodes(k)) {
            return null; // nothing can be stored under it
        }
        return m.call(() -> {
            Objects.requireNonNull(k, "key");
            Object stored = m.nesting.toStored(Objects.requireNonNull(v, "value"));
            Object old;
            try {
                old = map.replace(k, stored);
            } catch (RuntimeException e) {
                throw m.nesting.undo(stored, e);
            }
            m.nesting.release(old == null ? stored : old);
            return (V) m.nesting.fromStored(key, old);
        });
    }

    // ---- the compute family: compare-and-set against the bytes read -------------------------------------
    // ConcurrentMap's default loops compare with replace(k, old, new), which encodes the old value read
    // again: for a value whose bytes differ once read back (a HashSet inside a JDK-serialized part carries
    // its table capacity) replace never matched, and merge, compute and replaceAll retried for ever.

    /** What field {@code k} held when read: its stored bytes (null if absent) and their decoded stored form. */
    private record Read(byte[] bytes, Object stored) {
    }

    private Read read(Object k) {
        byte[] bytes = Lua.eval(m.redisson(), RedisCodec.STORED_BYTES, key, "return redis.call('hget', KEYS[1], ARGV[1])",
                RScript.ReturnType.VALUE, List.of(key), RedisCodec.INSTANCE.keyArg(k));
        return new Read(bytes, bytes == null ? null : RedisCodec.INSTANCE.decodeStored(bytes));
    }

    /**
     * Sets {@code k} to {@code next} (removes it if null) if it still holds exactly what {@code read} saw;
     * false if it changed meanwhile. Counts {@code next}'s nested container and releases the one replaced.
     */
    private boolean replaceIfSame(Object k, Read read, V next) {
        return replaceIfSame(k, read, next, null);
    }

    /**
     * {@link #replaceIfSame(Object, Read, Object)}; when it stored {@code next} and {@code now} is given,
     * {@code now[0]} is what a read of the entry returns: a live proxy where {@code next} was a plain
     * List, Map, Set or Namespace stored as a nested container (compute and merge return that, so a change
     * through their result is kept).
     */
    @SuppressWarnings("unchecked")
    private boolean replaceIfSame(Object k, Read read, V next, Object[] now) {
        Object stored = next == null ? null : m.nesting.toStored(next);
        boolean done;
        try {
            done = Lua.<Long>eval(m.redisson(), key, Lua.HASH_CAS, RScript.ReturnType.LONG, List.of(key), RedisCodec.INSTANCE.keyArg(k),
                    RedisCodec.Raw.of(read.bytes() == null ? "0" : "1"), new RedisCodec.Raw(read.bytes() == null ? new byte[0] : read.bytes()),
                    RedisCodec.Raw.of(stored == null ? "0" : "1"), stored == null ? RedisCodec.Raw.of("") : stored) == 1L;
        } catch (RuntimeException e) {
            throw m.nesting.undo(stored, e);
        }
        if (done) {
            m.nesting.release(read.stored());
            if (now != null) {
                now[0] = stored instanceof NestedRef ? m.nesting.fromStored(key, stored) : next;
            }
        } else {
            m.nesting.undo(stored);
        }
        return done;
    }

    /**
     * Sets {@code k} to {@code next} (removes it if null) while it holds a value equal to {@code expected}
     * (arrays by content, as compare-and-set steps compare: decision 187): compare-and-set against the exact
     * bytes read, read again if another host changed it meanwhile. False once it holds no equal value.
     */
    private boolean replaceIfEqual(Object k, Object expected, V next) {
        while (true) {
            Read read = read(k);
            if (read.bytes() == null || !Objects.deepEquals(read.stored(), expected)) {
                return false;
            }
            if (replaceIfSame(k, read, next)) {
                return true;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private V userValue(Read read) {
        return (V) m.nesting.fromStored(key, read.stored());
    }

    @Override
    public V merge(K given, V value, java.util.function.BiFunction<? super V, ? super V, ? extends V> remapping) {
        K k = plainKey(given);
        Objects.requireNonNull(k, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(remapping, "remappingFunction");
        return m.call(() -> {
            m.nesting.checkKey(k);
            return updateLoop(k, old -> old == null ? value : remapping.apply(old, value));
        });
    }

    @Override
    public V compute(K given, java.util.function.BiFunction<? super K, ? super V, ? extends V> remapping) {
        K k = plainKey(given);
        Objects.requireNonNull(k, "key");
        Objects.requireNonNull(remapping, "remappingFunction");
        return m.call(() -> {
            m.nesting.checkKey(k);
            return updateLoop(k, old -> remapping.apply(given, old));
        });
    }

    /**
     * Reads {@code k}, lets {@code decide} make the next value from the current one (null: absent), and
     * stores it by compare-and-set against the bytes read, again until no other writer came between; a
     * null next value removes the entry (nothing to do if it was absent). Returns the next value.
     */
    @SuppressWarnings("unchecked")
    private V updateLoop(K k, java.util.function.Function<V, V> decide) {
        while (true) {
            Read read = read(k);
            V old = userValue(read);
            V next = decide.apply(old);
            if (old == null && next == null) {
                return null;
            }
            Object[] now = {next};
            if (replaceIfSame(k, read, next, now)) {
                return (V) now[0];
            }
        }
    }

    @Override
    public V computeIfPresent(K given, java.util.function.BiFunction<? super K, ? super V, ? extends V> remapping) {
        K k = plainKey(given);
        if (k != null && !RedisCodec.encodes(k)) {
            return null; // nothing can be stored under it
        }
        Objects.requireNonNull(k, "key");
        Objects.requireNonNull(remapping, "remappingFunction");
        return m.call(() -> {
            while (true) {
                Read read = read(k);
                V old = userValue(read);
                if (old == null) {
                    return null;
                }
                V next = remapping.apply(given, old);
                Object[] now = {next};
                if (replaceIfSame(k, read, next, now)) {
                    return (V) now[0];
                }
            }
        });
    }

    /** A loop as {@link #compute}'s; the function runs only while the key is absent (maybe more than once). */
    @Override
    @SuppressWarnings("unchecked")
    public V computeIfAbsent(K given, java.util.function.Function<? super K, ? extends V> mapping) {
        K k = plainKey(given);
        Objects.requireNonNull(k, "key");
        Objects.requireNonNull(mapping, "mappingFunction");
        return m.call(() -> {
            m.nesting.checkKey(k);
            while (true) {
                Read read = read(k);
                V old = userValue(read);
                if (old != null) {
                    return old;
                }
                V next = mapping.apply(given);
                if (next == null) {
                    return null;
                }
                Object[] now = {next};
                if (replaceIfSame(k, read, next, now)) {
                    return (V) now[0];
                }
            }
        });
    }

    /** Per entry, as ConcurrentHashMap's: each entry present when reached is replaced once. */
    @Override
    public void replaceAll(java.util.function.BiFunction<? super K, ? super V, ? extends V> function) {
        Objects.requireNonNull(function, "function");
        m.exec(() -> {
            for (K k : snapshot().keySet()) {
                while (true) {
                    Read read = read(k);
                    if (read.bytes() == null) {
                        break; // removed meanwhile
                    }
                    V next = Objects.requireNonNull(function.apply(k, userValue(read)), "the function's value");
                    if (replaceIfSame(k, read, next)) {
                        break;
                    }
                }
            }
        });
    }

    /** One script for all entries (it also returns the overwritten values, to release nested containers). */
    @Override
    public void putAll(Map<? extends K, ? extends V> entries) {
        m.exec(() -> {
            List<Object> args = new ArrayList<>(entries.size() * 2);
            try {
                for (Map.Entry<? extends K, ? extends V> e : entries.entrySet()) {
                    Object k = plainKey(Objects.requireNonNull(e.getKey(), "key"));
                    m.nesting.checkKey(k);
                    Objects.requireNonNull(e.getValue(), "value");
                    args.add(RedisCodec.INSTANCE.keyArg(k)); // a field: its key bytes, as map.put's
                    args.add(m.nesting.toStored(e.getValue()));
                }
            } catch (RuntimeException e) {
                m.nesting.releaseAll(Nesting.refsIn(args)); // nothing was written yet
                throw e;
            }
            if (args.isEmpty()) {
                return;
            }
            List<Object> old;
            try {
                old = Lua.eval(m.redisson(), key, Lua.HASH_PUT_ALL, RScript.ReturnType.LIST, List.of(key), args.toArray());
            } catch (RuntimeException e) {
                throw m.nesting.undoAll(Nesting.refsIn(args), e);
            }
            // NOTE: outside the try: once the script ran, the new refs are stored and must never be released here
            m.nesting.releaseAll(Nesting.refsIn(old));
        });
    }

    @Override
    public void clear() {
        m.exec(() -> {
            List<Object> old = Lua.eval(m.redisson(), key, Lua.HASH_TAKE_ALL, RScript.ReturnType.LIST, List.of(key));
            m.nesting.releaseAll(Nesting.refsIn(old));
        });
    }

    @Override
    public Object contents() {
        return snapshot();
    }

    /**
     * {@code k}, or a list, set or dict proxy's contents now (of any manager): the plain key it equals,
     * stored and looked up by value (decision 234). Read once, before any request for the key.
     */
    @SuppressWarnings("unchecked")
    static <T> T plainKey(T k) {
        return (T) io.multiproc.internal.KeyContents.plain(k);
    }

    /** A copy of every entry, read in one round trip (nested containers as live proxies). */
    @SuppressWarnings("unchecked")
    Map<K, V> snapshot() {
        return m.call(() -> {
            Map<Object, Object> raw = map.readAllMap();
            Map<K, V> out = new LinkedHashMap<>(raw.size() * 2);
            for (Map.Entry<Object, Object> e : raw.entrySet()) {
                out.put((K) e.getKey(), (V) m.nesting.fromStored(key, e.getValue()));
            }
            return out;
        });
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<K, V>> iterator() {
                Iterator<Entry<K, V>> it = snapshot().entrySet().iterator();
                return new Iterator<>() {
                    private Entry<K, V> current;

                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Entry<K, V> next() {
                        Entry<K, V> e = it.next();
                        current = e;
                        return new SimpleEntry<>(e) {
                            @Override
                            public V setValue(V value) {
                                super.setValue(value);
                                return put(getKey(), value);
                            }
                        };
                    }

                    @Override
                    public void remove() {
                        if (current == null) {
                            throw new IllegalStateException("call next() first");
                        }
                        RedisDict.this.remove(current.getKey());
                        current = null;
                    }
                };
            }

            @Override
            public int size() {
                return RedisDict.this.size();
            }
        };
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Map<?, ?> other && snapshot().equals(other instanceof RedisDict<?, ?> r ? r.snapshot() : other);
    }

    @Override
    public int hashCode() {
        return snapshot().hashCode();
    }
}
