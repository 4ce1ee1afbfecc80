package io.multiproc.redis;

import org.redisson.api.RScript;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisException;
import org.redisson.client.codec.StringCodec;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * What a {@link RedisManager}'s synchronization objects share: one script runner, the lease keeper
 * (the watchdog that renews the leases of locks this connection holds) and one wake-up per channel.
 *
 * <p>Implementation overview. Every lock, condition, event and barrier is a few keys under one hash tag,
 * changed only by Lua scripts (one round trip each, atomic on the server). Waiters never trust pub/sub
 * alone: a waiter reads its channel's local generation, tries its script, and if it must wait, waits until
 * the generation moves (a message arrived) or a bound passes ({@link #POLL_CAP_NANOS}, or the lock's
 * remaining lease), then tries again. A message lost while Redis restarts therefore costs at most one
 * poll interval, never a hang.
 *
 * <p>Leases: a lock key expires {@link #leaseMillis} after its last renewal. The keeper (one daemon thread
 * per connection that a program opened; one for all the managers that arriving proxies attached) renews every lock this connection holds each third of the lease; a renewal that finds
 * another owner (the lock was released by someone else, or lapsed) drops the entry. A holder JVM that dies
 * stops renewing, so its lock is free at most one lease later.
 */
final class RedisSync {

    /** The longest a waiter sleeps between two tries when no message arrives. */
    static final long POLL_CAP_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /** The kinds of synchronization object, as their keys and {@link RedisHandle}s name them. */
    static final String LOCK = "lock";
    static final String RLOCK = "rlock";
    static final String CONDITION = "condition";
    static final String SEMAPHORE = "semaphore";
    static final String EVENT = "event";
    static final String BARRIER = "barrier";

    /** The manager these objects belong to: what their handles name when they travel. */
    private final RedisManager manager;
    private final RedissonClient client;
    private final RScript script;
    private final long leaseMillis;
    /** This connection's identity in owner tokens (one per RedisManager instance). */
    private final String clientId = UUID.randomUUID().toString();
    private final AtomicLong tokens = new AtomicLong();
    /**
     * key -> the hold of the locks this connection holds, one {@link Hold} per acquisition; written by
     * acquiring/releasing threads, give-back replies and the keeper's renewal replies (ConcurrentHashMap).
     */
    private final Map<String, Hold> held = new ConcurrentHashMap<>();

    /**
     * One acquisition of a lock by {@code owner}. Compared by identity (decision 254): a reentrant owner's
     * token is its thread's, the same for every acquisition, so a renewal's late "not held" that names only
     * the owner removed the hold the thread took again in the meantime, and that one lapsed while held.
     */
    private static final class Hold {
        final String owner;

        Hold(String owner) {
            this.owner = owner;
        }
    }
    private final Map<String, Wake> wakes = new ConcurrentHashMap<>();
    /** channel -> Redisson listener id of {@link #wakes}' subscriptions, removed at close; written under wakes' monitor. */
    private final Map<String, Integer> listeners = new ConcurrentHashMap<>();
    /**
     * Keys derived from objects' keys (unnamed objects' markers and condition queues, spent try marks), by
     * the object's key; deleted at close, or with an unnamed object when it is released (decision 166).
     */
    private final Map<String, Set<String>> derivedKeys = new ConcurrentHashMap<>();
    /**
     * Keys of the barriers this connection is a user of (decision 239): the keeper renews this connection's
     * user entry in each, and {@link #leaveBarriers} removes them when the connection or the JVM ends normally.
     */
    private final Set<String> barriers = ConcurrentHashMap.newKeySet();
    /** Connections whose keeper runs: their barrier entries go at a normal JVM exit ({@link #leaveAllBarriers}). */
    private static final Set<RedisSync> LIVE = ConcurrentHashMap.newKeySet();
    /** This connection's own keeper thread, or null when it runs on {@link SharedKeeper}'s. */
    private final ScheduledExecutorService ownKeeper;
    /** The thread {@link #ownKeeper} runs on, set by its thread factory; joined by {@link #stopKeeper()}. */
    private final AtomicReference<Thread> ownKeeperThread = new AtomicReference<>();
    /** Its two periodic tasks, cancelled by {@link #close()} and {@link #stopKeeper()}. */
    private final List<ScheduledFuture<?>> keeping = new ArrayList<>(2);

    /**
     * The one keeper thread of every manager that arriving proxies attached in this JVM: such managers are
     * never closed, so a thread each stayed for every manager name a long-lived process ever saw.
     */
    private static final class SharedKeeper {
        static final ScheduledExecutorService KEEPER = keeper(t -> { });
    }

    /** {@code made} sees each thread the executor makes (one, unless a task threw). */
    private static ScheduledExecutorService keeper(Consumer<Thread> made) {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "mp-redis-lease-keeper");
            t.setDaemon(true);
            made.accept(t);
            return t;
        });
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    /** With {@code sharedKeeper}, its lease keeper runs on the JVM's one thread for attached managers. */
    RedisSync(RedisManager manager, RedissonClient client, long leaseMillis, boolean sharedKeeper) {
        this.manager = manager;
        this.client = client;
        this.script = client.getScript(StringCodec.INSTANCE);
        this.leaseMillis = leaseMillis;
        this.ownKeeper = sharedKeeper ? null : keeper(ownKeeperThread::set);
        ScheduledExecutorService keeper = sharedKeeper ? SharedKeeper.KEEPER : ownKeeper;
        long period = Math.max(1, leaseMillis / 3);
        keeping.add(keeper.scheduleWithFixedDelay(this::renewAll, period, period, TimeUnit.MILLISECONDS));
        long sweep = Math.max(1, Math.min(wakeIdleNanos / 2, TimeUnit.SECONDS.toNanos(10)));
        keeping.add(keeper.scheduleWithFixedDelay(this::unsubscribeIdle, sweep, sweep, TimeUnit.NANOSECONDS));
        LIVE.add(this);
    }

    /** Stops renewing leases and sweeping subscriptions (the client is being shut down). */
    void stopKeeper() {
        for (ScheduledFuture<?> f : keeping) {
            f.cancel(false);
        }
        leaveBarriers();
        if (ownKeeper != null) {
            ownKeeper.shutdownNow();
            // NOTE: shutdownNow only interrupts: without this wait the thread was still alive when close()
            // returned, and a program counting threads after closing managers saw one more than it kept.
            // Its tasks only start async calls, so it ends in microseconds; bounded all the same. The join
            // too: the executor reports terminated from inside its last thread, which is alive a little
            // longer (CI counted it again after awaitTermination alone).
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                ownKeeper.awaitTermination(1, TimeUnit.SECONDS);
                Thread t = ownKeeperThread.get();
                long left = deadline - System.nanoTime();
                if (t != null && t != Thread.currentThread() && left > 0) {
                    t.join(Duration.ofNanos(left));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * How long a channel's subscription stays with no waiter using it ({@code -Dmultiproc.redis.wakeIdleMillis},
     * default 30 s): a program that makes a lock, event or condition per request would otherwise keep a
     * subscription per object, here and on the server, until the manager closes.
     */
    private final long wakeIdleNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(1, Long.getLong("multiproc.redis.wakeIdleMillis", 30_000)));

    /**
     * From the keeper: ends the subscriptions no waiter has touched for {@link #wakeIdleNanos}. A waiter
     * touches its wake at least every {@link #POLL_CAP_NANOS}, so none is waiting on these; one that
     * comes later subscribes again.
     */
    private void unsubscribeIdle() {
        long now = System.nanoTime();
        synchronized (wakes) {
            for (var it = wakes.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Wake> e = it.next();
                if (!e.getValue().retireIfIdle(now, wakeIdleNanos)) {
                    continue;
                }
                it.remove();
                Integer listener = listeners.remove(e.getKey());
                if (listener != null) {
                    try {
                        client.getTopic(e.getKey(), StringCodec.INSTANCE).removeListenerAsync(listener);
                    } catch (RuntimeException clientShutDown) {
                        // the shared client is gone: so are its subscriptions
                    }
                }
            }
        }
    }

    /** Channels this connection is subscribed to now: for tests. */
    int subscriptions() {
        return listeners.size();
    }

    /**
     * How {@code proxy}, the object of {@code kind} at {@code key}, travels: the same handle as the containers' (decision
     * 103), so the receiving JVM re-attaches to this manager's server and name (decision 122).
     */
    RedisHandle handle(Object proxy, String kind, String key, String name, int count, RedisLock lock) {
        // another JVM may use it now: it (and a condition's lock) stays until close (decision 166)
        manager.escaped(key);
        if (lock != null) {
            manager.escaped(lock.key());
        }
        RedisHandle h = new RedisHandle(manager.configYaml(), manager.name(), kind, key, new RedisHandle.Sync(name, count, lock));
        // NOTE: the proxy's release must not run before the marks above are set
        java.lang.ref.Reference.reachabilityFence(proxy);
        return h;
    }

    /** The server's address, for messages. */
    String address() {
        return manager.address();
    }

    long leaseMillis() {
        return leaseMillis;
    }

    /** A fresh owner token of this connection (a Python-style lock's acquisition, a condition waiter). */
    String newToken() {
        return clientId + ":" + tokens.incrementAndGet();
    }

    /** The owner token of the calling thread on this connection (reentrant locks). */
    String threadToken() {
        return clientId + ":t" + Thread.currentThread().threadId();
    }

    long evalLong(String lua, List<Object> keys, Object... args) {
        Long r = eval(lua, RScript.ReturnType.LONG, keys, args);
        return r == null ? 0 : r;
    }

    String evalString(String lua, List<Object> keys, Object... args) {
        return eval(lua, RScript.ReturnType.VALUE, keys, args);
    }

    List<Object> evalList(String lua, List<Object> keys, Object... args) {
        return eval(lua, RScript.ReturnType.LIST, keys, args);
    }

    /**
     * Runs a script and waits for its result without reacting to interrupts ({@link #join} keeps the interrupt
     * for the caller). Redisson's synchronous eval throws when the thread is interrupted, after the
     * script may already have run: a lock taken in Redis but not recorded here would never be renewed
     * or released by its owner. The wait is bounded by Redisson's timeout and retries.
     */
    private <R> R eval(String lua, RScript.ReturnType type, List<Object> keys, Object... args) {
        // NOTE: a closed manager's keeper is stopped: a lock taken now would never be renewed (another JVM
        // takes it one lease later), so every object refuses, as the containers do
        manager.check();
        return join(script.<R>evalAsync(RScript.Mode.READ_WRITE, lua, type, keys, args));
    }

    /**
     * How long past its deadline a timed call still waits for a reply already on its way: a loaded machine's
     * round trip, so that a call made with its deadline (nearly) spent still gets Redis's answer, and what a
     * timed call may take beyond its timeout while Redis hangs (decision 229).
     */
    static final long LATE_REPLY_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    /**
     * {@link #evalLong} for a timed call: waits for the reply until {@code deadline} plus
     * {@link #LATE_REPLY_NANOS}, then gives up and returns null. A reply that comes after that goes to
     * {@code late} (on Redisson's thread), which must undo what the script did for the caller that left
     * (decision 229). Interrupts do not end the wait (as {@link #eval}); one that comes stays set.
     */
    Long evalLongBy(long deadline, java.util.function.LongConsumer late, String lua, List<Object> keys, Object... args) {
        if (deadline == FOREVER) {
            return evalLong(lua, keys, args);
        }
        manager.check();
        java.util.concurrent.CompletableFuture<Long> f = script.<Long>evalAsync(RScript.Mode.READ_WRITE, lua,
                RScript.ReturnType.LONG, keys, args).toCompletableFuture();
        if (!within(f, deadline)) {
            f.thenAccept(r -> late.accept(r == null ? 0 : r));
            return null;
        }
        Long r = join(f);
        return r == null ? 0L : r;
    }

    /** {@link #evalLongBy} for a script that returns a list. */
    List<Object> evalListBy(long deadline, Consumer<List<Object>> late, String lua, List<Object> keys, Object... args) {
        if (deadline == FOREVER) {
            return evalList(lua, keys, args);
        }
        manager.check();
        java.util.concurrent.CompletableFuture<List<Object>> f = script.<List<Object>>evalAsync(RScript.Mode.READ_WRITE, lua,
                RScript.ReturnType.LIST, keys, args).toCompletableFuture();
        if (!within(f, deadline)) {
            f.thenAccept(late);
            return null;
        }
        return join(f);
    }

    /**
     * Runs {@code lua}, a marked try (decision 244), waiting for its reply until {@code deadline}
     * ({@link #FOREVER}: Redisson's own timeout): null if none came by then. A try that Redis may still run,
     * one unanswered by then or one whose call threw (Redisson fails it after its 2 s timeout while Redis
     * hangs, and Redis runs it once it resumes), has {@code giveBack} sent before the caller hears of it,
     * timed or not (decisions 257, 258). A try answered in time needs no give-back: the mark its grant wrote,
     * if any, goes with the object's next script ({@link SpentMarks}).
     */
    Long tryMarked(long deadline, Runnable giveBack, String lua, List<Object> keys, Object... args) {
        Long r;
        try {
            r = evalLongBy(deadline, late -> { }, lua, keys, args);
        } catch (RuntimeException noAnswer) {
            giveBack.run();
            throw noAnswer;
        }
        if (r == null) {
            // NOTE: whatever the late reply (none comes if Redisson times the try out while Redis hangs)
            giveBack.run();
        }
        return r;
    }

    /**
     * Sends a script that undoes a late grant (decision 229) without waiting: called on Redisson's thread,
     * which must not block. Its result (null if it could not be sent) goes to {@code then}.
     */
    <R> void undo(String lua, RScript.ReturnType type, List<Object> keys, Consumer<R> then, Object... args) {
        try {
            script.<R>evalAsync(RScript.Mode.READ_WRITE, lua, type, keys, args).whenComplete((r, failure) -> then.accept(r));
        } catch (RuntimeException clientShutDown) {
            then.accept(null); // the client is gone: a lock lapses with its lease
        }
    }

    /** How often, and how many times, {@link #giveBack} sends its script again while Redis does not answer. */
    static final long GIVE_BACK_RETRY_MILLIS = 1_000;
    static final int GIVE_BACK_ATTEMPTS = 300;

    /**
     * Sends {@code lua}, an idempotent give-back of a grant that may or may not have run (decision 244),
     * until Redis answers it (its answer to {@code then}, on Redisson's thread): again every {@link #GIVE_BACK_RETRY_MILLIS} while it fails (Redis hung or
     * away), at most {@link #GIVE_BACK_ATTEMPTS} times, never once this connection is closed. Never waits.
     */
    <R> void giveBack(String lua, RScript.ReturnType type, List<Object> keys, Consumer<R> then, Object... args) {
        giveBack(GIVE_BACK_ATTEMPTS, lua, type, keys, then, args);
    }

    private <R> void giveBack(int attemptsLeft, String lua, RScript.ReturnType type, List<Object> keys,
            Consumer<R> then, Object... args) {
        untilAnswered(manager, attemptsLeft, () -> script.<R>evalAsync(RScript.Mode.READ_WRITE, lua, type, keys, args), then, () -> { });
    }

    /**
     * Sends what {@code send} sends (an idempotent command of {@code manager}'s objects: a give-back, a queue
     * pop's acknowledgement) until Redis answers, as {@link #giveBack}: its answer to {@code then}, on
     * Redisson's thread; {@code unanswered} runs instead once it stops trying (attempts spent, manager
     * closed). Never waits.
     */
    static <R> void untilAnswered(RedisManager manager, java.util.function.Supplier<java.util.concurrent.CompletionStage<R>> send,
            Consumer<R> then, Runnable unanswered) {
        untilAnswered(manager, GIVE_BACK_ATTEMPTS, send, then, unanswered);
    }

    private static <R> void untilAnswered(RedisManager manager, int attemptsLeft,
            java.util.function.Supplier<java.util.concurrent.CompletionStage<R>> send, Consumer<R> then, Runnable unanswered) {
        try {
            manager.check();
            send.get().whenComplete((r, failure) -> {
                if (failure == null) {
                    then.accept(r);
                } else if (attemptsLeft > 1) {
                    java.util.concurrent.CompletableFuture.delayedExecutor(GIVE_BACK_RETRY_MILLIS, TimeUnit.MILLISECONDS)
                            .execute(() -> untilAnswered(manager, attemptsLeft - 1, send, then, unanswered));
                } else {
                    unanswered.run();
                }
            });
        } catch (RuntimeException closed) {
            // the connection closed: nothing can be sent any more
            unanswered.run();
        }
    }

    /**
     * Waits for {@code f} until {@code deadline} plus {@link #LATE_REPLY_NANOS}, interrupts kept for the
     * caller: true once it completed (in any way), false if it did not in time.
     */
    static boolean within(java.util.concurrent.Future<?> f, long deadline) {
        boolean interrupted = false;
        try {
            for (;;) {
                // NOTE: never less than the grace: a command sent with its deadline spent still gets its answer.
                // FOREVER (a saturated timeout) waits for Redisson's own timeout: the sum overflowed, and an
                // offer with Long.MAX_VALUE ns gave up at once on a queue with room
                long left = remaining(deadline);
                left = left >= FOREVER - LATE_REPLY_NANOS ? FOREVER : Math.max(0, left) + LATE_REPLY_NANOS;
                try {
                    f.get(left, TimeUnit.NANOSECONDS);
                    return true;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException failed) {
                    return true;
                } catch (java.util.concurrent.TimeoutException e) {
                    return f.isDone();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Waits for {@code f} without reacting to interrupts (see {@link #eval}); failures as Redisson's sync calls
     * throw them, naming the server: Redisson's own message often does not ("StacklessClosedChannelException").
     */
    private <R> R join(java.util.concurrent.CompletionStage<R> f) {
        try {
            return f.toCompletableFuture().join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RedisException r) {
                throw clearer(r, manager.address());
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new RedisException("Redis at " + manager.address() + " failed: " + cause, cause);
        } catch (RedisException e) {
            throw clearer(e, manager.address());
        }
    }

    /**
     * Redisson's failure with its most specific reason (for example "Connection refused: 127.0.0.1/...:6379")
     * in its message: Redisson's own often says only "Unexpected exception while processing command".
     */
    static RedisException clearer(RedisException e, String address) {
        String detail = null;
        Deque<Throwable> todo = new ArrayDeque<>(List.of(e));
        Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        while (!todo.isEmpty() && seen.size() < 20) {
            Throwable t = todo.pop();
            if (!seen.add(t)) {
                continue;
            }
            String m = t.getMessage();
            boolean wrapper = t instanceof java.util.concurrent.CompletionException;
            if (t != e && !wrapper && m != null && !m.equals(e.getMessage()) && (detail == null || m.length() > detail.length())) {
                detail = m; // the most specific reason: "Connection refused: host/ip:port" over "Connection refused"
            }
            if (t.getCause() != null) {
                todo.push(t.getCause());
            }
            for (Throwable s : t.getSuppressed()) {
                todo.push(s);
            }
        }
        return new RedisException("Redis at " + address + " failed: " + e.getMessage()
                + (detail == null ? "" : " (" + detail + ")"), e);
    }

    /**
     * Starts renewing {@code key}'s lease while {@code owner} holds it. Refused once the manager closed
     * (between the acquiring script and this): nothing would renew it, so the caller must not think it
     * holds the lock, which lapses within one lease.
     */
    void hold(String key, String owner) {
        manager.check();
        held.put(key, new Hold(owner));
    }

    /** Stops renewing {@code key} if {@code owner} is the owner this connection renews it for. */
    void drop(String key, String owner) {
        held.computeIfPresent(key, (k, h) -> h.owner.equals(owner) ? null : h);
    }

    /** Stops renewing {@code key}, whichever owner of this connection holds it. */
    void dropAll(String key) {
        held.remove(key);
    }

    /** Remembers {@code key}, derived from the object at {@code base}, to delete with it or at close. */
    void derived(String base, String key) {
        derivedKeys.compute(base, (b, mine) -> {
            Set<String> keys = mine == null ? ConcurrentHashMap.newKeySet() : mine;
            keys.add(key);
            return keys;
        });
    }

    /**
     * Forgets {@code key}, derived from {@code base}, which its caller deletes (a spent mark, decision 261); a
     * named object's entry goes with its last derived key, so that the map does not grow with every object used.
     */
    void underived(String base, String key) {
        derivedKeys.computeIfPresent(base, (b, mine) -> mine.remove(key) && mine.isEmpty() ? null : mine);
    }

    /**
     * Forgets {@code keys}, derived from {@code base} by an unnamed condition that became garbage without
     * leaving this JVM (decision 233), and deletes them if it was ever waited on: only this JVM's waiters,
     * which kept it reachable, could have written them. Nothing if {@code base} was forgotten or closed meanwhile.
     */
    void underive(String base, List<String> keys, boolean waited) {
        Set<String> mine = derivedKeys.get(base);
        if (mine == null || !mine.removeAll(keys) || !waited) {
            return;
        }
        try {
            // NOTE: async: the release thread serves every manager of this JVM and must not wait for a server
            client.getKeys().deleteAsync(keys.toArray(String[]::new));
        } catch (RuntimeException clientShutDown) {
            // the client is gone, and so is this connection: its keys went with close
        }
    }

    /** How many derived keys this connection tracks: for tests. */
    int derivedKeyCount() {
        return derivedKeys.values().stream().mapToInt(Set::size).sum();
    }

    /**
     * Forgets the unnamed object at {@code key}, whose proxies are all garbage (decision 166): its lock is
     * no longer renewed, and the keys derived from it (a lock's marker, its conditions' queues) are
     * returned for the caller to delete instead of waiting for close.
     */
    List<String> forget(String key) {
        held.remove(key);
        barriers.remove(key);
        Set<String> mine = derivedKeys.remove(key);
        return mine == null ? List.of() : new ArrayList<>(mine);
    }

    private static final String RENEW = """
            if redis.call('hget', KEYS[1], 'o') == ARGV[1] then
              redis.call('pexpire', KEYS[1], ARGV[2])
              return 1
            end
            return 0""";

    private void renewAll() {
        renewBarrierUses();
        for (Map.Entry<String, Hold> e : held.entrySet()) {
            String key = e.getKey();
            Hold hold = e.getValue();
            try {
                script.<Long>evalAsync(RScript.Mode.READ_WRITE, RENEW, RScript.ReturnType.LONG,
                        List.of(key), hold.owner, Long.toString(leaseMillis)).whenComplete((r, failure) -> {
                            if (failure == null && r != null && r == 0) {
                                held.remove(key, hold); // released elsewhere or lapsed: this hold is over
                            }
                            // a failure (Redis unreachable) keeps the entry: the next round tries again
                        });
            } catch (RuntimeException thrownAtOnce) {
                // NOTE: an exception out of this method would cancel the keeper's schedule, and with it
                // the renewal of every lease this JVM holds: the next round tries again
            }
        }
    }

    // ---- barrier users (decision 239) ----------------------------------------------------------------------

    /** The hash field of this connection's user entry in a barrier; its value is the entry's expiry (Redis's clock, ms). */
    String barrierUser() {
        return "u:" + clientId;
    }

    /** From now on the keeper renews this connection's user entry in the barrier at {@code key}. */
    void useBarrier(String key) {
        barriers.add(key);
    }

    // NOTE: only an entry that is there: a renewal sent just before leaveBarriers may reach Redis after its
    // HDEL (another connection of the pool), and must not bring back an entry that would then lapse and be
    // taken for a death; nor make a deleted barrier again. An entry removed as lapsed comes back with the
    // JVM's next arrival.
    private static final String RENEW_USER = Lua.NOW_MS + """
            if redis.call('hexists', KEYS[1], ARGV[1]) == 1 then
              redis.call('hset', KEYS[1], ARGV[1], now + tonumber(ARGV[2]))
            end
            return 1""";

    private void renewBarrierUses() {
        for (String key : barriers) {
            try {
                script.evalAsync(RScript.Mode.READ_WRITE, RENEW_USER, RScript.ReturnType.LONG, List.of(key),
                        barrierUser(), Long.toString(leaseMillis));
            } catch (RuntimeException thrownAtOnce) {
                // NOTE: as renewAll's: the next round tries again
            }
        }
    }

    /**
     * Removes this connection's user entries (a normal end is no death) and stops renewing them; waits at
     * most a second in all: a server that is down must not hold up close or the JVM's exit (the entries
     * then lapse, and the barriers' other parties take this JVM for dead).
     */
    private void leaveBarriers() {
        LIVE.remove(this);
        List<java.util.concurrent.CompletableFuture<?>> sent = new ArrayList<>();
        for (String key : barriers) {
            try {
                sent.add(script.evalAsync(RScript.Mode.READ_WRITE, "return redis.call('hdel', KEYS[1], ARGV[1])",
                        RScript.ReturnType.LONG, List.of(key), barrierUser()).toCompletableFuture());
            } catch (RuntimeException clientShutDown) {
                break; // the client is gone: the entries lapse
            }
        }
        barriers.clear();
        try {
            java.util.concurrent.CompletableFuture.allOf(sent.toArray(java.util.concurrent.CompletableFuture[]::new))
                    .get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // the entries that did not go lapse with their lease
        }
    }

    /** At a normal JVM exit or a child's task end, before the clients shut down: every connection leaves its barriers. */
    static void leaveAllBarriers() {
        for (RedisSync s : LIVE) {
            s.leaveBarriers();
        }
    }

    /** The wake-up of {@code channel}, subscribed on first use (this call waits for the subscription). */
    Wake wake(String channel) {
        return wake(channel, FOREVER);
    }

    /**
     * {@link #wake(String)} for a timed call: null if the subscription was not made by {@code deadline} plus
     * {@link #LATE_REPLY_NANOS} (Redis hangs); it stays pending, for this channel's next waiter.
     */
    Wake wake(String channel, long deadline) {
        manager.check();
        Wake w = wakes.get(channel);
        if (w == null || !w.use()) {
            synchronized (wakes) {
                w = wakes.get(channel);
                if (w == null || !w.use()) {
                    w = subscribe(channel);
                }
            }
        }
        // NOTE: waited for outside the wakes' monitor: a hung subscription must not hold up other channels
        if (deadline == FOREVER || within(w.subscribed, deadline)) {
            join(w.subscribed);
            return w;
        }
        return null;
    }

    /** A fresh wake of {@code channel}, in {@link #wakes} until its subscription fails; under wakes' monitor. */
    private Wake subscribe(String channel) {
        Wake fresh = new Wake();
        RTopic topic = client.getTopic(channel, StringCodec.INSTANCE);
        // NOTE: async, as eval: the synchronous subscribe throws for an interrupted thread
        fresh.subscribed = topic.addListenerAsync(String.class, (ch, msg) -> fresh.bump()).toCompletableFuture();
        wakes.put(channel, fresh);
        fresh.subscribed.whenComplete((listener, failure) -> {
            synchronized (wakes) {
                if (failure != null) {
                    wakes.remove(channel, fresh); // the next waiter subscribes again
                } else if (wakes.get(channel) == fresh) {
                    listeners.put(channel, listener);
                } else {
                    // closed or swept while the subscription was pending
                    topic.removeListenerAsync(listener);
                }
            }
        });
        return fresh;
    }

    /**
     * Stops the keeper, ends this connection's subscriptions and deletes the keys derived from unnamed
     * objects. The client is shared with the other managers of this JVM on the same configuration, so a
     * subscription left here stayed on the server (and its listener in this JVM) as long as any of them.
     */
    void close() {
        stopKeeper();
        synchronized (wakes) {
            for (Map.Entry<String, Integer> e : listeners.entrySet()) {
                try {
                    // NOTE: not joined: a server that is down must not hold up close; Redisson unsubscribes
                    // once the channel has no listener left
                    client.getTopic(e.getKey(), StringCodec.INSTANCE).removeListenerAsync(e.getValue());
                } catch (RuntimeException clientShutDown) {
                    // the shared client is already gone: so are its subscriptions
                }
            }
            listeners.clear();
            wakes.clear();
        }
        List<String> keys = new ArrayList<>();
        derivedKeys.values().forEach(keys::addAll);
        if (!keys.isEmpty()) {
            client.getKeys().delete(keys.toArray(String[]::new));
        }
    }

    /**
     * A local generation counter per channel, bumped by each message. Waiters read it before trying, so a
     * message between their try and their wait is not missed.
     */
    static final class Wake {
        // guarded by this object's monitor; written by Redisson's pub/sub thread, read by waiters
        private long generation;
        /** When a waiter last used it (guarded by this object's monitor). */
        private long lastUsed = System.nanoTime();
        /** Unsubscribed by the idle sweep: never bumped again (guarded by this object's monitor). */
        private boolean retired;
        /** Completes with the Redisson listener id once the channel is subscribed. */
        private java.util.concurrent.CompletableFuture<Integer> subscribed;

        /** Marks it used now; false if the sweep has retired it (the caller subscribes anew). */
        synchronized boolean use() {
            lastUsed = System.nanoTime();
            return !retired;
        }

        /** Retires it if nobody used it for {@code idleNanos}: true if it was retired now. */
        synchronized boolean retireIfIdle(long now, long idleNanos) {
            if (now - lastUsed < idleNanos) {
                return false;
            }
            retired = true;
            return true;
        }

        synchronized long generation() {
            lastUsed = System.nanoTime();
            return generation;
        }

        synchronized void bump() {
            generation++;
            notifyAll();
        }

        /** Waits until the generation differs from {@code seen} or {@code nanos} pass. */
        synchronized void awaitChange(long seen, long nanos) throws InterruptedException {
            long deadline = System.nanoTime() + nanos;
            long left = nanos;
            while (generation == seen && left > 0) {
                TimeUnit.NANOSECONDS.timedWait(this, left);
                left = deadline - System.nanoTime();
            }
        }

        /** {@link #awaitChange} that keeps waiting through interrupts; true if one came (to re-assert it). */
        boolean awaitChangeUninterruptibly(long seen, long nanos) {
            long deadline = System.nanoTime() + nanos;
            boolean interrupted = false;
            for (;;) {
                try {
                    awaitChange(seen, Math.max(0, deadline - System.nanoTime()));
                    return interrupted;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
    }

    /**
     * The plain wait of events, semaphores and bounded queues' timed offers: tries {@code attempt} until it returns true (then true) or
     * {@code deadline} passes (then false), woken by messages on {@code channel} or every
     * {@link #POLL_CAP_NANOS}.
     */
    boolean awaitUntil(String channel, long deadline, Attempt attempt) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Wake wake = wake(channel, deadline);
        if (wake == null) {
            return false; // Redis did not answer in time
        }
        for (;;) {
            long seen = wake.generation();
            Boolean done = attempt.tryBy(deadline);
            if (done == null) {
                return false;
            }
            if (done) {
                return true;
            }
            long left = remaining(deadline);
            if (left <= 0) {
                return false;
            }
            wake.awaitChange(seen, Math.min(left, POLL_CAP_NANOS));
        }
    }

    /** One try of {@link #awaitUntil}: true done, false not yet, null Redis did not answer by the deadline. */
    @FunctionalInterface
    interface Attempt {
        Boolean tryBy(long deadline);
    }

    /** A timed variant's timeout in nanoseconds; NullPointerException or IllegalArgumentException naming it. */
    static long timeoutNanos(java.time.Duration timeout) {
        return io.multiproc.wait.Waiting.nanos(timeout);
    }

    /** Deadline arithmetic shared by every wait: FOREVER is Long.MAX_VALUE. */
    static final long FOREVER = Long.MAX_VALUE;

    static long deadline(long nanos) {
        long now = System.nanoTime();
        long d = now + nanos;
        return nanos == FOREVER || d < now ? FOREVER : d; // d < now: the sum overflowed
    }

    static long remaining(long deadline) {
        return deadline == FOREVER ? FOREVER : deadline - System.nanoTime();
    }
}
