package io.multiproc.redis;

import org.redisson.api.RBlockingQueue;
import org.redisson.api.RBoundedBlockingQueue;
import org.redisson.api.RScript;

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
    /**
     * Items come back as their stored bytes and are decoded by the calling thread ({@link #open}): decoded
     * on Redisson's I/O thread, an item that is a container proxy (a List or Map) was walked there by
     * Redisson's reference handling, whose calls fail on that thread, and the take failed.
     */
    private final transient RBlockingQueue<Object> q;
    /**
     * What blocking pops go through: {@link #q}, or for a bounded queue an unbounded view of the same list
     * (Redisson's bounded take and timed poll decode with the client's codec, not the queue's, so they
     * never gave bytes back); {@link #popped} then gives the capacity back, as Redisson's own take does.
     */
    private final transient RBlockingQueue<Object> pops;

    RedisQueue(RedisManager m, String key, boolean bounded) {
        this.m = m;
        this.key = key;
        this.bounded = bounded;
        this.q = bounded ? m.redisson().getBoundedBlockingQueue(key, RedisCodec.STORED_BYTES)
                : m.redisson().getBlockingQueue(key, RedisCodec.STORED_BYTES);
        this.pops = bounded ? m.redisson().getBlockingQueue(key, RedisCodec.STORED_BYTES) : q;
    }

    void bound(int maxItems) {
        ((RBoundedBlockingQueue<Object>) q).trySetCapacity(maxItems);
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
        // NOTE: timed offers of a second, not Redisson's put: its wait for room ends only on a pub/sub message
        // (no poll, no timeout), so a lost message or a dead server left the put waiting for ever (decision 108
        // refused RSemaphore's untimed wait for the same reason). A lost message now costs one slice; a dead
        // server fails the next slice's script with the manager's outage IllegalStateException.
        while (!offerWithin(e, ROOM_SLICE_NANOS)) {
            // the queue is still full: wait another slice
        }
    }

    /** One wait for room of at most {@code nanos}: Redisson's timed offer (a script, then a pub/sub wait). */
    private boolean offerWithin(E e, long nanos) throws InterruptedException {
        return m.callBlocking(() -> ((RBoundedBlockingQueue<E>) q).offer(e, nanos, TimeUnit.NANOSECONDS));
    }

    /** The longest wait for room between two tries of a bounded put or timed offer. */
    private static final long ROOM_SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(e, "e");
        long nanos = unit.toNanos(timeout); // saturates
        if (!bounded || nanos <= 0) {
            return offer(e);
        }
        long deadline = RedisSync.deadline(nanos);
        while (true) {
            if (offerWithin(e, Math.min(RedisSync.remaining(deadline), ROOM_SLICE_NANOS))) {
                return true;
            }
            if (RedisSync.remaining(deadline) <= 0) {
                return false;
            }
        }
    }

    @Override
    public E take() throws InterruptedException {
        // NOTE: BLPOP slices of a second, not one BLPOP without a timeout: an interrupt cancels the call but
        // not the command, and Redisson may hand its connection to the next command before reconnecting it;
        // blocked for ever on the server, the queue's next calls there timed out ("did not answer")
        while (true) {
            E e = open(popped(m.callBlocking(() -> pops.poll(TAKE_SLICE_SECONDS, TimeUnit.SECONDS))));
            if (e != null) {
                return e;
            }
        }
    }

    /** The server-side wait of one slice of {@link #take}: below the command timeout (2 s). */
    private static final long TAKE_SLICE_SECONDS = 1;

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
                e = open(popped(m.callBlocking(() -> pops.poll(seconds, TimeUnit.SECONDS))));
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
        return open(m.call(() -> q.poll()));
    }

    @Override
    public E peek() {
        return open(m.call(() -> q.peek()));
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
        List<Object> stored = new ArrayList<>();
        m.call(() -> q.drainTo(stored));
        return openInto(stored, c);
    }

    @Override
    public int drainTo(Collection<? super E> c, int maxElements) {
        checkDrainTarget(c);
        List<Object> stored = new ArrayList<>();
        m.call(() -> q.drainTo(stored, maxElements));
        return openInto(stored, c);
    }

    /** After a blocking pop of {@code stored} (null: none): a bounded queue's capacity is given back. */
    private Object popped(Object stored) {
        if (bounded && stored != null) {
            m.exec(() -> m.redisson().getSemaphore(RedisManager.capacityKey(key)).release());
        }
        return stored;
    }

    /**
     * Decodes drained items into {@code c}, in order; how many there were. If decoding one or adding it
     * to {@code c} fails, the others are still added and the first failure is thrown (the failed item is
     * gone), as a local queue's drainTo does: they are out of Redis already.
     */
    private int openInto(List<Object> stored, Collection<? super E> c) {
        RuntimeException failure = null;
        for (Object b : stored) {
            try {
                c.add(open(b));
            } catch (RuntimeException e) { // NOTE: stopping here lost every item after the failed one
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return stored.size();
    }

    /** An item as stored (bytes) decoded in the calling thread; null stays null (an empty queue). */
    @SuppressWarnings("unchecked")
    private E open(Object stored) {
        return stored == null ? null : (E) RedisCodec.INSTANCE.decodeStored((byte[]) stored);
    }

    /** As BlockingQueue says: NullPointerException for null, IllegalArgumentException for the queue itself. */
    private void checkDrainTarget(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        if (c == this) {
            throw new IllegalArgumentException("a queue cannot be drained into itself");
        }
    }

    /**
     * One command for all of {@code c} when they all fit; on a bounded queue without room for all of
     * them, the items that fit are added in order and then {@link IllegalStateException} is thrown, as
     * {@code AbstractQueue.addAll} (and every local queue) does.
     */
    @Override
    public boolean addAll(Collection<? extends E> c) {
        Objects.requireNonNull(c, "c");
        if (c == this) {
            throw new IllegalArgumentException("a queue cannot be added to itself");
        }
        for (E e : c) {
            Objects.requireNonNull(e, "c: a queue does not accept null elements"); // NOTE: a stored null polls as "empty"
        }
        if (m.call(() -> q.addAll(c)) || !bounded || c.isEmpty()) {
            return !c.isEmpty();
        }
        // NOTE: Redisson's bounded addAll takes capacity for all items or for none and then answers false:
        // a caller that (as usual) ignored the boolean lost the whole batch without an error
        int added = 0;
        for (E e : c) {
            if (!offer(e)) {
                throw new IllegalStateException("Queue full: queue '" + key + "' took " + added + " of the "
                        + c.size() + " items of addAll");
            }
            added++;
        }
        return true;
    }

    @Override
    public void clear() {
        m.exec(() -> q.clear());
    }

    /**
     * Removes one item equal to {@code o} from Redis (a bounded queue gets its capacity back): the first
     * stored as {@code o}'s encoding, in one script; else one that decodes to a value equal to {@code o}
     * (a Set or Map is written in its iteration order, so an equal one may be stored as other bytes),
     * removed by its stored bytes.
     */
    @Override
    public boolean remove(Object o) {
        if (o == null) {
            return false;
        }
        if (RedisCodec.encodes(o) && m.call(() -> removeFirst(o))) {
            return true;
        }
        // NOTE: by equals, as contains() and every local queue: matching bytes only, remove(x) answered false
        // for an item contains(x) found (decision 195)
        return removeEach(o::equals, true);
    }

    /**
     * Removes the items equal to an element of {@code c}, item by item by their stored bytes (a bounded
     * queue gets each one's capacity back).
     */
    @Override
    public boolean removeAll(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        // NOTE: not Redisson's script, which compares bytes: an item equal to an element but stored in another
        // iteration order (a Set, a Map) stayed (decision 195)
        return removeEach(c::contains);
    }

    /** Removes the items equal to no element of {@code c}, as {@link #removeAll} does. */
    @Override
    public boolean retainAll(Collection<?> c) {
        Objects.requireNonNull(c, "c");
        // NOTE: not Redisson's script, which compares bytes: it deleted items equal to an element of c (decision 195)
        return removeEach(e -> !c.contains(e));
    }

    /** Removes each item of a snapshot that {@code which} accepts, one remove each (Redisson's bulk removals keep a bounded queue's capacity). */
    private boolean removeEach(java.util.function.Predicate<Object> which) {
        return removeEach(which, false);
    }

    /** {@link #removeEach(java.util.function.Predicate)}, stopping after the first item removed if {@code once}. */
    private boolean removeEach(java.util.function.Predicate<Object> which, boolean once) {
        boolean changed = false;
        for (Object b : m.call(() -> new ArrayList<>(q.readAll()))) {
            if (which.test(open(b))) {
                changed |= removeStored((byte[]) b);
                if (changed && once) {
                    return true;
                }
            }
        }
        return changed;
    }

    /** Removes the first item stored as exactly {@code bytes} (what was read, not a re-encoding of it). */
    private boolean removeStored(byte[] bytes) {
        return m.call(() -> removeFirst(new RedisCodec.Raw(bytes)));
    }

    /** Removes the first item that {@code o} encodes to (a {@link RedisCodec.Raw}: exactly its bytes). */
    private boolean removeFirst(Object o) {
        if (bounded) {
            return q.remove(o); // Redisson's script, which also gives the capacity back
        }
        // NOTE: a script, not Redisson's LREM, which it re-sent after a late reply: two equal items went (decision 141)
        return Lua.<Long>eval(m.redisson(), RedisCodec.STORED_BYTES, key, Lua.LIST_REMOVE_FIRST, RScript.ReturnType.LONG,
                List.of(key), o) == 1L;
    }

    /**
     * Iterates a snapshot; {@code remove} removes the first item equal to the last one returned, in
     * Redis (a removal on the snapshot alone reported success and changed nothing).
     */
    @Override
    public Iterator<E> iterator() {
        Iterator<Object> snapshot = m.call(() -> new ArrayList<>(q.readAll()).iterator());
        return new Iterator<>() {
            private byte[] last;

            @Override
            public boolean hasNext() {
                return snapshot.hasNext();
            }

            @Override
            public E next() {
                last = (byte[]) snapshot.next();
                return open(last);
            }

            @Override
            public void remove() {
                if (last == null) {
                    throw new IllegalStateException("next() was not called, or remove() was called already");
                }
                removeStored(last);
                last = null;
            }
        };
    }

    @Override
    public String toString() {
        List<Object> stored = m.call(() -> q.readAll());
        List<E> items = new ArrayList<>(stored.size());
        for (Object b : stored) {
            items.add(open(b));
        }
        return items.toString();
    }
}
