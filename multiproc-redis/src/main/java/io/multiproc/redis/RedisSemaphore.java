package io.multiproc.redis;

import io.multiproc.codec.HandleSource;

import io.multiproc.manager.SemaphoreProxy;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * A counting semaphore on Redis ({@link RedisManager#semaphore(String, int)}), shared by every JVM that
 * names it: Python's {@code Semaphore}.
 *
 * <pre>{@code
 * SemaphoreProxy slots = m.semaphore("gpu", 2);   // created with 2 permits unless it exists
 * if (slots.tryAcquire(Duration.ofSeconds(1))) { try { work(); } finally { slots.release(); } }
 * }</pre>
 *
 * <p>Permits are counts, not owned (as Python's semaphore and the local one): any JVM may release, and a
 * JVM that dies holding permits loses them for good. Where a dead holder's slot must come back, use a
 * {@link RedisLock} per slot (its lease frees it), or Redisson's {@code RPermitExpirableSemaphore} through
 * {@link RedisManager#redisson()}.
 *
 * <p>Implementation overview: key {@code K} holds the count (made again with the initial permits if Redis
 * lost it, e.g. restarted without persistence). Acquire decrements it if positive, release
 * increments it and publishes on channel {@code K}, each in one script; waiters wait as the locks' do
 * (a message or {@link RedisSync#POLL_CAP_NANOS}, then try again), so a wait ends when Redis is gone.
 * Not Redisson's {@code RSemaphore}: its waits do not end while the server is down.
 */
public final class RedisSemaphore implements SemaphoreProxy, HandleSource, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;


    // The count key exists from the constructor on (SETNX, "0" included), so a missing key means Redis lost
    // it (a restart without persistence, destroy()): it is made again with the initial permits (ARGV[1]),
    // as a lost lock is free. Treated as 0, every acquire waited for ever.
    private static final String ACQUIRE = """
            local v = redis.call('get', KEYS[1])
            if not v then
              v = ARGV[1]
              redis.call('set', KEYS[1], v)
            end
            if tonumber(v) > 0 then
              redis.call('decr', KEYS[1])
              return 1
            end
            return 0""";

    // A release into a lost count makes it again with the initial permits: the permit released was taken
    // before the loss, so it is one of them, not one more.
    // NOTE: refuses past Integer.MAX_VALUE permits (returns 0), as SharedSemaphore and j.u.c.Semaphore do:
    // a count beyond it read back as a negative int
    private static final String RELEASE = """
            if redis.call('exists', KEYS[1]) == 0 then
              redis.call('set', KEYS[1], ARGV[1])
            else
              if tonumber(redis.call('get', KEYS[1])) >= 2147483647 then return 0 end
              redis.call('incr', KEYS[1])
            end
            redis.call('publish', KEYS[1], 'r')
            return 1""";

    // A try (decision 244; untimed ones too, decision 257): ACQUIRE, but marked. KEYS[2] is the try's own key:
    // a try that finds it does nothing (the caller gave up first), a grant writes it ('granted', for ARGV[2]
    // ms) so that the give-back knows it ran. Redis may run the try after Redisson failed it (response timeout,
    // Redis hung past it): then no late reply comes, and the give-back, sent whatever the reply, is what undoes
    // it. KEYS[3], if any, is a spent mark (SpentMarks): deleted here rather than by a DEL of its own.
    private static final String ACQUIRE_MARKED = "if KEYS[3] then redis.call('del', KEYS[3]) end "
            + "if redis.call('exists', KEYS[2]) == 1 then return 0 end "
            + ACQUIRE.replace("redis.call('decr', KEYS[1])", "redis.call('decr', KEYS[1]) redis.call('set', KEYS[2], 'granted', 'PX', ARGV[2])");

    // RELEASE that also deletes a spent mark, KEYS[2] (SpentMarks). Not part of RELEASE: GIVE_BACK runs
    // RELEASE with its own try's mark as KEYS[2], which must stay 'gone'.
    private static final String FORGET_AND_RELEASE = "redis.call('del', KEYS[2]) " + RELEASE;

    // The give-back of a try whose caller left or whose call threw: releases the permit if the try granted it, and marks
    // the try gone either way, so a try Redis runs later grants nothing. Idempotent: sent again until answered.
    private static final String GIVE_BACK = "local function release() " + RELEASE + " end "
            + "local granted = redis.call('get', KEYS[2]) == 'granted' "
            + "redis.call('set', KEYS[2], 'gone', 'PX', ARGV[2]) "
            + "if granted then return release() end return 0";

    /**
     * How long a try's mark lives: it must outlast the time from the try's run (once Redis answers
     * again) to its give-back's run, which {@link RedisSync#giveBack} sends again every second.
     */
    private static final String MARK_MILLIS = Long.toString(java.util.concurrent.TimeUnit.MINUTES.toMillis(2));

    /** Granted tries' marks, deleted by a later script (decisions 257, 261). */
    private final transient SpentMarks spentMarks;
    private final transient RedisSync sync;
    private final transient String name;
    private final transient List<Object> keys;
    /** The initial permits: a travelled copy sets them only if the key is gone, as a named semaphore does. */
    private final transient int permits;
    /** {@link #permits} as the scripts' argument. */
    private final transient String initial;

    RedisSemaphore(RedisSync sync, String name, String key, int permits) {
        if (permits < 0) {
            throw new IllegalArgumentException("permits=" + permits + " must be >= 0");
        }
        this.sync = sync;
        this.name = name;
        this.keys = List.of(key);
        this.permits = permits;
        this.initial = Integer.toString(permits);
        this.spentMarks = new SpentMarks(sync, key);
        sync.evalLong("return redis.call('setnx', KEYS[1], ARGV[1])", keys, initial);
    }

    @Override
    public void acquire() throws InterruptedException {
        acquireUntil(RedisSync.FOREVER);
    }

    @Override
    public boolean tryAcquire() {
        return tryAcquireBy(RedisSync.FOREVER);
    }

    @Override
    public boolean tryAcquire(Duration timeout) throws InterruptedException {
        return acquireUntil(RedisSync.deadline(RedisSync.timeoutNanos(timeout)));
    }

    private boolean acquireUntil(long deadline) throws InterruptedException {
        return sync.awaitUntil((String) keys.get(0), deadline, this::tryAcquireBy);
    }

    /**
     * One try that waits for Redis until {@code deadline} (and its grace): null if Redis did not answer. Every
     * try is marked, the untimed ones too: a permit Redis grants after its caller gave up, or after the call
     * threw (decision 257), is given back (decision 244).
     */
    private Boolean tryAcquireBy(long deadline) {
        String key = (String) keys.get(0);
        String mark = key + ":try:" + sync.newToken();
        List<Object> marked = List.of(key, mark);
        Long r = sync.tryMarked(deadline,
                () -> sync.<Long>giveBack(GIVE_BACK, org.redisson.api.RScript.ReturnType.LONG, marked, released -> { }, initial, MARK_MILLIS),
                ACQUIRE_MARKED, spentMarks.with(marked), initial, MARK_MILLIS);
        if (r != null && r == 1) {
            spentMarks.offer(mark); // answered in time: no give-back will look for it
        }
        return r == null ? null : r == 1;
    }

    @Override
    public void release() {
        List<Object> released = spentMarks.with(keys);
        long r = sync.evalLong(released == keys ? RELEASE : FORGET_AND_RELEASE, released, initial);
        if (r == 0) {
            throw new IllegalStateException("RedisSemaphore '" + name + "': permits=" + Integer.MAX_VALUE + " + 1 overflows");
        }
    }

    @Override
    public int availablePermits() {
        long permits = sync.evalLong("return tonumber(redis.call('get', KEYS[1]) or ARGV[1])", keys, initial);
        return (int) Math.min(permits, Integer.MAX_VALUE); // a count another client's older version let grow past it
    }

    /** The Redis key of the permit count (tests set it near its limit). */
    String keyForTests() {
        return (String) keys.get(0);
    }

    @Override
    public String toString() {
        return "RedisSemaphore[" + name + "]";
    }

    /**
     * Captured by a child's task or sent through a queue, this object re-attaches in the receiving JVM to
     * the same Redis object (decision 122).
     */
    @Serial
    Object writeReplace() {
        return sync.handle(this, RedisSync.SEMAPHORE, (String) keys.get(0), name, permits, null);
    }

}
