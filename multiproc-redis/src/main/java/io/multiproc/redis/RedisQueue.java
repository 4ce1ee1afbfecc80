package io.multiproc.redis;

import org.redisson.api.RBlockingQueue;
import org.redisson.api.RBoundedBlockingQueue;
import org.redisson.api.RScript;
import org.redisson.client.codec.ByteArrayCodec;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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
        while (!offerWithin(e, ROOM_SLICE_NANOS, RedisSync.FOREVER)) {
            // the queue is still full: wait another slice
        }
    }

    /**
     * One wait for room of at most {@code nanos}: Redisson's timed offer (a script, then a pub/sub wait). An
     * interrupt while it waits does not cancel it: Redisson's synchronous offer threw InterruptedException
     * for an offer whose permit Redis had already granted and whose push then happened, so a caller that
     * retried the item queued it twice. The offer runs to its end (at most its slice): added, it returns
     * true with the interrupt still set (as an uninterruptible call would); not added, InterruptedException.
     * Not answered by {@code deadline} (and {@link RedisSync#LATE_REPLY_NANOS}): false, and an item Redis
     * adds after that is taken out again when its answer arrives (decision 229).
     */
    private boolean offerWithin(E e, long nanos, long deadline) throws InterruptedException {
        return m.callBlocking(() -> {
            CompletableFuture<Boolean> offer = ((RBoundedBlockingQueue<E>) q).offerAsync(e, nanos, TimeUnit.NANOSECONDS)
                    .toCompletableFuture();
            try {
                if (deadline == RedisSync.FOREVER) {
                    return offer.get();
                }
                return offer.get(Math.max(0, RedisSync.remaining(deadline)) + RedisSync.LATE_REPLY_NANOS, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException late) {
                offer.thenAccept(added -> {
                    if (Boolean.TRUE.equals(added)) {
                        takeBackLate(e);
                    }
                });
                return false;
            } catch (InterruptedException stop) {
                if (toItsEnd(offer)) {
                    return true; // toItsEnd set the interrupt again: the caller's next wait answers it
                }
                Thread.interrupted(); // answered by the exception; interrupts while the offer ended are this one
                throw stop;
            } catch (ExecutionException failed) {
                throw redisFailure(failed);
            }
        });
    }

    /** The longest wait for room between two tries of a bounded put or timed offer. */
    private static final long ROOM_SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(e, "e");
        long nanos = unit.toNanos(timeout); // saturates
        if (!bounded) {
            return pushBy(e, RedisSync.deadline(Math.max(0, nanos)));
        }
        if (nanos <= 0) {
            return offer(e);
        }
        long deadline = RedisSync.deadline(nanos);
        while (true) {
            if (offerWithin(e, Math.min(RedisSync.remaining(deadline), ROOM_SLICE_NANOS), deadline)) {
                return true;
            }
            if (RedisSync.remaining(deadline) <= 0) {
                return false;
            }
        }
    }

    /**
     * An unbounded queue's timed offer: one RPUSH, waited for until {@code deadline} (and
     * {@link RedisSync#LATE_REPLY_NANOS}); not answered by then, false, and the item Redis pushes after that
     * is taken out again when its answer arrives (decision 229).
     */
    private boolean pushBy(E e, long deadline) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException(); // before anything is sent, as put
        }
        return m.call(() -> {
            CompletableFuture<Boolean> push = q.offerAsync(e).toCompletableFuture();
            if (!RedisSync.within(push, deadline)) {
                push.thenAccept(added -> {
                    if (Boolean.TRUE.equals(added)) {
                        takeBackLate(e);
                    }
                });
                return false;
            }
            return toItsEnd(push);
        });
    }

    /**
     * Takes out the item a late offer added at the tail for a caller that got false (decision 229): the
     * last equal item, so the producer's own equal items keep their places; a bounded queue gets its room
     * back. Sent without waiting: this runs on Redisson's thread.
     */
    private void takeBackLate(E e) {
        try {
            if (bounded) {
                String capacity = RedisManager.capacityKey(key);
                m.redisson().getScript(RedisCodec.STORED_BYTES).evalAsync(key, RScript.Mode.READ_WRITE, Lua.BOUNDED_REMOVE_LAST,
                        RScript.ReturnType.LONG, List.of(key, capacity, org.redisson.RedissonSemaphore.getChannelName(capacity)), e);
            } else {
                m.redisson().getScript(RedisCodec.STORED_BYTES).evalAsync(key, RScript.Mode.READ_WRITE, Lua.LIST_REMOVE_LAST,
                        RScript.ReturnType.LONG, List.of(key), e);
            }
        } catch (RuntimeException clientShutDown) {
            // the connection closed meanwhile: nothing can be sent, as for a lock's late grant
        }
    }

    @Override
    public E take() throws InterruptedException {
        // NOTE: BLPOP slices of a second, not one BLPOP without a timeout: an interrupted take lets its pop
        // run to its end before it answers (blockingPop), so the slice bounds how late that answer is
        while (true) {
            E e = open(blockingPop(TAKE_SLICE_SECONDS, RedisSync.FOREVER));
            if (e != null) {
                return e;
            }
        }
    }

    /**
     * One BLPOP of at most {@code seconds}, given back by {@link #popped}. An interrupt while it waits does
     * not cancel it: Redis may already have popped an item for it, which a cancelled call dropped (an
     * interrupted consumer lost items). The pop runs to its end (at most its slice), what it took goes back
     * to the head of the queue, and InterruptedException is thrown with nothing taken. Not answered by
     * {@code deadline} (and {@link RedisSync#LATE_REPLY_NANOS}): null, and an item Redis pops after that goes
     * back to the head when its answer arrives (decision 229).
     */
    private Object blockingPop(long seconds, long deadline) throws InterruptedException {
        return m.callBlocking(() -> popBy(pops.pollAsync(seconds, TimeUnit.SECONDS).toCompletableFuture(), deadline));
    }

    /**
     * What {@link #blockingPop} and the timed poll's short polls wait for: the pop {@code pop}, through
     * {@link #pops} (so a late item goes back without its capacity: Redisson's bounded poll gives the
     * capacity back after its reply, where a give-back could not follow it).
     */
    private Object popBy(CompletableFuture<Object> pop, long deadline) throws InterruptedException {
        Object stored;
        try {
            if (deadline == RedisSync.FOREVER) {
                stored = pop.get();
            } else {
                stored = pop.get(Math.max(0, RedisSync.remaining(deadline)) + RedisSync.LATE_REPLY_NANOS, TimeUnit.NANOSECONDS);
            }
        } catch (java.util.concurrent.TimeoutException gaveUp) {
            pop.thenAccept(late -> {
                if (late != null) {
                    giveBack(late);
                }
            });
            return null;
        } catch (InterruptedException stop) {
            Object late = toItsEnd(pop);
            if (late != null) {
                toItsEnd(giveBack(late));
            }
            Thread.interrupted(); // answered by the exception; interrupts while the pop ended are this one
            throw stop;
        } catch (ExecutionException failed) {
            throw redisFailure(failed);
        }
        return popped(stored);
    }

    /**
     * Puts an item a pop took for a caller that left back at the head of the queue. LPUSH: back where the
     * pop took it from, so FIFO order holds; a bounded queue's capacity was not given back for it (popped()
     * did not run), so none is taken again.
     */
    private CompletableFuture<Void> giveBack(Object stored) {
        return m.redisson().getDeque(key, ByteArrayCodec.INSTANCE).addFirstAsync(stored).toCompletableFuture();
    }

    /**
     * After a blocking pop of {@code stored} (null: none): a bounded queue's capacity is given back, to the
     * end of that call whatever interrupts come (the item is this caller's by now: Redisson's synchronous
     * release threw on an interrupt and the popped item was lost); an interrupt meanwhile stays set.
     */
    private Object popped(Object stored) {
        if (bounded && stored != null) {
            toItsEnd(m.redisson().getSemaphore(RedisManager.capacityKey(key)).releaseAsync().toCompletableFuture());
        }
        return stored;
    }

    /**
     * Waits for {@code f} to its end, whatever interrupts come (re-set afterwards); its failure thrown as
     * Redisson's synchronous calls throw it.
     */
    private static <T> T toItsEnd(CompletableFuture<T> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException failed) {
                    throw redisFailure(failed);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static RuntimeException redisFailure(ExecutionException failed) {
        Throwable c = failed.getCause();
        if (c instanceof RuntimeException r) {
            return r;
        }
        if (c instanceof Error err) {
            throw err;
        }
        return new org.redisson.client.RedisException(String.valueOf(c), c);
    }

    /** The server-side wait of one slice of {@link #take}: below the command timeout (2 s). */
    private static final long TAKE_SLICE_SECONDS = 1;

    /**
     * BlockingQueue's timed poll. Redis's BLPOP counts whole seconds and takes 0 for "forever", so: no
     * wait for a timeout <= 0, BLPOP slices of one second (so that a huge timeout is neither out of
     * range nor overflows, and an interrupt is answered within one), and the last part under a second
     * by polling every few milliseconds.
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
                e = open(blockingPop(seconds, deadline));
            } else {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                e = open(m.callBlocking(() -> popBy(pops.pollAsync().toCompletableFuture(), deadline)));
                if (e == null && left > 0) {
                    TimeUnit.NANOSECONDS.sleep(Math.min(left, SHORT_POLL_NANOS));
                }
            }
            if (e != null || RedisSync.remaining(deadline) <= 0) {
                return e;
            }
        }
    }

    /**
     * The longest single blocking call of a timed wait: also how long an interrupted poll may still wait
     * for its pop to end (see {@link #blockingPop}).
     */
    private static final long MAX_WAIT_SLICE_NANOS = TimeUnit.SECONDS.toNanos(TAKE_SLICE_SECONDS);
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
