package io.multiproc.redis;

import org.redisson.api.RScript;
import org.redisson.api.RSet;

import org.redisson.client.RedisException;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A set nested in a {@link RedisManager}'s container (a {@code Set} value stored into a list, dict or
 * namespace): a Redis set of codec bytes. Elements compare as codec bytes; iteration is over a snapshot,
 * its {@code remove} writes through.
 */
final class RedisSet<E> extends AbstractSet<E> implements RedisProxy, Serializable {
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
        m.check();
        try {
            return set.size();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public boolean contains(Object o) {
        m.check();
        try {
            return set.contains(m.nesting.asStored(o));
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public boolean add(E e) {
        m.check();
        try {
            Object stored = m.nesting.toStored(e);
            boolean added = set.add(stored);
            if (!added) {
                m.nesting.undo(stored);
            }
            return added;
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public boolean remove(Object o) {
        m.check();
        try {
            Object stored = m.nesting.asStored(o);
            boolean removed = set.remove(stored);
            if (removed) {
                m.nesting.release(stored);
            }
            return removed;
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public void clear() {
        m.check();
        try {
            List<Object> old = Lua.eval(m.redisson(), key, Lua.SET_TAKE_ALL, RScript.ReturnType.LIST, List.of(key));
            m.nesting.releaseAll(Nesting.refsIn(old));
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @SuppressWarnings("unchecked")
    Set<E> snapshot() {
        m.check();
        try {
            Set<E> out = new LinkedHashSet<>();
            for (Object v : set.readAll()) {
                out.add((E) m.nesting.fromStored(v));
            }
            return out;
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
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
