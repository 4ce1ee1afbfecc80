package io.multiproc.redis;

import io.multiproc.internal.SwappedWholeList;

import org.redisson.api.RList;
import org.redisson.api.RScript;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * A {@link RedisManager}'s list: a Redis list of codec bytes ({@link RList} with {@link RedisCodec}).
 * Every operation is one round trip and atomic on the server (Redisson's commands or one Lua script);
 * {@code sort}, {@code replaceAll}, {@code removeIf}, {@code removeAll} and {@code retainAll} read the
 * list, run the function here, and replace the list only if it did not change meanwhile (else they
 * retry, so the function may run more than once), which makes them atomic across hosts without a lock.
 * Iteration and {@code toString}/{@code equals} are over a snapshot read in one round trip; the
 * iterator's {@code set}/{@code remove} write through by index.
 *
 * <pre>{@code
 * List<Integer> ls = redisManager.list("jobs");
 * ls.addAll(List.of(1, 2, 3));       // one RPUSH
 * }</pre>
 */
final class RedisList<E> extends SwappedWholeList<E> implements RedisProxy, Serializable,
        io.multiproc.internal.KeyContents {
    @Serial
    private static final long serialVersionUID = 1L;
    /** Stands for a removed element inside {@link Lua#LIST_REMOVE_AT}; no codec value starts with a NUL byte here. */
    private static final RedisCodec.Raw MARKER = RedisCodec.Raw.of("\0multiproc-removed-" + UUID.randomUUID());

    private final transient RedisManager m;
    private final transient String key;
    private final transient RList<Object> list;

    RedisList(RedisManager m, String key) {
        this.m = m;
        this.key = key;
        this.list = m.redisson().getList(key, RedisCodec.INSTANCE);
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
        return Kind.LIST;
    }

    @Serial
    Object writeReplace() {
        return handle();
    }

    @Override
    public int size() {
        return m.call(() -> list.size());
    }

    @SuppressWarnings("unchecked")
    @Override
    public E get(int index) {
        return m.call(() -> {
            if (index < 0) {
                throw new IndexOutOfBoundsException("index=" + index + " < 0");
            }
            // NOTE: one script, not LINDEX then LLEN: an append between the two made get(size) answer null
            Object v = Lua.eval(m.redisson(), key, Lua.LIST_GET, RScript.ReturnType.VALUE, List.of(key), RedisCodec.Raw.of(index));
            return (E) m.nesting.fromStored(key, v);
        });
    }

    /** The reversed view's get(i): one LINDEX from the end (decision 235). */
    @SuppressWarnings("unchecked")
    @Override
    protected E getFromEnd(int index) {
        return m.call(() -> {
            Object v = Lua.eval(m.redisson(), key, Lua.LIST_GET_FROM_END, RScript.ReturnType.VALUE, List.of(key),
                    RedisCodec.Raw.of(index));
            return (E) m.nesting.fromStored(key, v);
        });
    }

    @Override
    public E set(int index, E element) {
        return setBy(Lua.LIST_SET, index, element);
    }

    /** The reversed view's set(i, e): one LSET from the end, as {@link #set} (decision 235). */
    @Override
    protected E setFromEnd(int index, E element) {
        return setBy(Lua.LIST_SET_FROM_END, index, element);
    }

    @SuppressWarnings("unchecked")
    private E setBy(String script, int index, E element) {
        return m.call(() -> {
            Object stored = m.nesting.toStored(element);
            Object old;
            try {
                old = Lua.eval(m.redisson(), key, script, RScript.ReturnType.VALUE, List.of(key),
                        RedisCodec.Raw.of(index), stored);
            } catch (RuntimeException e) {
                throw m.nesting.undo(stored, e);
            }
            m.nesting.release(old);
            return (E) m.nesting.fromStored(key, old);
        });
    }

    @Override
    public boolean add(E element) {
        return m.call(() -> {
            Object stored = m.nesting.toStored(element);
            try {
                list.add(stored);
            } catch (RuntimeException e) {
                throw m.nesting.undo(stored, e);
            }
            return true;
        });
    }

    @Override
    public void add(int index, E element) {
        addAll(index, Collections.singletonList(element));
    }

    @SuppressWarnings("unchecked")
    @Override
    public E remove(int index) {
        return m.call(() -> {
            Object old = Lua.eval(m.redisson(), key, Lua.LIST_REMOVE_AT, RScript.ReturnType.VALUE, List.of(key),
                    RedisCodec.Raw.of(index), MARKER);
            m.nesting.release(old);
            return (E) m.nesting.fromStored(key, old);
        });
    }

    @Override
    public E removeFirst() {
        return pop("l");
    }

    /** One step on the server: two hosts popping (Python's {@code ls.pop()}) never both take the last element. */
    @Override
    public E removeLast() {
        return pop("r");
    }

    @SuppressWarnings("unchecked")
    private E pop(String end) {
        return m.call(() -> {
            Object old = Lua.eval(m.redisson(), key, Lua.LIST_POP, RScript.ReturnType.VALUE, List.of(key), RedisCodec.Raw.of(end));
            m.nesting.release(old);
            return (E) m.nesting.fromStored(key, old);
        });
    }

    @Override
    public E getFirst() {
        return end(0);
    }

    @Override
    public E getLast() {
        return end(-1);
    }

    @SuppressWarnings("unchecked")
    private E end(int index) {
        return m.call(() -> (E) m.nesting.fromStored(key,
                Lua.eval(m.redisson(), key, Lua.LIST_END, RScript.ReturnType.VALUE, List.of(key), RedisCodec.Raw.of(index))));
    }

    @Override
    public boolean remove(Object o) {
        Object stored = m.nesting.asStored(o);
        if (RedisCodec.bytesDecideEquality(stored)) {
            return m.call(() -> removeFirst(stored));
        }
        // NOTE: by equals, as contains(): LREM compares bytes, and an equal record whose Set iterates in another
        // order is stored as other bytes (decision 213). The first equal element of a snapshot goes, by exactly
        // its stored bytes (an earlier element with those bytes would have matched first); if another host took
        // it meanwhile, the next equal one.
        for (byte[] b : storedBytes()) {
            if (Objects.equals(RedisCodec.INSTANCE.decodeStored(b), stored) && m.call(() -> removeFirst(new RedisCodec.Raw(b)))) {
                return true;
            }
        }
        return false;
    }

    /** LREM of the first element stored as {@code stored}'s bytes (a Raw: exactly those). */
    private boolean removeFirst(Object stored) {
        boolean removed = Lua.<Long>eval(m.redisson(), key, Lua.LIST_REMOVE_FIRST, RScript.ReturnType.LONG,
                List.of(key), stored) == 1L;
        if (removed) {
            m.nesting.release(stored);
        }
        return removed;
    }

    /** The elements as stored, not decoded. */
    private List<byte[]> storedBytes() {
        return m.call(() -> Lua.eval(m.redisson(), RedisCodec.STORED_BYTES, key, "return redis.call('lrange', KEYS[1], 0, -1)",
                RScript.ReturnType.LIST, List.of(key)));
    }

    @Override
    public int indexOf(Object o) {
        Object stored = m.nesting.asStored(o);
        if (RedisCodec.bytesDecideEquality(stored)) {
            return m.call(() -> list.indexOf(stored));
        }
        List<Object> all = m.call(() -> list.readAll()); // by equals (decision 213): see remove(Object)
        for (int i = 0; i < all.size(); i++) {
            if (Objects.equals(all.get(i), stored)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int lastIndexOf(Object o) {
        Object stored = m.nesting.asStored(o);
        if (RedisCodec.bytesDecideEquality(stored)) {
            return m.call(() -> list.lastIndexOf(stored));
        }
        List<Object> all = m.call(() -> list.readAll()); // by equals (decision 213): see remove(Object)
        for (int i = all.size() - 1; i >= 0; i--) {
            if (Objects.equals(all.get(i), stored)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public boolean contains(Object o) {
        return indexOf(o) >= 0;
    }

    /** One RPUSH with every element. */
    @Override
    public boolean addAll(Collection<? extends E> c) {
        return m.call(() -> {
            List<Object> stored = storedAll(c);
            if (stored.isEmpty()) {
                return false;
            }
            try {
                list.addAll(stored);
            } catch (RuntimeException e) {
                throw m.nesting.undoAll(stored, e);
            }
            return true;
        });
    }

    /** One script inserting every element at {@code index}. */
    @Override
    public boolean addAll(int index, Collection<? extends E> c) {
        return m.call(() -> {
            List<Object> stored = storedAll(c);
            Object[] args = new Object[stored.size() + 1];
            args[0] = RedisCodec.Raw.of(index);
            for (int i = 0; i < stored.size(); i++) {
                args[i + 1] = stored.get(i);
            }
            try {
                Lua.eval(m.redisson(), key, Lua.LIST_INSERT, RScript.ReturnType.LONG, List.of(key), args);
            } catch (RuntimeException e) {
                throw m.nesting.undoAll(stored, e);
            }
            return !stored.isEmpty();
        });
    }

    private List<Object> storedAll(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        List<Object> stored = new ArrayList<>(c.size());
        try {
            for (Object e : c) {
                stored.add(m.nesting.toStored(e));
            }
        } catch (RuntimeException e) {
            m.nesting.releaseAll(stored);
            throw e;
        }
        return stored;
    }

    @Override
    public void clear() {
        m.exec(() -> {
            List<Object> old = Lua.eval(m.redisson(), key, Lua.LIST_TAKE_ALL, RScript.ReturnType.LIST, List.of(key));
            m.nesting.releaseAll(old);
        });
    }

    /**
     * AbstractList's view of the range, whose {@code sort} is one compare-and-set over the range like this
     * list's own ({@link Range}).
     */
    @Override
    public List<E> subList(int fromIndex, int toIndex) {
        return new Range(super.subList(fromIndex, toIndex), fromIndex);
    }

    /**
     * A sublist: AbstractList's view (reads, single writes, its size), except {@code sort}, which sorts the
     * range in one {@link #transform}. List.sort's default sets the sorted elements one by one, and the set
     * over a nested list's old place released its last counted reference before the set at its new place
     * stored it again: the nested list was freed and read empty.
     */
    private final class Range extends AbstractList<E> {
        private final List<E> view;
        private final int offset;

        Range(List<E> view, int offset) {
            this.view = view;
            this.offset = offset;
        }

        @Override
        public E get(int index) {
            return view.get(index);
        }

        @Override
        public E set(int index, E element) {
            return view.set(index, element);
        }

        @Override
        public void add(int index, E element) {
            view.add(index, element);
        }

        @Override
        public E remove(int index) {
            return view.remove(index);
        }

        @Override
        public int size() {
            return view.size();
        }

        @Override
        protected void removeRange(int fromIndex, int toIndex) {
            view.subList(fromIndex, toIndex).clear(); // the list's removeRange: one transform
        }

        @Override
        public void sort(Comparator<? super E> c) {
            int n = view.size();
            transform(l -> {
                l.subList(offset, offset + n).sort(c);
                return true;
            });
        }

        @Override
        public List<E> subList(int fromIndex, int toIndex) {
            return new Range(view.subList(fromIndex, toIndex), offset + fromIndex); // resizes this view's chain
        }
    }

    /**
     * Applies {@code change} to a copy of the list and stores the result if the list still holds what was
     * read (compare-and-set of the whole list in one script), retrying otherwise. Nothing is written when
     * {@code change} says it changed nothing. Goes through {@link RedisManager#call} like every other
     * method: an interrupted thread's call runs once and keeps the interrupt, a server that is down fails
     * naming the manager.
     */
    @Override
    protected boolean transform(Predicate<List<E>> change) {
        return m.call(() -> transformOnce(change));
    }

    private boolean transformOnce(Predicate<List<E>> change) {
        while (true) {
            m.check();
            // NOTE: the bytes stored, compared as they are: a value read back does not always encode to the
            // same bytes again (a HashSet inside a JDK-serialized part carries its table capacity), and
            // comparing a re-encoded copy retried such a list for ever
            List<byte[]> bytes = Lua.eval(m.redisson(), RedisCodec.STORED_BYTES, key, "return redis.call('lrange', KEYS[1], 0, -1)",
                    RScript.ReturnType.LIST, List.of(key));
            List<Object> raw = new ArrayList<>(bytes.size());
            for (byte[] b : bytes) {
                raw.add(RedisCodec.INSTANCE.decodeStored(b));
            }
            List<E> copy = decoded(raw);
            if (!change.test(copy)) {
                return false;
            }
            List<Object> stored = storedAll(copy); // refs of kept proxies count again; the old ones are released below
            Object[] args = new Object[1 + raw.size() + stored.size()];
            args[0] = RedisCodec.Raw.of(raw.size());
            for (int i = 0; i < raw.size(); i++) {
                args[1 + i] = new RedisCodec.Raw(bytes.get(i));
            }
            for (int i = 0; i < stored.size(); i++) {
                args[1 + raw.size() + i] = stored.get(i);
            }
            long done;
            try {
                done = Lua.<Long>eval(m.redisson(), key, Lua.LIST_REPLACE_IF_SAME, RScript.ReturnType.LONG, List.of(key), args);
            } catch (RuntimeException e) {
                throw m.nesting.undoAll(stored, e);
            }
            if (done == 1L) {
                m.nesting.releaseAll(Nesting.refsIn(raw));
                return true;
            }
            m.nesting.releaseAll(stored);
        }
    }

    @SuppressWarnings("unchecked")
    private List<E> decoded(List<Object> raw) {
        List<E> out = new ArrayList<>(raw.size());
        for (Object v : raw) {
            out.add((E) m.nesting.fromStored(key, v));
        }
        return out;
    }

    /** A copy of the whole list, read in one round trip (nested containers as live proxies). */
    @Override
    protected List<E> snapshot() {
        return m.call(() -> decoded(list.readAll()));
    }

    @Override
    public Object contents() {
        return snapshot();
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof List<?> l && snapshot().equals(l instanceof RedisList<?> r ? r.snapshot() : l);
    }

    @Override
    public int hashCode() {
        return snapshot().hashCode();
    }
}
