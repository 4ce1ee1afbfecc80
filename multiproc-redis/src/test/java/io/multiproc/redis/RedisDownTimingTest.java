package io.multiproc.redis;

import io.multiproc.process.PoolIterator;
import io.multiproc.process.SerializableCallable;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Redis is killed, or hung with SIGSTOP, and a user calls a Redis pool's timed methods: each must
 * keep its own timeout (plus {@link #SLACK}) whatever Redisson's timeout and retries are (about 6 s), and end
 * as its contract says (a timeout, or an exception naming the server). Every case is measured and the
 * failures are collected, so one run shows them all.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisDownTimingTest {
    /** The timeout each call is given: well under Redisson's own (3 s timeout, then retries). */
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    /**
     * What a call may take beyond its timeout: a scheduling delay on a loaded 2-core machine, a garbage
     * collection, and encoding the task; far below Redisson's 3 s command timeout, so a call that waits for
     * Redisson instead of its own deadline cannot pass.
     */
    private static final Duration SLACK = Duration.ofMillis(500);

    /** Redisson's default timeout (3 s) and retries (4 x 1.5 s), with room for a loaded machine, as RedisSyncOutageTest. */
    private static final Duration UNTIMED_BOUND = Duration.ofSeconds(30);

    /** How Redis goes away: killed (connection refused), or hung (connections open, nothing answers). */
    private enum Outage { KILLED, HUNG }

    @Test
    void aRedisPoolsTimedCallsKeepTheirTimeWhileRedisIsKilled() throws Exception {
        poolCalls(Outage.KILLED);
    }

    @Test
    void aRedisPoolsTimedCallsKeepTheirTimeWhileRedisIsHung() throws Exception {
        poolCalls(Outage.HUNG);
    }

    private static void poolCalls(Outage outage) throws Exception {
        SoftAssertions soft = new SoftAssertions();
        try (LocalRedis redis = LocalRedis.start()) {
            RedisPool pool = RedisPool.connect(redis.url(), "down" + outage.ordinal()); // no worker: tasks stay queued
            try {
                Future<Integer> before = pool.applyAsync(() -> 1);
                goAway(redis, outage);
                timed(soft, redis, "a future's get(timeout)", () -> before.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                timed(soft, redis, "applyAsync(...).get(timeout)",
                        () -> pool.applyAsync(() -> 2).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                timed(soft, redis, "mapAsync(...).get(timeout)",
                        () -> pool.mapAsync(x -> x, List.of(1, 2, 3)).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                timed(soft, redis, "submit(...).get(timeout)",
                        () -> pool.submit(() -> 3).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                timed(soft, redis, "imap(...).next(timeout)", () -> {
                    PoolIterator<Integer> it = pool.imap(x -> x, List.of(1, 2, 3));
                    return it.next(TIMEOUT);
                });
                timed(soft, redis, "imapUnordered(...).next(timeout)", () -> {
                    PoolIterator<Integer> it = pool.imapUnordered(x -> x, List.of(1, 2, 3));
                    return it.next(TIMEOUT);
                });
                timed(soft, redis, "invokeAll(tasks, timeout)", () -> pool.invokeAll(
                        tasks(), TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                timed(soft, redis, "invokeAny(tasks, timeout)", () -> pool.invokeAny(
                        tasks(), TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                // an untimed wait ends too, once Redisson gives up (its timeout and retries), naming the server
                long t0 = System.nanoTime();
                Throwable untimed = org.assertj.core.api.Assertions.catchThrowable(() -> pool.applyAsync(() -> 4).get());
                soft.assertThat(untimed).as("applyAsync(...).get() while Redis is away")
                        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining(Integer.toString(redis.port()));
                soft.assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(UNTIMED_BOUND);
            } finally {
                comeBack(redis, outage);
                pool.terminate();
                pool.close();
            }
        }
        soft.assertAll();
    }

    /** Queues and the sync objects while Redis is killed. */
    @Test
    void queueAndLockTimedWaitsKeepTheirTimeAndNameTheServerWhileRedisIsKilled() throws Exception {
        syncCalls(Outage.KILLED);
    }

    /** Hung: Redis holds the connections open and answers nothing; every timed wait still keeps its time. */
    @Test
    void queueAndLockTimedWaitsKeepTheirTimeWhileRedisIsHung() throws Exception {
        syncCalls(Outage.HUNG);
    }

    private static void syncCalls(Outage outage) throws Exception {
        SoftAssertions soft = new SoftAssertions();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager holder = (RedisManager) RedisManager.connect(redis.url(), "syncdown" + outage.ordinal());
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "syncdown" + outage.ordinal())) {
            BlockingQueue<String> empty = m.queue();
            BlockingQueue<String> full = m.queue(1);
            full.put("x");
            holder.lock("l").lock();
            RedisLock lock = m.lock("l");
            RedisSemaphore none = m.semaphore("s", 0);
            RedisEvent event = m.event("e");
            RedisBarrier barrier = m.barrier("b", 2);
            RedisLock own = m.lock("own");
            RedisCondition condition = m.condition("c", own);
            own.lock();
            try {
                goAway(redis, outage);
                timed(soft, redis, "queue.poll(timeout)", () -> empty.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                timed(soft, redis, "queue.offer(item, timeout)",
                        () -> full.offer("y", TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
                timed(soft, redis, "lock.tryLock(timeout)", () -> lock.tryLock(TIMEOUT));
                timed(soft, redis, "semaphore.tryAcquire(timeout)", () -> none.tryAcquire(TIMEOUT));
                timed(soft, redis, "event.await(timeout)", () -> event.await(TIMEOUT));
                timed(soft, redis, "barrier.await(timeout)", () -> barrier.await(TIMEOUT));
                timed(soft, redis, "condition.await(timeout)", () -> condition.await(TIMEOUT));
            } finally {
                comeBack(redis, outage);
            }
        }
        soft.assertAll();
    }

    /**
     * Redis hangs after a timed call sent its command; the call gives up at its timeout; Redis resumes and
     * runs the command, granting a lock, a permit, or an item to a caller that left. Another client (its own
     * Redisson client) must then get that lock, that permit, that item, at once: nothing leaked, lost or
     * duplicated (decision 229). Redis resumes before Redisson's own command timeout (2 s), so the late reply
     * reaches the client.
     */
    @Test
    void whatRedisGrantsAfterATimedCallGaveUpGoesToTheNextCaller() throws Exception {
        SoftAssertions soft = new SoftAssertions();
        Duration shortWait = Duration.ofMillis(300);
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "late");
             // another spelling of the address: another Redisson client, with its own connections
             RedisManager other = (RedisManager) RedisManager.connect("redis://localhost:" + redis.port(), "late")) {
            RedisLock lock = m.lock("l");
            RedisSemaphore permit = m.semaphore("s", 1);
            RedisQueue<String> queue = (RedisQueue<String>) m.<String>queue();
            RedisQueue<String> bounded = (RedisQueue<String>) m.<String>queue(1);
            // subscribe the wake-up channels now: a subscription Redis does not answer ends the call before it sends
            lock.lock();
            lock.unlock();
            permit.acquire();
            permit.release();

            lateGrant(soft, redis, "lock.tryLock(timeout)", () -> lock.tryLock(shortWait));
            soft.assertThat(other.lock("l").tryLock(TIMEOUT)).as("the lock, free again for another client").isTrue();

            lateGrant(soft, redis, "semaphore.tryAcquire(timeout)", () -> permit.tryAcquire(shortWait));
            RedisSemaphore otherPermit = other.semaphore("s", 1);
            soft.assertThat(otherPermit.tryAcquire(TIMEOUT)).as("the permit, back for another client").isTrue();
            soft.assertThat(otherPermit.availablePermits()).as("permits left: none duplicated").isZero();

            queue.put("item");
            lateGrant(soft, redis, "queue.poll(timeout)", () -> queue.poll(shortWait.toMillis(), TimeUnit.MILLISECONDS));
            BlockingQueue<String> otherQueue = other.proxy(Kind.QUEUE, queue.key());
            soft.assertThat(otherQueue.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).as("the item, back in the queue").isEqualTo("item");
            soft.assertThat(otherQueue.size()).as("items left: none duplicated").isZero();

            lateGrant(soft, redis, "queue.offer(item, timeout)", () -> queue.offer("late", shortWait.toMillis(), TimeUnit.MILLISECONDS));
            soft.assertThat(waitForSize(otherQueue, 0)).as("an item whose offer returned false, not in the queue").isZero();

            bounded.put("first");
            bounded.poll(); // room for one: the offer below is answered at once by a resumed Redis
            lateGrant(soft, redis, "bounded queue.offer(item, timeout)",
                    () -> bounded.offer("late", shortWait.toMillis(), TimeUnit.MILLISECONDS));
            BlockingQueue<String> otherBounded = other.proxy(Kind.BOUNDED_QUEUE, bounded.key());
            soft.assertThat(waitForSize(otherBounded, 0)).as("a bounded queue's item whose offer returned false").isZero();
            soft.assertThat(otherBounded.offer("next")).as("its room given back").isTrue();

            lateGrant(soft, redis, "bounded queue.poll(timeout)", () -> bounded.poll(shortWait.toMillis(), TimeUnit.MILLISECONDS));
            soft.assertThat(otherBounded.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).as("the bounded queue's item, back").isEqualTo("next");
            soft.assertThat(otherBounded.offer("again")).as("room for one").isTrue();
            soft.assertThat(otherBounded.offer("more")).as("room for one only: the capacity kept").isFalse();
        }
        soft.assertAll();
    }

    /** Hangs Redis, runs {@code call} (it must give up in time, ending with false or null), resumes Redis. */
    private static void lateGrant(SoftAssertions soft, LocalRedis redis, String what, Callable<?> call) throws Exception {
        signal("STOP", redis.pid());
        try {
            long t0 = System.nanoTime();
            Object r;
            try {
                r = call.call();
            } catch (Exception e) {
                r = e;
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            soft.assertThat(r).as("%s while Redis hangs", what).isIn(false, null);
            soft.assertThat(ms).as("%s took %d ms", what, ms).isLessThanOrEqualTo(Duration.ofMillis(300).plus(SLACK).toMillis());
        } finally {
            signal("CONT", redis.pid());
        }
    }

    /** The queue's size once it is {@code expected}, or after 2 s (a late undo is one round trip after the reply). */
    private static int waitForSize(BlockingQueue<?> q, int expected) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        int size = q.size();
        while (size != expected && System.nanoTime() < end) {
            Thread.sleep(20);
            size = q.size();
        }
        return size;
    }

    /** Tasks a worker could run (a plain Callable lambda cannot be sent). */
    private static List<Callable<Integer>> tasks() {
        return List.of((SerializableCallable<Integer>) () -> 1, (SerializableCallable<Integer>) () -> 2,
                (SerializableCallable<Integer>) () -> 3);
    }

    /** Runs {@code call}: it must end within TIMEOUT + SLACK, with a value, a TimeoutException, or naming the server. */
    private static void timed(SoftAssertions soft, LocalRedis redis, String what, Callable<?> call) {
        long t0 = System.nanoTime();
        Throwable failure = null;
        try {
            call.call();
        } catch (Throwable e) {
            failure = e;
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        soft.assertThat(ms).as("%s took %d ms (ended with %s)", what, ms, failure)
                .isLessThanOrEqualTo(TIMEOUT.plus(SLACK).toMillis());
        Throwable cause = failure instanceof ExecutionException e && e.getCause() != null ? e.getCause() : failure;
        if (cause != null && !(cause instanceof TimeoutException)) {
            soft.assertThat(String.valueOf(cause.getMessage())).as("%s failed with %s", what, cause)
                    .contains(Integer.toString(redis.port()));
        }
    }

    private static void goAway(LocalRedis redis, Outage outage) throws Exception {
        if (outage == Outage.KILLED) {
            redis.kill();
        } else {
            signal("STOP", redis.pid());
        }
    }

    /** Lets the server answer again, so that closing finds it (a restarted one has no data). */
    private static void comeBack(LocalRedis redis, Outage outage) throws Exception {
        if (outage == Outage.KILLED) {
            redis.restart();
        } else {
            signal("CONT", redis.pid());
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        if (new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
        }
    }
}
