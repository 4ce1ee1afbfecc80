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
        Objects.requireNonNull(e, "e");
        if (!bounded) {
            // NOTE: never waits (one RPUSH): an interrupt counts on entry only. Answered during the round
            // trip, it threw InterruptedException for a push Redis may already have made, and a retry
            // queued the item twice.
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            m.call(() -> q.offer(e));
            return;
        }
        m.callBlocking(() -> {
            q.put(e);
            return null;
        });
    }

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(e, "e");
        long nanos = unit.toNanos(timeout); // saturates
        if (!bounded || nanos <= 0) {
            return offer(e);
        }
        long deadline = RedisSync.deadline(nanos);
        while (true) {
            long slice = Math.min(RedisSync.remaining(deadline), MAX_WAIT_SLICE_NANOS);
            if (m.callBlocking(() -> ((RBoundedBlockingQueue<E>) q).offer(e, slice, TimeUnit.NANOSECONDS))) {
                return true;
            }
            if (RedisSync.remaining(deadline) <= 0) {
                return false;
            }
        }
    }

    @Override
    public E take() throws InterruptedException {
        return m.callBlocking(() -> q.take());
    }

    /**
     * BlockingQueue's timed poll. Redis's BLPOP counts whole seconds and takes 0 for "forever", so: no
     * wait for a timeout <= 0, BLPOP slices of whole seconds (at most a minute each, so that a huge
     * timeout is neither out of range nor overflows), and the last part under a second by polling every
     * few milliseconds.
     */
    @Override
    public E poll(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout); // saturates
        if (nanos <= 0) {
            return poll();
        }
        long deadline = RedisSync.deadline(nanos);
        while (true) {
            long left = RedisSync.remaining(deadline);
            E e;
            if (left >= TimeUnit.SECONDS.toNanos(1)) {
                long seconds = Math.min(TimeUnit.NANOSECONDS.toSeconds(left), TimeUnit.NANOSECONDS.toSeconds(MAX_WAIT_SLICE_NANOS));
                e = m.callBlocking(() -> q.poll(seconds, TimeUnit.SECONDS));
            } else {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                e = poll();
                if (e == null && left > 0) {
                    TimeUnit.NANOSECONDS.sleep(Math.min(left, SHORT_POLL_NANOS));
                }
            }
            if (e != null || RedisSync.remaining(deadline) <= 0) {
                return e;
            }
        }
    }

    /** The longest single blocking call of a timed wait. */
    private static final long MAX_WAIT_SLICE_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** The pause between polls in a timed poll's last second. */
    private static final long SHORT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

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
        checkDrainTarget(c);
        return m.call(() -> q.drainTo(c));
    }

    @Override
    public int drainTo(Collection<? super E> c, int maxElements) {
        checkDrainTarget(c);
        return m.call(() -> q.drainTo(c, maxElements));
    }

    /** As BlockingQueue says: NullPointerException for null, IllegalArgumentException for the queue itself. */
    private void checkDrainTarget(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        if (c == this) {
            throw new IllegalArgumentException("a queue cannot be drained into itself");
        }
    }

    /** One command for all of {@code c}. */
    @Override
    public boolean addAll(Collection<? extends E> c) {
        Objects.requireNonNull(c, "c");
        if (c == this) {
            throw new IllegalArgumentException("a queue cannot be added to itself");
        }
        for (E e : c) {
            Objects.requireNonNull(e, "c: a queue does not accept null elements"); // NOTE: a stored null polls as "empty"
        }
        return m.call(() -> q.addAll(c));
    }

    @Override
    public void clear() {
        m.exec(() -> q.clear());
    }

    /** Removes the first item equal to {@code o} from Redis (a bounded queue gets its capacity back). */
    @Override
    public boolean remove(Object o) {
        return o != null && m.call(() -> q.remove(o));
    }

    /** One script for all of {@code c}; on a bounded queue, item by item (each gives its capacity back). */
    @Override
    public boolean removeAll(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        return bounded ? removeEach(c::contains) : m.call(() -> q.removeAll(c));
    }

    /** One script for all of {@code c}; on a bounded queue, item by item (each gives its capacity back). */
    @Override
    public boolean retainAll(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        return bounded ? removeEach(e -> !c.contains(e)) : m.call(() -> q.retainAll(c));
    }

    /** Removes each item of a snapshot that {@code which} accepts, one remove each (Redisson's bulk removals keep a bounded queue's capacity). */
    private boolean removeEach(java.util.function.Predicate<Object> which) {
        boolean changed = false;
        for (E e : m.call(() -> new ArrayList<>(q.readAll()))) {
            if (which.test(e)) {
                changed |= remove(e);
            }
        }
        return changed;
    }

    /**
     * Iterates a snapshot; {@code remove} removes the first item equal to the last one returned, in
     * Redis (a removal on the snapshot alone reported success and changed nothing).
     */
    @Override
    public Iterator<E> iterator() {
        Iterator<E> snapshot = m.call(() -> new ArrayList<>(q.readAll()).iterator());
        return new Iterator<>() {
            private E last;

            @Override
            public boolean hasNext() {
                return snapshot.hasNext();
            }

            @Override
            public E next() {
                last = snapshot.next();
                return last;
            }

            @Override
            public void remove() {
                if (last == null) {
                    throw new IllegalStateException("next() was not called, or remove() was called already");
                }
                RedisQueue.this.remove(last);
                last = null;
            }
        };
    }

    @Override
    public String toString() {
        return m.call(() -> q.readAll().toString());
    }
}
