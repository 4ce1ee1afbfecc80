package io.multiproc.redis;

import io.multiproc.codec.HandleSource;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * A lock on Redis shared by every JVM connected to the same server: {@link RedisManager#lock()} (Python's
 * {@code Lock}: not reentrant, any thread of any JVM may unlock) or {@link RedisManager#rlock()} (reentrant,
 * only the holding thread may unlock).
 *
 * <pre>{@code
 * RedisManager m = (RedisManager) RedisManager.connect("redis://10.0.0.5:6379");
 * RedisLock lock = m.lock("ledger");             // the same lock on every host that names it
 * if (lock.tryLock(Duration.ofSeconds(2))) {
 *     try {
 *         if (lock.previousOwnerDied()) { repair(); }
 *         work();
 *     } finally { lock.unlock(); }
 * }
 * }</pre>
 *
 * <p>Dead holders: a held lock is a lease that its JVM renews every third of {@link #leaseTime()}
 * (Redisson's {@code lockWatchdogTimeout}; 5 s by default through {@link RedisManager#connect(String)}).
 * When the holder's JVM dies (or loses Redis for longer than the lease) the lock becomes free within one
 * lease, and the next acquirer's {@link #previousOwnerDied()} is true. Redis is one master with
 * asynchronous replication: after a failover a lock may be held twice; this is not a consensus lock.
 *
 * <p>Implementation overview. Key {@code K} is a hash {o: owner token, n: hold count} with a TTL (the
 * lease); key {@code K:held} (no TTL) holds the owner token from acquisition until a clean release deletes
 * it with {@code K} in one script. An acquisition that finds {@code K} absent but {@code K:held} present
 * knows the previous holder's lease lapsed without a release: its owner died. Owner tokens: connection id
 * + thread id (reentrant) or connection id + a fresh number per acquisition (Python's lock, so two threads
 * of one JVM exclude each other). A release publishes on channel {@code K}; waiters also re-try after the
 * remaining lease or {@link RedisSync#POLL_CAP_NANOS}, whichever comes first.
 */
public final class RedisLock implements Lock, HandleSource, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;


    // Lua, the start of RELEASE and GIVE_BACK: o, the holder; 'U' if none.
    private static final String HOLDER_LUA = """
            local o = redis.call('hget', KEYS[1], 'o')
            if not o then return 'U' end
            """;

    // Lua, the end of RELEASE and GIVE_BACK: the lock and its marker go, and its waiters are told.
    private static final String FREE_LUA = """
            redis.call('del', KEYS[1], KEYS[2])
            redis.call('publish', ARGV[3], 'u')
            return 'F' .. o""";

    // KEYS: lock, marker. ARGV: owner, lease ms, reentrant 1/0, initial hold count.
    // Returns -1 acquired, -2 acquired after a holder whose lease lapsed, 0 re-entered, > 0 ms left on the lease.
    private static final String ACQUIRE = """
            local o = redis.call('hget', KEYS[1], 'o')
            if not o then
              redis.call('hset', KEYS[1], 'o', ARGV[1], 'n', ARGV[4])
              redis.call('pexpire', KEYS[1], ARGV[2])
              if redis.call('getset', KEYS[2], ARGV[1]) then return -2 end
              return -1
            end
            if ARGV[3] == '1' and o == ARGV[1] then
              redis.call('hincrby', KEYS[1], 'n', ARGV[4])
              redis.call('pexpire', KEYS[1], ARGV[2])
              return 0
            end
            local t = redis.call('pttl', KEYS[1])
            if t < 1 then return 1 end
            return t""";

    // KEYS: lock, marker, a spent mark to delete if any (SpentMarks). ARGV: owner ('' = any holder), lease
    // ms, channel, '1' = release every hold.
    // Returns 'U' not locked, 'O' held by another owner, 'R' still held (count > 0), 'F<owner>' freed.
    private static final String RELEASE = "if KEYS[3] then redis.call('del', KEYS[3]) end\n" + HOLDER_LUA + """
            if ARGV[1] ~= '' and o ~= ARGV[1] then return 'O' end
            if ARGV[4] ~= '1' and redis.call('hincrby', KEYS[1], 'n', -1) > 0 then
              redis.call('pexpire', KEYS[1], ARGV[2])
              return 'R'
            end
            """ + FREE_LUA;

    // Every try (decision 244; untimed ones too, decisions 253, 258): ACQUIRE, but marked. KEYS[3] is the
    // try's own key: a try that finds it grants nothing (its caller gave up first: answers as a lock held for
    // 1 ms more). A reentrant lock's grant writes it ('granted', ARGV[5] ms) so that the give-back knows it
    // ran: its owner token is the thread's, so holding the lock does not tell. Python's lock writes nothing
    // (decision 258): its owner token is new per try, and holding the lock is the proof. Redis may run the try
    // after Redisson failed it (response timeout, Redis hung past it): then no late reply comes, and the
    // give-back is what undoes it. KEYS[4], if any, is a spent mark (SpentMarks), deleted here.
    private static final String ACQUIRE_MARKED = "if KEYS[4] then redis.call('del', KEYS[4]) end "
            + "if redis.call('exists', KEYS[3]) == 1 then return 1 end "
            + "local r = (function() " + ACQUIRE + " end)() "
            + "if r <= 0 and ARGV[3] == '1' then redis.call('set', KEYS[3], 'granted', 'PX', ARGV[5]) end return r";

    // The give-back of a try whose caller left or whose call threw (KEYS and ARGV as ACQUIRE_MARKED's,
    // ARGV[3] the channel, ARGV[6] reentrant 1/0): if the try granted, the holds it added (ARGV[4], a
    // condition's reacquire adds them all at once) go, so an owner's own holds taken meanwhile stay; the try
    // is marked gone either way. Returns RELEASE's answers, or 'N' if the try granted nothing. Idempotent:
    // sent again until answered (a Python lock freed by the first is held by another owner or none).
    private static final String GIVE_BACK = """
            local granted = ARGV[6] == '0' or redis.call('get', KEYS[3]) == 'granted'
            redis.call('set', KEYS[3], 'gone', 'PX', ARGV[5])
            if not granted then return 'N' end
            """ + HOLDER_LUA + """
            if o ~= ARGV[1] then return 'O' end
            if redis.call('hincrby', KEYS[1], 'n', -tonumber(ARGV[4])) > 0 then
              redis.call('pexpire', KEYS[1], ARGV[2])
              return 'R'
            end
            """ + FREE_LUA;

    /** How long a try's mark lives: past its give-back, sent again every second until Redis answers. */
    private static final String MARK_MILLIS = Long.toString(TimeUnit.MINUTES.toMillis(2));

    private final transient RedisSync sync;
    private final transient String name;
    private final transient String key;
    private final transient String marker;
    private final transient boolean reentrant;
    private final transient List<Object> keys;
    /** Granted tries' marks, deleted by a later script (decision 261). */
    private final transient SpentMarks spentMarks;
    /** Set by the acquiring thread of this JVM, read and cleared by previousOwnerDied(). */
    private transient volatile boolean tookOver;

    RedisLock(RedisSync sync, String name, String key, boolean reentrant, boolean unnamed) {
        this.sync = sync;
        this.name = name;
        this.key = key;
        this.marker = key + ":held";
        this.reentrant = reentrant;
        this.keys = List.of(key, marker);
        this.spentMarks = new SpentMarks(sync, key);
        if (unnamed) {
            sync.derived(key, marker);
        }
    }

    /** The name other JVMs use to find this lock ({@code RedisManager.lock(name)}). */
    public String name() {
        return name;
    }

    /** True for {@link RedisManager#rlock()}'s locks. */
    public boolean isReentrant() {
        return reentrant;
    }

    /** How long the lock stays held after its holder's JVM stops renewing it. */
    public Duration leaseTime() {
        return Duration.ofMillis(sync.leaseMillis());
    }

    @Override
    public void lock() {
        try {
            acquire(RedisSync.FOREVER, RedisSync.FOREVER, false, 1);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        acquire(RedisSync.FOREVER, RedisSync.FOREVER, true, 1);
    }

    /** Takes the lock if it is free; one round trip, never waits. */
    @Override
    public boolean tryLock() {
        return tryOnceBy(RedisSync.FOREVER, ownerForAcquire(), 1) <= 0;
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (time <= 0) {
            return tryLock();
        }
        long deadline = RedisSync.deadline(unit.toNanos(time));
        return acquire(deadline, deadline, true, 1);
    }

    /** {@link #tryLock(long, TimeUnit)} with a Duration; a negative timeout throws. */
    public boolean tryLock(Duration timeout) throws InterruptedException {
        return tryLock(RedisSync.timeoutNanos(timeout), TimeUnit.NANOSECONDS);
    }

    /**
     * Releases one hold. Python's lock: whoever holds it; IllegalMonitorStateException if it is not locked.
     * Reentrant lock: IllegalMonitorStateException unless the calling thread holds it.
     */
    @Override
    public void unlock() {
        release(false);
    }

    /** True while some thread of some JVM holds the lock. */
    public boolean isLocked() {
        return sync.evalLong("return redis.call('exists', KEYS[1])", List.of(key)) == 1;
    }

    /** True if the calling thread holds this reentrant lock (always false for Python's lock). */
    public boolean isHeldByCurrentThread() {
        return reentrant && sync.threadToken().equals(sync.evalString("return redis.call('hget', KEYS[1], 'o')", List.of(key)));
    }

    /**
     * True once after this object's latest acquisition found that the previous holder's lease lapsed
     * without a release (its JVM died, or lost Redis for longer than the lease): whatever it guarded may be
     * half-updated. Reading it clears it.
     */
    public boolean previousOwnerDied() {
        if (tookOver) {
            tookOver = false;
            return true;
        }
        return false;
    }

    /**
     * A new unnamed condition on this lock, as {@link RedisManager#condition(Lock)} makes (its keys go when
     * the connection closes, or when it is garbage if it never travelled to another JVM: decision 233);
     * other JVMs find a condition by name: {@link RedisManager#condition(String, Lock)}.
     */
    @Override
    public RedisCondition newCondition() {
        return new RedisCondition(sync, this, java.util.UUID.randomUUID().toString(), true);
    }

    @Override
    public String toString() {
        return (reentrant ? "RedisRLock" : "RedisLock") + "[" + name + "]";
    }

    // ---- package-private: RedisCondition ----------------------------------------------------------------

    String key() {
        return key;
    }

    String marker() {
        return marker;
    }

    /** The owner argument of scripts that must check the holder: the thread's token, or '' for Python's lock. */
    String ownerCheck() {
        return reentrant ? sync.threadToken() : "";
    }

    /**
     * Takes the lock back with {@code holds} holds after a condition wait, whatever interrupts come; false
     * if Redis did not answer one of its calls by {@code answerBy} (and its grace): then it is not held.
     */
    boolean reacquire(int holds, long answerBy) {
        boolean interrupted = false;
        for (;;) {
            try {
                if (!acquire(RedisSync.FOREVER, answerBy, false, holds)) {
                    return false;
                }
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    /** Stops renewing this lock, whoever of this connection holds it: a condition's release may run late. */
    void abandon() {
        sync.dropAll(key);
    }

    /** Called when a condition's script released the lock that {@code owner} held. */
    void releasedBy(String owner) {
        sync.drop(key, owner);
    }

    // ---- acquire and release ----------------------------------------------------------------------------

    private String ownerForAcquire() {
        return reentrant ? sync.threadToken() : sync.newToken();
    }

    /** The lock's keys and a fresh mark for one try (decision 244). */
    private List<Object> markedKeys() {
        return List.of(keys.get(0), keys.get(1), key + ":try:" + sync.newToken());
    }

    /**
     * Sends the give-back of the try marked by {@code marked} until Redis answers (decision 244). A freed
     * lock's entry in the keeper is not dropped here: the answer may come after the same thread took the
     * lock again (same owner token), and the keeper drops a stale entry at its next renewal (decision 254).
     */
    private void giveBack(List<Object> marked, String owner, String lease, int holds) {
        sync.<String>giveBack(GIVE_BACK, org.redisson.api.RScript.ReturnType.VALUE, marked, released -> {
            if ("R".equals(released)) {
                try {
                    sync.hold(key, owner); // the thread re-entered meanwhile: it holds the lock
                } catch (IllegalStateException closed) {
                    // nothing renews it now: it lapses with its lease
                }
            }
        }, owner, lease, key, Integer.toString(holds), MARK_MILLIS, reentrant ? "1" : "0");
    }

    /**
     * One try: <= 0 acquired (or re-entered), > 0 the milliseconds left on the holder's lease; null if Redis
     * did not answer by {@code deadline} (and its grace). Every try is marked, the untimed ones too, of
     * both kinds of lock (decisions 253, 258): when Redis did not answer in time or the call threw, the try is
     * given back (decision 244), whatever its late reply (none if Redisson timed it out while Redis hung): the
     * {@code holds} it granted, if it ran, so a reentrant owner's own holds taken meanwhile stay (and are
     * renewed), and nothing if it runs after the give-back.
     */
    private Long tryOnceBy(long deadline, String owner, int holds) {
        // NOTE: a try whose reply Redisson failed (Redis hung past 2 s) may still run: a reentrant thread's
        // next lock() was then a re-entry that nothing renewed, and a Python lock stayed held by nobody
        String lease = Long.toString(sync.leaseMillis());
        List<Object> marked = markedKeys();
        List<Object> tried = spentMarks.with(marked);
        Long r = sync.tryMarked(deadline, () -> giveBack(marked, owner, lease, holds), ACQUIRE_MARKED,
                tried, owner, lease, reentrant ? "1" : "0", Integer.toString(holds), MARK_MILLIS);
        if (reentrant && r != null && r <= 0) {
            // NOTE: only a reentrant grant wrote its mark; a Python lock's try leaves none (decision 258)
            spentMarks.offer((String) marked.get(2));
        }
        if (r != null && r < 0) {
            sync.hold(key, owner);
            tookOver = r == -2;
        }
        return r;
    }

    /**
     * Waits for the lock until {@code deadline}; false then, or once Redis did not answer a call by
     * {@code answerBy} (and its grace).
     */
    private boolean acquire(long deadline, long answerBy, boolean interruptible, int holds) throws InterruptedException {
        String owner = ownerForAcquire();
        RedisSync.Wake wake = sync.wake(key, answerBy);
        if (wake == null) {
            return false; // Redis did not answer in time
        }
        boolean interrupted = false;
        try {
            for (;;) {
                long seen = wake.generation();
                Long answer = tryOnceBy(answerBy, owner, holds);
                if (answer == null) {
                    return false;
                }
                long leaseLeft = answer;
                if (leaseLeft <= 0) {
                    return true;
                }
                long left = RedisSync.remaining(deadline);
                if (left <= 0) {
                    return false;
                }
                long nap = Math.min(Math.min(left, RedisSync.POLL_CAP_NANOS), TimeUnit.MILLISECONDS.toNanos(leaseLeft));
                if (interruptible) {
                    wake.awaitChange(seen, nap);
                } else {
                    interrupted |= wake.awaitChangeUninterruptibly(seen, nap);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void release(boolean all) {
        String owner = reentrant ? sync.threadToken() : "";
        String r = sync.evalString(RELEASE, spentMarks.with(keys), owner, Long.toString(sync.leaseMillis()), key,
                all ? "1" : "0");
        switch (r.charAt(0)) {
            case 'U' -> throw new IllegalMonitorStateException(this + " is not locked");
            case 'O' -> throw new IllegalMonitorStateException(this + " is not held by this thread");
            case 'F' -> sync.drop(key, r.substring(1));
            default -> {
                // still held by this thread (reentrant hold count > 0)
            }
        }
    }

    /**
     * Captured by a child's task or sent through a queue, this object re-attaches in the receiving JVM to
     * the same Redis object (decision 122).
     */
    @Serial
    Object writeReplace() {
        return sync.handle(this, reentrant ? RedisSync.RLOCK : RedisSync.LOCK, key, name, 0, null);
    }

}
