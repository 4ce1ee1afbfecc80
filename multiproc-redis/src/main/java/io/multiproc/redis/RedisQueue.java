package io.multiproc.redis;

import org.redisson.api.RBlockingQueue;
import org.redisson.api.RBoundedBlockingQueue;
import org.redisson.api.RBlockingDeque;
import org.redisson.api.RScript;
import org.redisson.api.queue.DequeMoveArgs;

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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

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
     * What blocking pops go through (BLMOVE into the pop's pending list, decision 247): a deque view of the
     * same list, for a bounded queue too (Redisson's bounded take and timed poll decode with the client's
     * codec, not the queue's, so they never gave bytes back); {@link #received} gives the capacity back.
     */
    private final transient RBlockingDeque<Object> pops;
    /** A bounded queue's capacity semaphore (Redisson's, beside the list) and the channel its rooms are published on; else null. */
    private final transient String capacity;
    private final transient String roomChannel;

    RedisQueue(RedisManager m, String key, boolean bounded) {
        this.m = m;
        this.key = key;
        this.bounded = bounded;
        this.capacity = bounded ? RedisManager.capacityKey(key) : null;
        this.roomChannel = bounded ? org.redisson.RedissonSemaphore.getChannelName(capacity) : null;
        this.q = bounded ? m.redisson().getBoundedBlockingQueue(key, RedisCodec.STORED_BYTES)
                : m.redisson().getBlockingQueue(key, RedisCodec.STORED_BYTES);
        this.pops = m.redisson().getBlockingDeque(key, RedisCodec.STORED_BYTES);
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

    /** The longest wait for room between two tries of a bounded put. */
    private static final long ROOM_SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * A timed offer: marked pushes ({@link #tryPushBy}), each waited for until {@code deadline} (and
     * {@link RedisSync#LATE_REPLY_NANOS}); a bounded queue tries again whenever room is given back (its capacity
     * semaphore's channel, or every half second). A try Redis does not answer in time, or that fails, is given
     * back until Redis answers, so an item Redis adds after its caller got false (or the failure) is taken out
     * again, however long Redis hung (decision 263). An item a consumer took before the give-back ran stays
     * delivered.
     */
    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(e, "e");
        long nanos = unit.toNanos(timeout); // saturates
        // encoded once, before anything is sent: an item the codec refuses fails here, and a give-back compares
        // the very bytes its push added
        RedisCodec.Raw item = new RedisCodec.Raw(RedisCodec.INSTANCE.bytesOf(e));
        long deadline = RedisSync.deadline(Math.max(0, nanos));
        return m.callBlocking(() -> {
            // NOTE: one try first, as Redisson's offer did: the room's channel is subscribed (a round trip, and a
            // keeper thread for the manager's waits) only by an offer that finds the queue full
            Boolean pushed = tryPushBy(item, deadline);
            if (pushed == null || pushed || !bounded || RedisSync.remaining(deadline) <= 0) {
                return Boolean.TRUE.equals(pushed);
            }
            return m.sync().awaitUntil(roomChannel, deadline, d -> tryPushBy(item, d));
        });
    }

    /**
     * One marked push ({@link Lua#QUEUE_PUSH_MARKED}; a bounded queue's takes a room first): true pushed, false
     * no room, null Redis did not answer by {@code deadline} (given back). Its mark, answered in time, goes with
     * the pops' batched receipts ({@link QueueReceipts}).
     */
    private Boolean tryPushBy(RedisCodec.Raw item, long deadline) {
        String mark = key + ":push:" + JVM_ID + ":" + PUSHES.incrementAndGet();
        List<Object> keys = bounded ? List.of(key, mark, capacity, roomChannel) : List.of(key, mark);
        CompletableFuture<Long> push = evalMarked(Lua.QUEUE_PUSH_MARKED, keys, item, PUSHED_MILLIS);
        if (!RedisSync.within(push, deadline)) {
            giveBack(keys, item);
            return null;
        }
        long pushed;
        try {
            pushed = toItsEnd(push);
        } catch (RuntimeException failed) {
            giveBack(keys, item);
            throw failed;
        }
        if (pushed == 1) {
            m.receipts.add(key, mark);
        }
        return pushed == 1;
    }

    /**
     * Sends a timed offer's script: the item as its stored bytes (RedisSync's scripts send strings), and how long
     * the mark it leaves lives.
     */
    private CompletableFuture<Long> evalMarked(String lua, List<Object> keys, RedisCodec.Raw item, RedisCodec.Raw markMillis) {
        return m.redisson().getScript(RedisCodec.STORED_BYTES).<Long>evalAsync(key, RScript.Mode.READ_WRITE, lua,
                RScript.ReturnType.LONG, keys, item, markMillis).toCompletableFuture();
    }

    /** Gives back the try marked in {@code keys} whose caller got no answer in time, until Redis answers. */
    private void giveBack(List<Object> keys, RedisCodec.Raw item) {
        RedisSync.untilAnswered(m, () -> evalMarked(Lua.QUEUE_UNPUSH, keys, item, GONE_MILLIS), n -> { }, () -> { });
    }

    /**
     * How long a try's 'pushed' mark lives if no receipt deletes it: longer than its give-back is sent again
     * (RedisSync's 300 tries, each up to Redisson's timeout and the retry pause apart), or a give-back that got
     * through after a long partition found no mark and left the item the caller was told was not added.
     */
    private static final RedisCodec.Raw PUSHED_MILLIS = RedisCodec.Raw.of(TimeUnit.HOURS.toMillis(1));

    /** Timed offers' tries in this JVM (any thread): the count in their marks' keys. */
    private static final AtomicLong PUSHES = new AtomicLong();

    /**
     * One wait for room of at most {@code nanos} (a bounded put's slice): Redisson's timed offer (a script, then
     * a pub/sub wait). An interrupt while it waits does not cancel it: Redisson's synchronous offer threw
     * InterruptedException for an offer whose permit Redis had already granted and whose push then happened,
     * so a caller that retried the item queued it twice. The offer runs to its end (at most its slice): added,
     * it returns true with the interrupt still set (as an uninterruptible call would); not added,
     * InterruptedException.
     */
    private boolean offerWithin(E e, long nanos) throws InterruptedException {
        return m.callBlocking(() -> {
            CompletableFuture<Boolean> offer = ((RBoundedBlockingQueue<E>) q).offerAsync(e, nanos, TimeUnit.NANOSECONDS)
                    .toCompletableFuture();
            try {
                return offer.get();
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

    @Override
    public E take() throws InterruptedException {
        // NOTE: BLMOVE slices of a second, not one without a timeout: how long Redisson waits for a slice's
        // answer (and popBy for Redisson) is bounded by it
        while (true) {
            E e = open(blockingPop(TAKE_SLICE_SECONDS, RedisSync.FOREVER));
            if (e != null) {
                return e;
            }
        }
    }

    /**
     * One blocking pop of at most {@code seconds}: BLMOVE of the head into the call's pending list, waited
     * for by {@link #popBy}. Not answered by {@code deadline} (and {@link RedisSync#LATE_REPLY_NANOS}): null,
     * and the call is given back (decision 247).
     */
    private Object blockingPop(long seconds, long deadline) throws InterruptedException {
        return m.callBlocking(() -> {
            if (!settledBy(deadline)) {
                return null;
            }
            String pending = pendingKey();
            CompletableFuture<Object> pop = pops.moveAsync(java.time.Duration.ofSeconds(seconds),
                    DequeMoveArgs.pollFirst().addFirstTo(pending)).toCompletableFuture();
            return popBy(pop, pending, deadline, TimeUnit.SECONDS.toNanos(seconds));
        });
    }

    /** A plain pop, marked (decision 247): the head moved into {@code pending} by one script, or null. */
    private CompletableFuture<Object> popNow(String pending) {
        return m.redisson().getScript(RedisCodec.STORED_BYTES).<Object>evalAsync(key, RScript.Mode.READ_WRITE,
                Lua.QUEUE_POP_MARKED, RScript.ReturnType.VALUE, List.of(key, pending)).toCompletableFuture();
    }

    /**
     * Waits for the pop {@code pop} into {@code pending} until {@code deadline} (and its grace); an untimed
     * one at most its server-side wait {@code serverNanos} plus Redisson's command timeout and the grace:
     * after a hang longer than its timeout Redisson's future of a blocking pop sometimes never ended, and
     * take waited for ever with Redis back (RedisQueueLongHangTest). A pop that is not answered by then,
     * fails, or whose caller is interrupted is given back ({@link #giveUp}): whether Redis ran it or runs it
     * later, its item goes back to the head (an interrupted caller waits for that; an interrupt no longer
     * waits for the pop's slice to end). A pop answered in time is acknowledged ({@link #received}).
     */
    private Object popBy(CompletableFuture<Object> pop, String pending, long deadline, long serverNanos)
            throws InterruptedException {
        Object stored;
        try {
            long wait = deadline == RedisSync.FOREVER
                    ? serverNanos + RedisManager.COMMAND_TIMEOUT.toNanos() + RedisSync.LATE_REPLY_NANOS
                    : Math.max(0, RedisSync.remaining(deadline)) + RedisSync.LATE_REPLY_NANOS;
            stored = pop.get(wait, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException gaveUp) {
            giveUp(pending);
            return null;
        } catch (InterruptedException stop) {
            try {
                toItsEnd(giveBackNow(pending, GONE_MILLIS));
            } catch (RuntimeException unanswered) {
                giveUp(pending);
            }
            Thread.interrupted(); // answered by the exception; interrupts while it was given back are this one
            throw stop;
        } catch (ExecutionException failed) {
            giveUp(pending);
            throw redisFailure(failed);
        }
        if (stored == null && serverNanos > 0) {
            // NOTE: Redisson sends a blocking command again on a new connection when its connection is lost; the
            // copy that answered nil may have had a predecessor that moved an item, which goes back (no mark:
            // Redis answered, nothing of this pop runs later). Costs a round trip per empty slice.
            giveUp(pending, NO_MARK);
        }
        return received(pending, stored);
    }

    /** {@link #settledBy} for poll(), which waits at most a command's timeout and ignores interrupts (kept set). */
    private boolean settledUninterruptibly() {
        long deadline = RedisSync.deadline(RedisManager.COMMAND_TIMEOUT.toNanos());
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return settledBy(deadline);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Pending lists' keys: the queue's key (its hash slot), this JVM's id and a count. */
    private String pendingKey() {
        return key + ":pop:" + JVM_ID + ":" + POPS.incrementAndGet();
    }

    private static final String JVM_ID = java.util.UUID.randomUUID().toString();
    /** Pops of this JVM (any thread): the count in {@link #pendingKey}. */
    private static final AtomicLong POPS = new AtomicLong();
    /**
     * How long a given-up pop's 'gone' mark lives: it must outlast the time from the give-back's run to the
     * pop's (Redis runs both as soon as it answers again; a blocked pop waits at most its slice).
     */
    private static final RedisCodec.Raw GONE_MILLIS = RedisCodec.Raw.of(TimeUnit.MINUTES.toMillis(2));

    /**
     * Give-backs of this proxy's pops that Redis has not answered yet: incremented by the thread that gives
     * a pop up, decremented by Redisson's thread once answered (or no longer tried), which then notifies
     * waiters on it. While one is unanswered this proxy's pops wait ({@link #settledBy}): a take that went
     * on popping got the second item before the first was back at the head (RedisQueueLongHangTest).
     */
    private final transient AtomicInteger unsettled = new AtomicInteger();

    /** Gives back the pop into {@code pending} whose caller left, sent until Redis answers (decision 247). */
    private void giveUp(String pending) {
        giveUp(pending, GONE_MILLIS);
    }

    /** {@link #giveUp} whose pending key is marked 'gone' for {@code markMillis} ({@link #NO_MARK}: deleted). */
    private void giveUp(String pending, RedisCodec.Raw markMillis) {
        unsettled.incrementAndGet();
        RedisSync.untilAnswered(m, () -> giveBackNow(pending, markMillis), n -> settled(), this::settled);
    }

    private static final RedisCodec.Raw NO_MARK = RedisCodec.Raw.of(0);

    private void settled() {
        unsettled.decrementAndGet();
        synchronized (unsettled) {
            unsettled.notifyAll();
        }
    }

    /**
     * Waits until this proxy has no unanswered give-back, or {@code deadline}: false if one still is. Costs a
     * volatile read while none is.
     */
    private boolean settledBy(long deadline) throws InterruptedException {
        if (unsettled.get() == 0) {
            return true;
        }
        synchronized (unsettled) {
            while (unsettled.get() > 0) {
                long left = RedisSync.remaining(deadline);
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(unsettled, Math.min(left, RedisSync.POLL_CAP_NANOS));
            }
            return true;
        }
    }

    /**
     * One send of the give-back: LPUSH of what the pop took back at the head, where it took it from (FIFO
     * holds); a bounded queue's capacity was not given back for it, so none is taken again.
     */
    private CompletableFuture<Long> giveBackNow(String pending, RedisCodec.Raw markMillis) {
        return m.redisson().getScript(RedisCodec.STORED_BYTES).<Long>evalAsync(key, RScript.Mode.READ_WRITE,
                Lua.QUEUE_GIVE_BACK, RScript.ReturnType.LONG, List.of(key, pending), markMillis).toCompletableFuture();
    }

    /**
     * After a pop of {@code stored} into {@code pending} (null: none, and nothing was moved): the pending list
     * goes. An unbounded queue's receipt is not waited for (nothing the caller does next depends on it) and goes
     * with other pops' a little later, in one script ({@link QueueReceipts}, decision 255). A bounded queue's
     * capacity comes back with it, waited for whatever interrupts come (a caller's next offer must find the
     * room; an interrupt meanwhile stays set). Not answered (Redis failed since the pop answered): the item is
     * still this caller's, and the receipt is sent again until Redis answers.
     */
    private Object received(String pending, Object stored) {
        if (stored == null) {
            return null;
        }
        if (!bounded) {
            m.receipts.add(key, pending);
            return stored;
        }
        List<Object> keys = List.of(pending, key, capacity, roomChannel);
        java.util.function.Supplier<java.util.concurrent.CompletionStage<Long>> send = () -> m.redisson()
                .getScript(RedisCodec.STORED_BYTES).<Long>evalAsync(key, RScript.Mode.READ_WRITE, Lua.QUEUE_RECEIVED,
                        RScript.ReturnType.LONG, keys);
        try {
            toItsEnd(send.get().toCompletableFuture());
        } catch (RuntimeException unanswered) {
            RedisSync.untilAnswered(m, send, r -> { }, () -> { });
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
     * BlockingQueue's timed poll. Redis's BLMOVE (as BLPOP) counts whole seconds and takes 0 for "forever", so: no
     * wait for a timeout <= 0, BLMOVE slices of one second (so that a huge timeout is neither out of
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
                e = open(m.callBlocking(() -> {
                    if (!settledBy(deadline)) {
                        return null;
                    }
                    String pending = pendingKey();
                    return popBy(popNow(pending), pending, deadline, 0);
                }));
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
    private static final long MAX_WAIT_SLICE_NANOS = TimeUnit.SECONDS.toNanos(TAKE_SLICE_SECONDS);
    /** The pause between polls in a timed poll's last second. */
    private static final long SHORT_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    @Override
    public E poll() {
        return open(m.call(() -> {
            if (!settledUninterruptibly()) {
                throw m.unavailable(new org.redisson.client.RedisTimeoutException(
                        "an earlier pop of queue '" + key + "' is still being given back"));
            }
            String pending = pendingKey();
            Object stored;
            try {
                stored = toItsEnd(popNow(pending));
            } catch (RuntimeException failed) {
                giveUp(pending); // Redis may run it later (decision 247)
                throw failed;
            }
            return received(pending, stored);
        }));
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
