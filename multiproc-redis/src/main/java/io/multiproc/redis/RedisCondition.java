package io.multiproc.redis;

import io.multiproc.codec.HandleSource;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * A condition over a {@link RedisLock}, shared by every JVM that names the same lock and condition
 * ({@link RedisManager#condition(String, java.util.concurrent.locks.Lock)}): Python's {@code Condition}.
 *
 * <pre>{@code
 * RedisLock lock = m.lock("jobs");
 * Condition ready = m.condition("ready", lock);
 * lock.lock();
 * try { while (!done()) ready.await(1, TimeUnit.SECONDS); } finally { lock.unlock(); }
 * }</pre>
 *
 * <p>Implementation overview. The keys share the lock's hash tag: {@code K:c:<name>:q}, a list of waiter
 * tokens in arrival order, and {@code K:c:<name>:s}, a hash of signalled tokens. {@code await} appends its
 * token and releases the lock in ONE script (so no signal falls between the two), then waits until its
 * token appears in the signalled hash (HDEL returns 1), woken by a message on the queue's channel or by
 * polling. {@code signal} pops the oldest token and marks it signalled, in one script that also checks the
 * lock is held. A timed-out waiter removes its token; if it was already popped, the signal is consumed and
 * reported as a wake-up. A waiter whose token Redis lost (a restart without persistence) wakes up as
 * Condition's spurious wake-ups do.
 *
 * <p>Dead waiters: {@code K:c:<name>:a} maps each waiter token to the time (Redis's clock, ms) until
 * which its JVM is known alive; the waiter's every poll (at least every 500 ms) moves it one lease
 * ahead (the manager's lock lease, at least 2 s). {@code signal} passes over queued tokens whose time
 * has run out, dropping them; a poll passes a signal given to a token whose time has run out (its
 * waiter died before it took the signal) to the oldest live queued waiter. A waiter stalled for longer
 * than a lease (a long GC pause) may so lose its place: it wakes as a spurious wake-up does.
 */
public final class RedisCondition implements Condition, HandleSource, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;


    // KEYS: lock, marker, queue, alive. ARGV: owner check ('' = any holder), lock channel, waiter token, lease ms.
    // Returns the hold count released, -1 if not locked, -2 if held by another owner. Also returns the owner
    // and the waiter's queue entry: its token, '@', the time it was queued.
    private static final String ENQUEUE_AND_RELEASE = Lua.NOW_MS + """
            local o = redis.call('hget', KEYS[1], 'o')
            if not o then return {-1, ''} end
            if ARGV[1] ~= '' and o ~= ARGV[1] then return {-2, ''} end
            local n = tonumber(redis.call('hget', KEYS[1], 'n'))
            local entry = ARGV[3] .. '@' .. now
            redis.call('rpush', KEYS[3], entry)
            redis.call('hset', KEYS[4], entry, now + tonumber(ARGV[4]))
            redis.call('del', KEYS[1], KEYS[2])
            redis.call('publish', ARGV[2], 'u')
            return {n, o, entry}""";

    // KEYS: lock, queue, signalled, alive. ARGV: owner check, '1' = all, queue channel. Returns waiters woken,
    // -1 not held. A token whose alive time ran out is dropped, not signalled (no entry: taken as alive);
    // a signalled one holds the signal's time.
    private static final String SIGNAL = Lua.NOW_MS + """
            local o = redis.call('hget', KEYS[1], 'o')
            if not o or (ARGV[1] ~= '' and o ~= ARGV[1]) then return -1 end
            local n = 0
            repeat
              local id = redis.call('lpop', KEYS[2])
              if not id then break end
              local alive = tonumber(redis.call('hget', KEYS[4], id))
              if alive and alive < now then
                redis.call('hdel', KEYS[4], id)
              else
                redis.call('hset', KEYS[3], id, now)
                n = n + 1
              end
            until n > 0 and ARGV[2] ~= '1'
            if n > 0 then redis.call('publish', ARGV[3], 'w') end
            return n""";

    // KEYS: queue, signalled, alive. ARGV: waiter token. Returns 1 if it had been signalled (consumed), 0 if it
    // left the queue.
    private static final String LEAVE = """
            redis.call('hdel', KEYS[3], ARGV[1])
            if redis.call('lrem', KEYS[1], 0, ARGV[1]) > 0 then return 0 end
            return redis.call('hdel', KEYS[2], ARGV[1])""";

    // KEYS: signalled, queue, alive. ARGV: waiter entry, lease ms, queue channel. Returns 1 signalled
    // (consumed), 2 lost, 0 still queued. First passes each signal whose waiter's alive time ran out to the
    // oldest live queued waiter (dropping dead ones on the way), if that one was queued when the signal was
    // given (else no waiter of that time is left: the signal goes). Lost: the token is neither queued nor
    // signalled, which Redis losing its data (a restart without persistence) or this waiter's own alive
    // time running out (a stall longer than a lease) makes; no signal could ever reach it, so the waiter
    // wakes as a spurious wake-up.
    private static final String POLL = Lua.NOW_MS + """
            local passed = 0
            for _, id in ipairs(redis.call('hkeys', KEYS[1])) do
              local alive = tonumber(redis.call('hget', KEYS[3], id))
              if id ~= ARGV[1] and alive and alive < now then
                local at = tonumber(redis.call('hget', KEYS[1], id)) or 0
                redis.call('hdel', KEYS[1], id)
                redis.call('hdel', KEYS[3], id)
                repeat
                  local nx = redis.call('lindex', KEYS[2], 0)
                  if not nx then break end
                  local a = tonumber(redis.call('hget', KEYS[3], nx))
                  if a and a < now then
                    redis.call('lpop', KEYS[2])
                    redis.call('hdel', KEYS[3], nx)
                  else
                    local queued = tonumber(string.match(nx, '@(%d+)$'))
                    if not queued or queued <= at then
                      redis.call('lpop', KEYS[2])
                      redis.call('hset', KEYS[1], nx, at)
                      passed = passed + 1
                    end
                    break
                  end
                until false
              end
            end
            if passed > 0 then redis.call('publish', ARGV[3], 'w') end
            if redis.call('hdel', KEYS[1], ARGV[1]) == 1 then redis.call('hdel', KEYS[3], ARGV[1]) return 1 end
            if not redis.call('lpos', KEYS[2], ARGV[1]) then redis.call('hdel', KEYS[3], ARGV[1]) return 2 end
            redis.call('hset', KEYS[3], ARGV[1], now + tonumber(ARGV[2]))
            return 0""";

    /** A waiter polls at least every {@link RedisSync#POLL_CAP_NANOS} (500 ms): a lease of 4 polls at least. */
    private static final long MIN_LEASE_MILLIS = 2_000;

    private final transient RedisSync sync;
    private final transient RedisLock lock;
    private final transient String name;
    private final transient String queue;
    private final transient String signalled;
    private final transient String alive;
    /** What the release of an unnamed condition needs to know (decision 233); null for a named one. */
    private final transient Unnamed unnamed;

    RedisCondition(RedisSync sync, RedisLock lock, String name, boolean unnamed) {
        this.sync = sync;
        this.lock = lock;
        this.name = name;
        this.queue = lock.key() + ":c:" + name + ":q";
        this.signalled = lock.key() + ":c:" + name + ":s";
        this.alive = lock.key() + ":c:" + name + ":a";
        this.unnamed = unnamed ? new Unnamed() : null;
        if (unnamed) {
            List<String> keys = List.of(queue, signalled, alive);
            String base = lock.key();
            keys.forEach(k -> sync.derived(base, k));
            Unnamed u = this.unnamed;
            // NOTE: the action must not reach this object
            RedisManager.RELEASES.register(this, () -> {
                if (!u.traveled) {
                    sync.underive(base, keys, u.waited);
                }
            });
        }
    }

    /**
     * An unnamed condition ({@code lock.newCondition()}) that became garbage without ever leaving this JVM
     * can be used by no one (its name is random): its keys are forgotten then, not kept until the connection
     * closes, so a condition per wait on a long-lived lock does not grow this JVM's state (decision 233).
     */
    private static final class Unnamed {
        /** Set by writeReplace: another JVM may use it now; its keys stay until close. */
        volatile boolean traveled;
        /** Set by a wait in this JVM: only then can its keys exist in Redis. */
        volatile boolean waited;
    }

    /** The lock this condition is bound to. */
    public RedisLock lock() {
        return lock;
    }

    @Override
    public void await() throws InterruptedException {
        awaitUntilDeadline(RedisSync.FOREVER, true);
    }

    @Override
    public void awaitUninterruptibly() {
        try {
            awaitUntilDeadline(RedisSync.FOREVER, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
    }

    @Override
    public long awaitNanos(long nanosTimeout) throws InterruptedException {
        long deadline = RedisSync.deadline(Math.max(0, nanosTimeout));
        boolean signalled = awaitUntilDeadline(deadline, true);
        long left = RedisSync.remaining(deadline);
        return signalled ? Math.max(1, left) : Math.min(0, left);
    }

    @Override
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        return awaitUntilDeadline(RedisSync.deadline(Math.max(0, unit.toNanos(time))), true);
    }

    /** {@link #await(long, TimeUnit)} with a Duration; a negative timeout throws. */
    public boolean await(Duration timeout) throws InterruptedException {
        return await(RedisSync.timeoutNanos(timeout), TimeUnit.NANOSECONDS);
    }

    @Override
    public boolean awaitUntil(Date deadline) throws InterruptedException {
        Objects.requireNonNull(deadline, "deadline");
        long now = System.currentTimeMillis();
        long at = deadline.getTime();
        // NOTE: at - now for a deadline long past (new Date(Long.MIN_VALUE)) overflowed into a wait for ever
        return await(at <= now ? 0 : at - now, TimeUnit.MILLISECONDS);
    }

    /** Wakes the longest waiting JVM thread, if any; the lock must be held (by this thread if reentrant). */
    @Override
    public void signal() {
        signal(false);
    }

    /** Wakes every waiter; the lock must be held (by this thread if reentrant). */
    @Override
    public void signalAll() {
        signal(true);
    }

    /** How many waiters are queued (including any that died while waiting, until a signal passes over them). */
    public int waiters() {
        return (int) sync.evalLong("return redis.call('llen', KEYS[1])", List.of(queue));
    }

    @Override
    public String toString() {
        return "RedisCondition[" + name + " on " + lock + "]";
    }

    private void signal(boolean all) {
        long r = sync.evalLong(SIGNAL, List.of(lock.key(), queue, signalled, alive), lock.ownerCheck(), all ? "1" : "0", queue);
        if (r < 0) {
            throw new IllegalMonitorStateException(lock + " is not held" + (lock.isReentrant() ? " by this thread" : "")
                    + ": signal needs it");
        }
    }

    /**
     * True if signalled, false on timeout; the lock is held again on return, also by an exception, except
     * the IllegalStateException of a timed wait whose Redis did not answer by its deadline (decision 230).
     */
    private boolean awaitUntilDeadline(long deadline, boolean interruptible) throws InterruptedException {
        if (interruptible && Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (unnamed != null && !unnamed.waited) {
            unnamed.waited = true;
        }
        RedisSync.Wake wake = sync.wake(queue, deadline);
        if (wake == null) {
            throw noAnswer("the lock is still held"); // nothing was sent
        }
        String lease = Long.toString(Math.max(sync.leaseMillis(), MIN_LEASE_MILLIS));
        List<Object> keys = List.of(lock.key(), lock.marker(), queue, alive);
        List<Object> released = sync.evalListBy(deadline, late -> {
            if (((Number) late.get(0)).longValue() >= 0) {
                // queued and released after this call gave up: it waits no more
                sync.undo(LEAVE, org.redisson.api.RScript.ReturnType.LONG, List.of(queue, signalled, alive), r -> { }, late.get(2));
            }
        }, ENQUEUE_AND_RELEASE, keys, lock.ownerCheck(), lock.key(), sync.newToken(), lease);
        if (released == null) {
            // NOTE: Redis may still run the release: the caller must not think it holds the lock, and this JVM
            // must not renew it, so that a release that never runs ends with the lease
            lock.abandon();
            throw noAnswer("the lock is not held");
        }
        long holds = ((Number) released.get(0)).longValue();
        if (holds < 0) {
            throw new IllegalMonitorStateException(lock + " is not held" + (lock.isReentrant() ? " by this thread" : "")
                    + ": await needs it");
        }
        lock.releasedBy((String) released.get(1));
        String token = (String) released.get(2);
        boolean interrupted = false;
        boolean unanswered = false;
        try {
            for (;;) {
                long seen = wake.generation();
                Long polled = sync.evalLongBy(deadline, late -> { }, POLL, List.of(signalled, queue, alive), token, lease, queue);
                if (polled == null) {
                    unanswered = true;
                    sync.undo(LEAVE, org.redisson.api.RScript.ReturnType.LONG, List.of(queue, signalled, alive), r -> { }, token);
                    return false;
                }
                if (polled != 0) {
                    return true; // signalled, or its place was lost with Redis's data (spurious wake-up)
                }
                long left = RedisSync.remaining(deadline);
                if (left <= 0) {
                    Long left1 = sync.evalLongBy(deadline, late -> { }, LEAVE, List.of(queue, signalled, alive), token);
                    unanswered = left1 == null;
                    return left1 != null && left1 == 1; // not answered: the leave is sent, it runs when Redis does
                }
                long nap = Math.min(left, RedisSync.POLL_CAP_NANOS);
                if (interruptible) {
                    try {
                        wake.awaitChange(seen, nap);
                    } catch (InterruptedException e) {
                        Long gone = sync.evalLongBy(deadline, late -> { }, LEAVE, List.of(queue, signalled, alive), token);
                        unanswered = gone == null;
                        if (gone != null && gone == 1) {
                            // signalled before the interrupt: keep the signal, report the interrupt by its flag
                            interrupted = true;
                            return true;
                        }
                        throw e;
                    }
                } else {
                    interrupted |= wake.awaitChangeUninterruptibly(seen, nap);
                }
            }
        } finally {
            // NOTE: the lock is waited for as long as it takes while Redis answers, as j.u.c's conditions do;
            // a call Redis does not answer by the deadline (or in its grace, once it passed) ends it (decision 230)
            // (not tried once a call went unanswered: that took the grace already)
            boolean held = !unanswered && lock.reacquire((int) holds, deadline);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (!held) {
                throw noAnswer("the lock is not held");
            }
        }
    }

    /** A timed wait's failure while Redis does not answer (decision 230), saying whether the lock is held. */
    private IllegalStateException noAnswer(String held) {
        return new IllegalStateException(this + ": Redis at " + sync.address() + " did not answer by the deadline; " + held);
    }

    /**
     * Captured by a child's task or sent through a queue, this object re-attaches in the receiving JVM to
     * the same Redis object (decision 122).
     */
    @Serial
    Object writeReplace() {
        if (unnamed != null) {
            unnamed.traveled = true;
        }
        return sync.handle(this, RedisSync.CONDITION, lock.key(), name, 0, lock);
    }

}
