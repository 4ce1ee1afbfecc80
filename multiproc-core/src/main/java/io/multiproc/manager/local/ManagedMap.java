package io.multiproc.manager.local;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A manager's dict: a {@link ConcurrentMap} whose entries live in the manager's shared heap as codec
 * bytes, in an open-addressing table guarded by the map's cross-process lock. Calls are linearizable;
 * {@code compute}, {@code merge}, {@code putIfAbsent}, {@code computeIfAbsent}, {@code replace} and
 * {@code replaceAll} run their function in the calling process while it holds the lock, so they are
 * atomic across processes (the function must not use the same map). Null keys and values are refused
 * (NullPointerException), as by {@code ConcurrentHashMap}. Keys are found by their key bytes
 * ({@link io.multiproc.codec.Codec#encodeKey}), which equal keys share: a Set or Map inside a key is written
 * in a canonical order, not its iteration order, and a NaN as its canonical bits (decision 212).
 * The views iterate a snapshot taken under the lock; the key set's iterator {@code remove} removes the
 * key from the map, the values' and entries' remove it only while it still maps to the value read (as
 * ConcurrentHashMap's {@code removeIf} does: a value another process put since stays);
 * {@code Entry.setValue} puts.
 *
 * <pre>{@code
 * ConcurrentMap<String, Integer> d = manager.dict("hits");
 * ChildProcess.start(() -> d.merge("k", 1, Integer::sum)).join();
 * d.get("k");   // 1
 * }</pre>
 */
final class ManagedMap<K, V> extends AbstractMap<K, V> implements ConcurrentMap<K, V>, Serializable, Proxy,
        io.multiproc.internal.KeyContents {
    @Serial
    private static final long serialVersionUID = 1L;
    /** What {@link #update}'s decision returns to leave the entry as it is, or to remove it. */
    private static final Object KEEP = new Object();
    private static final Object REMOVE = new Object();
    static final Object ABSENT = new Object();

    private final transient Container c;
    /** Namespaces store null values (Python's None); maps refuse them. */
    private final transient boolean nullValues;

    ManagedMap(Container c, boolean nullValues) {
        this.c = c;
        this.nullValues = nullValues;
    }

    static <K, V> ManagedMap<K, V> create(Heap heap, ContainerKind kind) {
        long table = Table.allocate(heap, Table.INITIAL_CAPACITY);
        Proxy p = heap.adopt(Container.allocate(heap, kind, table));
        @SuppressWarnings("unchecked")
        ManagedMap<K, V> m = p instanceof ManagedMap<?, ?> mm ? (ManagedMap<K, V>) mm
                : (ManagedMap<K, V>) ((Backed) p).map();
        return m;
    }

    /** Proxies backed by a map over the same container (sets and namespaces). */
    interface Backed {
        ManagedMap<?, ?> map();
    }

    @Override
    public Container container() {
        return c;
    }

    /**
     * {@code key}, or a list, set or dict proxy's contents now: the plain key it equals (decision 234).
     * Callers use what this returns, once, so that a proxy is read once per call.
     */
    private static Object checkKey(Object key) {
        return io.multiproc.internal.KeyContents.plain(Objects.requireNonNull(key, "key=null: a managed dict does not store null keys"));
    }

    /**
     * A key about to be stored: not a shared object or a managed container. Keys are stored by value
     * and counted nowhere, so an entry keyed by a handle outlives what the handle names, and the whole
     * dict (or set) then fails to decode.
     */
    private static Object storableKey(Object key) {
        key = checkKey(key);
        if (!isStorable(key)) {
            throw new IllegalArgumentException("key of type " + key.getClass().getName() + " is a shared object: a managed "
                    + "dict or set stores keys by value and cannot keep what a key refers to alive; use a value such as its name");
        }
        return key;
    }

    private static boolean isStorable(Object key) {
        return !(key instanceof io.multiproc.codec.HandleSource || key instanceof io.multiproc.internal.MappedObject);
    }

    private Object checkValue(Object value) {
        return nullValues ? value : Objects.requireNonNull(value, "value=null: a managed dict does not store null values");
    }

    // ---- reads ---------------------------------------------------------------------------------------

    @Override
    public int size() {
        c.lock();
        try {
            return (int) Table.count(c);
        } finally {
            c.unlock();
        }
    }

    @Override
    public boolean isEmpty() {
        return size() == 0;
    }

    @Override
    public boolean containsKey(Object key) {
        return lookup(key) != ABSENT;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        Object v = lookup(key);
        return v == ABSENT ? null : (V) v;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V getOrDefault(Object key, V defaultValue) {
        Object v = lookup(key);
        return v == ABSENT ? defaultValue : (V) v;
    }

    /** The value of {@code key}, or {@link #ABSENT}. */
    Object lookup(Object key) {
        Items.Scratch k = Items.lookupKey(checkKey(key));
        if (k == null) {
            return ABSENT;
        }
        c.lock();
        try {
            long at = Table.find(c, k);
            return at < 0 ? ABSENT : Items.readValue(c.heap, Table.itemAt(c, at));
        } finally {
            c.unlock();
        }
    }

    @Override
    public Object contents() {
        return snapshot();
    }

    /** A copy of the entries, taken under the lock, in table order. */
    @SuppressWarnings("unchecked")
    Map<K, V> snapshot() {
        Object[] e = entries(true, true);
        Map<K, V> out = LinkedHashMap.newLinkedHashMap(e.length / 2);
        for (int i = 0; i < e.length; i += 2) {
            out.put((K) e[i], (V) e[i + 1]);
        }
        return out;
    }

    /**
     * The entries as one flat array (key, value, key, value...; a part not asked for is left null),
     * decoded under one lock hold in table order: what the views iterate. Flat, not a map: a reader of
     * 100,000 entries pays for no hashing, no nodes, and decodes only what it reads (a nested value's
     * proxy takes a hold, so {@code keySet} decodes no values).
     */
    Object[] entries(boolean keys, boolean values) {
        return entries(keys, values, null);
    }

    /**
     * {@link #entries(boolean, boolean)}, with nested values' proxies left to {@code deferred} (a
     * {@link DeferredProxies#DEFERRED} in their place) if it is not null.
     */
    Object[] entries(boolean keys, boolean values, DeferredProxies deferred) {
        c.lock();
        try {
            Object[] out = new Object[2 * (int) Table.count(c)];
            int[] n = {0};
            Table.forEach(c, item -> {
                int i = n[0];
                if (keys) {
                    out[i] = Items.readKey(c.heap, item);
                }
                if (values) {
                    out[i + 1] = deferred == null ? Items.readValue(c.heap, item) : Items.readValue(c.heap, item, deferred);
                }
                n[0] = i + 2;
            });
            if (deferred != null) {
                deferred.recordHolds();
            }
            return n[0] == out.length ? out : Arrays.copyOf(out, n[0]); // a recount is done by lock()
        } catch (RuntimeException | Error e) {
            if (deferred != null) {
                deferred.abandon();
            }
            throw e;
        } finally {
            c.unlock();
        }
    }

    /**
     * The values of {@code keys} in order, null for an absent key, read under one lock hold (a batch read:
     * every value from the same moment, one lock round trip instead of one per key). Keys are encoded
     * before locking, so a key the codec refuses fails with nothing locked.
     */
    @SuppressWarnings("unchecked")
    List<V> getAll(Collection<?> keys) {
        Objects.requireNonNull(keys, "keys");
        byte[][] encoded = new byte[keys.size()][];
        int[] hashes = new int[encoded.length];
        int i = 0;
        for (Object key : keys) {
            Items.Scratch k = Items.lookupKey(checkKey(key)); // null: refused, so absent, as get answers (decision 250)
            encoded[i] = k == null ? null : k.key.toByteArray();
            hashes[i++] = k == null ? 0 : k.keyHash;
        }
        List<V> out = new ArrayList<>(encoded.length);
        c.lock();
        try {
            for (int j = 0; j < encoded.length; j++) {
                if (encoded[j] == null) {
                    out.add(null);
                    continue;
                }
                Items.Scratch k = Items.encodeKeyBytes(encoded[j], hashes[j]);
                long at = Table.find(c, k);
                out.add(at < 0 ? null : (V) Items.readValue(c.heap, Table.itemAt(c, at)));
            }
        } finally {
            c.unlock();
        }
        return out;
    }

    // ---- writes --------------------------------------------------------------------------------------

    @Override
    public V put(K key, V value) {
        return orNull(putValue(key, value, false));
    }

    @Override
    public V putIfAbsent(K key, V value) {
        return orNull(putValue(key, value, true));
    }

    /** A value found by {@link #putValue}, {@link #update} or {@link #removeEntry}, or null for {@link #ABSENT}. */
    @SuppressWarnings("unchecked")
    private V orNull(Object old) {
        return old == ABSENT ? null : (V) old;
    }

    /** Encodes and writes the entry before locking, then publishes it with one slot store; returns the old value or ABSENT. */
    Object putValue(Object key, Object value, boolean onlyIfAbsent) {
        long item = writeEntry(key, value);
        Items.Scratch k = Items.scratch(); // still holds the key writeEntry encoded
        long freeAfter = item;
        Object old;
        boolean published = false;
        try {
            c.lock();
            try {
                long at = Table.find(c, k);
                if (at >= 0) {
                    old = Items.readValue(c.heap, Table.itemAt(c, at));
                    if (!onlyIfAbsent) {
                        freeAfter = Table.replace(c, at, item, k.keyHash);
                        published = true;
                    }
                } else {
                    old = ABSENT;
                    Table.insert(c, at, k, item); // may grow the table: a full heap or table throws here
                    published = true;
                    freeAfter = 0;
                }
            } finally {
                c.unlock();
            }
        } catch (RuntimeException | Error e) {
            if (!published) {
                Items.free(c.heap, item); // and the nested container's reference it counted
            }
            throw e;
        }
        Items.free(c.heap, freeAfter);
        return old;
    }

    /**
     * Puts every entry in one locked step (CPython's {@code d.update(m)}): each entry is encoded and
     * written before the lock is taken; under it, the table grows once for all of them, then each entry
     * is published by its own slot store, as by {@link #put}. Other processes see all of them or, if
     * this one dies midway, the entries published so far (each whole). Replaced entries are freed after
     * unlocking. A null key or value (or one the codec refuses) fails before anything is published.
     */
    @Override
    public void putAll(Map<? extends K, ? extends V> m) {
        int n = m.size();
        if (n == 0) {
            return;
        }
        // each key's codec bytes and hash as writeEntry encoded them: publishing copies them back into the
        // scratch instead of encoding every key a second time under the lock
        byte[][] keys = new byte[n][];
        int[] hashes = new int[n];
        long[] items = new long[n];
        int written = 0;
        try {
            for (Map.Entry<? extends K, ? extends V> e : m.entrySet()) {
                if (written == n) {
                    throw new java.util.ConcurrentModificationException("map grew during putAll: size()=" + n);
                }
                items[written] = writeEntry(e.getKey(), e.getValue());
                Items.Scratch k = Items.scratch(); // still holds the key writeEntry encoded
                keys[written] = k.key.toByteArray();
                hashes[written] = k.keyHash;
                written++;
            }
        } catch (RuntimeException | Error ex) {
            freeItems(items, 0, written);
            throw ex;
        }
        long[] counts = new long[2]; // entries added, slots used
        c.lock();
        try {
            Table.reserve(c, written);
            for (int i = 0; i < written; i++) {
                long item = items[i];
                items[i] = 0; // NOTE: before its publishing store: if that step throws, the item leaks, never a double free
                items[i] = publishInBatch(Items.encodeKeyBytes(keys[i], hashes[i]), item, counts); // the replaced entry, to free, or 0
            }
        } finally {
            try {
                Table.addCounts(c, counts[0], counts[1]); // once for the batch: the slots above are what counts
            } finally {
                c.unlock();
            }
            // the unpublished entries (if a step threw) and the replaced ones: nothing refers to them now
            freeItems(items, 0, written);
        }
    }

    /**
     * Encodes and writes one entry where nobody looks yet (call before locking); afterwards this
     * thread's scratch holds its encoded key. The per-entry step of {@link #put} and {@link #putAll}, in
     * one method so that single puts get it compiled before a first batch (whose own loop runs
     * interpreted in a fresh JVM).
     */
    private long writeEntry(Object key, Object value) {
        key = storableKey(key);
        Object stored = Items.manage(c.heap, checkValue(value));
        return Items.write(c.heap, Items.encodeManaged(c.heap, Items.encodeStoredKey(c.heap, key), stored), true);
    }

    /**
     * Under the lock, in a batch whose room {@link Table#reserve} made: publishes {@code item} (the entry
     * whose encoded key {@code k} holds) with one slot store; returns the entry it replaced (to free after
     * unlocking), or 0 after counting a new entry in {@code counts} (entries, slots) for {@link Table#addCounts}.
     */
    private long publishInBatch(Items.Scratch k, long item, long[] counts) {
        long at = Table.find(c, k);
        if (at >= 0) {
            return Table.replace(c, at, item, k.keyHash);
        }
        counts[0]++;
        if (!Table.insertSlot(c, at, k, item, false)) {
            counts[1]++;
        }
        return 0;
    }

    private void freeItems(long[] items, int from, int to) {
        for (int i = from; i < to; i++) {
            Items.free(c.heap, items[i]);
        }
    }

    /** Removes {@code key}; returns its value or {@link #ABSENT}. */
    Object removeEntry(Object key) {
        return update(key, v -> REMOVE, false);
    }

    @Override
    public V remove(Object key) {
        return orNull(removeEntry(key));
    }

    @Override
    public boolean remove(Object key, Object value) {
        return value != null && removeAsRead(key, value);
    }

    /**
     * Removes {@code key} only while it maps to {@code value} (a namespace's null too): what a view's
     * removal does with the value its snapshot read, so a value another process put since stays.
     */
    private boolean removeAsRead(Object key, Object value) {
        boolean[] done = {false};
        update(key, v -> {
            done[0] = v != ABSENT && (value == null ? v == null : Items.sameForSwap(v, value));
            return done[0] ? REMOVE : KEEP;
        }, false);
        return done[0];
    }

    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        checkValue(oldValue);
        checkValue(newValue);
        boolean[] done = {false};
        update(key, v -> {
            done[0] = v != ABSENT && Items.sameForSwap(v, oldValue);
            return done[0] ? newValue : KEEP;
        }, false);
        return done[0];
    }

    @Override
    public V replace(K key, V value) {
        checkValue(value);
        return orNull(update(key, v -> v == ABSENT ? KEEP : value, false));
    }

    @Override
    @SuppressWarnings("unchecked")
    public V compute(K key, BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f, "remappingFunction");
        Object[] now = {null};
        update(key, v -> {
            V r = f.apply(key, v == ABSENT ? null : (V) v);
            now[0] = r;
            return r == null ? REMOVE : r;
        }, true, now);
        return (V) now[0];
    }

    @Override
    @SuppressWarnings("unchecked")
    public V computeIfAbsent(K key, Function<? super K, ? extends V> f) {
        Objects.requireNonNull(f, "mappingFunction");
        Object[] now = {null};
        update(key, v -> {
            if (v != ABSENT) {
                now[0] = v;
                return KEEP;
            }
            V r = f.apply(key);
            now[0] = r;
            return r == null ? KEEP : r;
        }, true, now);
        return (V) now[0];
    }

    @Override
    @SuppressWarnings("unchecked")
    public V computeIfPresent(K key, BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f, "remappingFunction");
        Object[] now = {null};
        update(key, v -> {
            if (v == ABSENT) {
                return KEEP;
            }
            V r = f.apply(key, (V) v);
            now[0] = r;
            return r == null ? REMOVE : r;
        }, false, now);
        return (V) now[0];
    }

    @Override
    @SuppressWarnings("unchecked")
    public V merge(K key, V value, BiFunction<? super V, ? super V, ? extends V> f) {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(f, "remappingFunction");
        Object[] now = {null};
        update(key, v -> {
            V r = v == ABSENT ? value : f.apply((V) v, value);
            now[0] = r;
            return r == null ? REMOVE : r;
        }, true, now);
        return (V) now[0];
    }

    /**
     * Applies {@code f} to every entry, each entry atomically under the lock, as
     * {@code ConcurrentHashMap.replaceAll} does: not the map as a whole, so other processes may see some
     * entries replaced and others not yet, and if {@code f} throws, the entries before stay replaced.
     */
    @Override
    @SuppressWarnings("unchecked")
    public void replaceAll(BiFunction<? super K, ? super V, ? extends V> f) {
        Objects.requireNonNull(f, "function");
        for (K key : snapshot().keySet()) { // per key under the lock; keys added meanwhile are left as they are
            update(key, v -> v == ABSENT ? KEEP : Objects.requireNonNull(f.apply(key, (V) v), "replaceAll's function returned null"));
        }
    }

    /**
     * The one read-modify-write step: under the lock, finds {@code key}, lets {@code decide} see its value
     * (or {@link #ABSENT}) and return the new value, {@link #KEEP} or {@link #REMOVE}; publishes the
     * result with one slot store, and frees what it replaced after unlocking. Returns the old value.
     * When {@code decide}'s new value was a plain List, Map, Set or Namespace, the map holds a managed copy
     * of it: {@code stored[0]} (if given) is then set to a live proxy of that copy, read under the same
     * lock hold, which is what compute and merge must return (a change through the plain one is lost).
     */
    Object update(Object key, Function<Object, Object> decide) {
        return update(key, decide, true, null);
    }

    private Object update(Object key, Function<Object, Object> decide, boolean mayStore) {
        return update(key, decide, mayStore, null);
    }

    /**
     * {@link #update(Object, Function)}; {@code mayStore} false for the steps that store only over a
     * present entry (remove, replace, computeIfPresent): their key is looked for as {@code get} does, so
     * one that can never be stored (a shared object, or a key carrying one) is simply absent, where Map's
     * contract allows no IllegalArgumentException. A step that may store an absent key refuses it first.
     */
    private Object update(Object key, Function<Object, Object> decide, boolean mayStore, Object[] stored) {
        key = mayStore ? storableKey(key) : checkKey(key); // a proxy's contents, read here once and not under the lock
        Items.Scratch k = mayStore ? Items.encodeStoredKey(c.heap, key) : Items.lookupKey(key);
        if (k == null) {
            decide.apply(ABSENT); // a key that cannot be encoded is absent: these steps store nothing then
            return ABSENT;
        }
        long freeAfter = 0;
        Object old;
        c.lock();
        try {
            long at = Table.find(c, k);
            old = at >= 0 ? Items.readValue(c.heap, Table.itemAt(c, at)) : ABSENT;
            Object now = decide.apply(old);
            if (now == REMOVE) {
                if (at >= 0) {
                    freeAfter = Table.remove(c, at);
                }
            } else if (now != KEEP) {
                if (!mayStore) {
                    Items.encodeStoredKey(c.heap, storableKey(key)); // NOTE: refused before anything is made
                }
                Object managed = Items.manage(c.heap, checkValue(now));
                k = Items.encodeStoredKey(c.heap, key); // decide and manage may have used this thread's scratch
                long item = Items.write(c.heap, Items.encodeManaged(c.heap, k, managed), true);
                try {
                    if (at >= 0) {
                        freeAfter = Table.replace(c, at, item, k.keyHash);
                    } else {
                        Table.insert(c, at, k, item); // may grow the table: a full heap or table throws here
                    }
                } catch (RuntimeException | Error e) {
                    Items.free(c.heap, item);
                    throw e;
                }
                if (stored != null && managed != now) {
                    // NOTE: not managed itself: its process hold was given back once the item counted it
                    stored[0] = Items.readValue(c.heap, item);
                }
            }
        } finally {
            c.unlock();
        }
        Items.free(c.heap, freeAfter);
        return old;
    }

    @Override
    public void clear() {
        List<Long> items = new ArrayList<>();
        long old;
        c.lock();
        try {
            Table.forEach(c, items::add);
            for (long item : items) {
                c.heap.retire(item);
            }
            old = Table.clear(c);
        } finally {
            c.unlock();
        }
        for (long item : items) {
            Items.free(c.heap, item);
        }
        c.heap.free(old);
    }

    // ---- views ---------------------------------------------------------------------------------------

    @Override
    @SuppressWarnings("unchecked")
    public void forEach(BiConsumer<? super K, ? super V> action) {
        Objects.requireNonNull(action, "action");
        Object[] e = entries(true, true);
        for (int i = 0; i < e.length; i += 2) {
            action.accept((K) e[i], (V) e[i + 1]);
        }
    }

    /** A view whose iteration is over a snapshot of the keys alone; iterator remove removes from the map. */
    @Override
    public Set<K> keySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<K> iterator() {
                return new Entries<>(KEYS, new DeferredProxies(c.heap));
            }

            @Override
            public java.util.Spliterator<K> spliterator() { // over one snapshot, as the iterator: the default sized it with a live size()
                return java.util.Spliterators.spliteratorUnknownSize(iterator(), java.util.Spliterator.DISTINCT);
            }

            @Override
            public int size() {
                return ManagedMap.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return o != null && containsKey(o);
            }

            @Override
            public boolean remove(Object o) {
                return o != null && ManagedMap.this.remove(o) != null;
            }

            @Override
            public void clear() {
                ManagedMap.this.clear();
            }
        };
    }

    /**
     * A view whose iteration is over a snapshot of the entries, decoding the keys too so that the
     * iterator's remove can remove the key it last returned.
     */
    @Override
    public Collection<V> values() {
        return new AbstractCollection<>() {
            @Override
            public Iterator<V> iterator() {
                return new Entries<>(VALUES, new DeferredProxies(c.heap));
            }

            @Override
            public java.util.Spliterator<V> spliterator() { // over one snapshot, as the iterator: the default sized it with a live size()
                return java.util.Spliterators.spliteratorUnknownSize(iterator(), 0);
            }

            @Override
            public int size() {
                return ManagedMap.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return o != null && containsValue(o);
            }

            @Override
            public boolean removeIf(java.util.function.Predicate<? super V> filter) {
                return removeIfRead(VALUES, filter);
            }

            @Override
            public boolean removeAll(Collection<?> items) {
                Objects.requireNonNull(items, "items");
                return removeIf(items::contains);
            }

            @Override
            public boolean retainAll(Collection<?> items) {
                Objects.requireNonNull(items, "items");
                return removeIf(v -> !items.contains(v));
            }

            @Override
            public void clear() {
                ManagedMap.this.clear();
            }
        };
    }

    private static final int KEYS = 0;
    private static final int VALUES = 1;
    private static final int ENTRIES = 2;

    /**
     * Iterates the {@link #KEYS}, {@link #VALUES} or {@link #ENTRIES} of a snapshot of the entries (an
     * entry's setValue puts); remove removes the key (for values and entries: while it maps to the value
     * read). Nested values' proxies are made as the iteration reaches them ({@link DeferredProxies}).
     */
    private final class Entries<T> extends SnapshotIterator<T> {
        private final int part;
        private boolean canRemove;
        /** The value last returned (or in the entry last returned): remove() removes the key only while it maps to it. */
        private Object lastValue;

        Entries(int part, DeferredProxies deferred) {
            super(deferred, entries(true, part != KEYS, deferred), 2);
            this.part = part;
        }

        @Override
        @SuppressWarnings("unchecked")
        public T next() {
            int at = advance();
            K key = (K) slots[at];                 // kept: remove() needs it
            canRemove = true;
            if (part == KEYS) {
                return (T) key;
            }
            V value = (V) take(at + 1);
            lastValue = value;
            if (part == VALUES) {
                return (T) value;
            }
            return (T) new AbstractMap.SimpleEntry<>(key, value) {
                @Override
                public V setValue(V v) {
                    ManagedMap.this.put(getKey(), v); // first: a refused value (null) leaves the entry as it was
                    return super.setValue(v); // the entry's old value, as Map.Entry says
                }
            };
        }

        @Override
        public void remove() {
            removeRead();
        }

        /** {@link #remove()}; true if it removed the entry. */
        boolean removeRead() {
            if (!canRemove) {
                throw new IllegalStateException("next() was not called, or remove() was called already");
            }
            canRemove = false;
            if (part == KEYS) {
                return ManagedMap.this.remove(slots[next - 2]) != null; // a key set removes the key whatever it maps to now
            } else {
                // NOTE: only while the key still maps to the value read (decision 216): values().removeIf,
                // remove, removeAll and retainAll (and entrySet()'s) go through here, and unconditionally
                // they removed a value another process put after the snapshot, one their test never saw
                return removeAsRead(slots[next - 2], lastValue);
            }
        }
    }

    /**
     * The values' and entries' bulk removals, answering whether they removed anything (AbstractCollection's
     * answer true once its iterator's remove was called, which now may find a newer value and keep it).
     */
    private <T> boolean removeIfRead(int part, java.util.function.Predicate<? super T> filter) {
        Objects.requireNonNull(filter, "filter");
        Entries<T> it = new Entries<>(part, new DeferredProxies(c.heap));
        boolean removed = false;
        while (it.hasNext()) {
            if (filter.test(it.next()) && it.removeRead()) {
                removed = true;
            }
        }
        return removed;
    }

    /** A view whose iteration is over a snapshot; iterator remove and setValue change the map. */
    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<K, V>> iterator() {
                return new Entries<>(ENTRIES, new DeferredProxies(c.heap));
            }

            @Override
            public java.util.Spliterator<Map.Entry<K, V>> spliterator() { // over one snapshot, as the iterator: the default sized it with a live size()
                return java.util.Spliterators.spliteratorUnknownSize(iterator(), java.util.Spliterator.DISTINCT);
            }

            @Override
            public int size() {
                return ManagedMap.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return o instanceof Map.Entry<?, ?> e && e.getKey() != null
                        && Objects.equals(lookup(e.getKey()), e.getValue());
            }

            @Override
            public boolean remove(Object o) {
                return o instanceof Map.Entry<?, ?> e && e.getKey() != null && ManagedMap.this.remove(e.getKey(), e.getValue());
            }

            @Override
            public boolean removeIf(java.util.function.Predicate<? super Map.Entry<K, V>> filter) {
                return removeIfRead(ENTRIES, filter);
            }

            @Override
            public void clear() {
                ManagedMap.this.clear();
            }
        };
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Map<?, ?> m && snapshot().equals(m instanceof ManagedMap<?, ?> mm ? mm.snapshot() : m);
    }

    @Override
    public int hashCode() {
        return snapshot().hashCode();
    }

    @Override
    public String toString() {
        java.util.StringJoiner out = new java.util.StringJoiner(", ", "{", "}");
        for (Map.Entry<K, V> e : snapshot().entrySet()) {
            out.add((c.sameAs(e.getKey()) ? "(this Map)" : String.valueOf(e.getKey())) + "="
                    + (c.sameAs(e.getValue()) ? "(this Map)" : String.valueOf(e.getValue())));
        }
        return out.toString();
    }

    @Serial
    Object writeReplace() {
        return c.handle(this);
    }

    /** For {@link java.util.Collections#unmodifiableMap} style reads of the keys only. */
    @SuppressWarnings("unchecked")
    Set<K> keysSnapshot() {
        Object[] e = entries(true, false);
        Set<K> keys = LinkedHashSet.newLinkedHashSet(e.length / 2);
        for (int i = 0; i < e.length; i += 2) {
            keys.add((K) e[i]);
        }
        return Collections.unmodifiableSet(keys);
    }
}
