package io.multiproc.redis;

import org.redisson.api.RBlockingQueue;
import org.redisson.api.RBoundedBlockingQueue;

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
        return m.call(() -> q.offer(Objects.requireNonNull(e, "e")));
    }

    @Override
    public void put(E e) throws InterruptedException {
        m.callBlocking(() -> {
            q.put(Objects.requireNonNull(e, "e"));
            return null;
        });
    }

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        return m.callBlocking(() -> {
            Objects.requireNonNull(e, "e");
            if (!bounded) {
                return q.offer(e);
            }
            return ((RBoundedBlockingQueue<E>) q).offer(e, timeout, unit);
        });
    }

    @Override
    public E take() throws InterruptedException {
        return m.callBlocking(() -> q.take());
    }

    @Override
    public E poll(long timeout, TimeUnit unit) throws InterruptedException {
        return m.callBlocking(() -> q.poll(timeout, unit));
    }

    @Override
    public E poll() {
        return m.call(() -> q.poll());
    }

    @Override
    public E peek() {
        return m.call(() -> q.peek());
    }

    @Override
    public int size() {
        return m.call(() -> q.size());
    }

    @Override
    public int remainingCapacity() {
        return m.call(() -> q.remainingCapacity());
    }

    @Override
    public int drainTo(Collection<? super E> c) {
        return m.call(() -> q.drainTo(c));
    }

    @Override
    public int drainTo(Collection<? super E> c, int maxElements) {
        return m.call(() -> q.drainTo(c, maxElements));
    }

    /** One command for all of {@code c}. */
    @Override
    public boolean addAll(Collection<? extends E> c) {
        return m.call(() -> q.addAll(c));
    }

    @Override
    public void clear() {
        m.exec(() -> q.clear());
    }

    @Override
    public Iterator<E> iterator() {
        return m.call(() -> {
            List<E> snapshot = new ArrayList<>(q.readAll());
            return snapshot.iterator();
        });
    }

    @Override
    public String toString() {
        return m.call(() -> q.readAll().toString());
    }
}
