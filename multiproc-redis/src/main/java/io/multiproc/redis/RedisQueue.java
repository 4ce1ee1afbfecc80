package io.multiproc.redis;

import org.redisson.api.RBlockingQueue;
import org.redisson.api.RBoundedBlockingQueue;

import org.redisson.client.RedisException;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link RedisManager}'s queue: Redisson's {@link RBlockingQueue} (a Redis list, blocking pops on the
 * server), or {@link RBoundedBlockingQueue} when created with a bound (a capacity semaphore beside it,
 * same hash tag). Items are copies (codec bytes), as in a local queue; iteration is over a snapshot.
 */
final class RedisQueue<E> extends AbstractQueue<E> implements BlockingQueue<E>, RedisProxy, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final transient RedisManager m;
    private final transient String key;
    private final transient boolean bounded;
    private final transient RBlockingQueue<E> q;

    RedisQueue(RedisManager m, String key, boolean bounded) {
        this.m = m;
        this.key = key;
        this.bounded = bounded;
        this.q = bounded ? m.redisson().getBoundedBlockingQueue(key, RedisCodec.INSTANCE)
                : m.redisson().getBlockingQueue(key, RedisCodec.INSTANCE);
    }

    void bound(int maxItems) {
        ((RBoundedBlockingQueue<E>) q).trySetCapacity(maxItems);
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
        return bounded ? Kind.BOUNDED_QUEUE : Kind.QUEUE;
    }

    @Serial
    Object writeReplace() {
        return handle();
    }

    @Override
    public boolean offer(E e) {
        m.check();
        try {
            return q.offer(Objects.requireNonNull(e, "e"));
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public void put(E e) throws InterruptedException {
        m.check();
        try {
            q.put(Objects.requireNonNull(e, "e"));
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        m.check();
        try {
            Objects.requireNonNull(e, "e");
            if (!bounded) {
                return q.offer(e);
            }
            return ((RBoundedBlockingQueue<E>) q).offer(e, timeout, unit);
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public E take() throws InterruptedException {
        m.check();
        try {
            return q.take();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public E poll(long timeout, TimeUnit unit) throws InterruptedException {
        m.check();
        try {
            return q.poll(timeout, unit);
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public E poll() {
        m.check();
        try {
            return q.poll();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public E peek() {
        m.check();
        try {
            return q.peek();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public int size() {
        m.check();
        try {
            return q.size();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public int remainingCapacity() {
        m.check();
        try {
            return q.remainingCapacity();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public int drainTo(Collection<? super E> c) {
        m.check();
        try {
            return q.drainTo(c);
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public int drainTo(Collection<? super E> c, int maxElements) {
        m.check();
        try {
            return q.drainTo(c, maxElements);
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    /** One command for all of {@code c}. */
    @Override
    public boolean addAll(Collection<? extends E> c) {
        m.check();
        try {
            return q.addAll(c);
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public void clear() {
        m.check();
        try {
            q.clear();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public Iterator<E> iterator() {
        m.check();
        try {
            List<E> snapshot = new ArrayList<>(q.readAll());
            return snapshot.iterator();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }

    @Override
    public String toString() {
        m.check();
        try {
            return q.readAll().toString();
        } catch (RedisException down) {
            throw m.unavailable(down);
        }
    }
}
