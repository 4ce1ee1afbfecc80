package io.multiproc.redis;

import org.redisson.api.RScript;
import org.redisson.api.RSet;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A set nested in a {@link RedisManager}'s container (a {@code Set} value stored into a list, dict or
 * namespace): a Redis set of codec bytes. Elements are stored by value, a List or Map element too, and
 * compare as their key bytes (a Set or Map inside in canonical order, decision 212); a proxy of the same
 * server as an element is refused. Iteration is over a
 * snapshot, its {@code remove} writes through.
 */
final class RedisSet<E> extends AbstractSet<E> implements RedisProxy, Serializable,
        io.multiproc.internal.KeyContents {
    @Serial
    private static final long serialVersionUID = 1L;

    private final transient RedisManager m;
    private final transient String key;
    private final transient RSet<Object> set;

    RedisSet(RedisManager m, String key) {
        this.m = m;
        this.key = key;
        this.set = m.redisson().getSet(key, RedisCodec.INSTANCE);
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
        return Kind.SET;
    }

    @Serial
    Object writeReplace() {
        return handle();
    }

    @Override
    public int size() {
        return m.call(() -> set.size());
    }

    @Override
    public boolean contains(Object given) {
        Object o = RedisDict.plainKey(given); // a list, set or dict proxy is its contents (decision 234)
        if (o != null && !RedisCodec.encodes(o)) {
            return false; // nothing can be stored under it
        }
        return m.call(() -> set.contains(RedisCodec.INSTANCE.keyArg(m.nesting.asStored(o))));
    }

    @Override
    public boolean add(E given) {
        E e = RedisDict.plainKey(given); // a list, set or dict proxy is its contents (decision 234)
        // as the local and remote managers' sets (a table of dict keys) and this manager's dicts: a null was
        // stored here, so code that worked on Redis failed with NullPointerException on the other backends
        Objects.requireNonNull(e, "element=null: a managed set does not store null elements");
        return m.call(() -> {
            m.nesting.checkElement(e); // by value, as a dict key: nothing to count
            return Lua.<Long>eval(m.redisson(), key, Lua.SET_ADD, RScript.ReturnType.LONG, List.of(key), RedisCodec.INSTANCE.keyArg(e)) == 1L;
        });
    }

    @Override
    public boolean remove(Object given) {
        Object o = RedisDict.plainKey(given); // a list, set or dict proxy is its contents (decision 234)
        if (o != null && !RedisCodec.encodes(o)) {
            return false; // nothing can be stored under it
        }
        return m.call(() -> {
            Object stored = m.nesting.asStored(o);
            boolean removed = Lua.<Long>eval(m.redisson(), key, Lua.SET_REMOVE, RScript.ReturnType.LONG, List.of(key),
                    RedisCodec.INSTANCE.keyArg(stored)) == 1L;
            if (removed) {
                m.nesting.release(stored);
            }
            return removed;
        });
    }

    @Override
    public void clear() {
        m.exec(() -> {
            List<Object> old = Lua.eval(m.redisson(), key, Lua.SET_TAKE_ALL, RScript.ReturnType.LIST, List.of(key));
            m.nesting.releaseAll(Nesting.refsIn(old));
        });
    }

    @Override
    public Object contents() {
        return snapshot();
    }

    @SuppressWarnings("unchecked")
    Set<E> snapshot() {
        return m.call(() -> {
            Set<E> out = new LinkedHashSet<>();
            for (Object v : set.readAll()) {
                out.add((E) m.nesting.fromStored(key, v));
            }
            return out;
        });
    }

    /** Over one snapshot, as the iterator (the default sized it with a live size()). */
    @Override
    public java.util.Spliterator<E> spliterator() {
        return java.util.Spliterators.spliteratorUnknownSize(iterator(), java.util.Spliterator.DISTINCT);
    }

    @Override
    public Iterator<E> iterator() {
        Iterator<E> it = snapshot().iterator();
        return new Iterator<>() {
            private E current;
            private boolean valid;

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public E next() {
                current = it.next();
                valid = true;
                return current;
            }

            @Override
            public void remove() {
                if (!valid) {
                    throw new IllegalStateException("call next() first");
                }
                RedisSet.this.remove(current);
                valid = false;
            }
        };
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Set<?> s && snapshot().equals(s instanceof RedisSet<?> r ? r.snapshot() : s);
    }

    @Override
    public int hashCode() {
        return snapshot().hashCode();
    }
}
