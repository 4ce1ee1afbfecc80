package io.multiproc.redis;

import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.SemaphoreProxy;
import org.junit.jupiter.api.Test;
import org.redisson.client.RedisException;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Redis dies while threads wait on its locks and events: every wait ends, with a RedisException naming
 * the server when it stays down, or by succeeding once it is back, within {@link #OUTAGE_BOUND}; never a hang.
 */
class RedisSyncOutageTest {
    /**
     * The documented bound: Redisson gives up on a command after its timeout (3 s) plus retryAttempts x
     * retryInterval (4 x 1.5 s) by default, and a waiter tries at least every 0.5 s; 30 s leaves room for a
     * loaded machine.
     */
    private static final Duration OUTAGE_BOUND = Duration.ofSeconds(30);

    @Test
    void aLockWaiterGetsTheLockOnceRedisIsBackWithoutItsData() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager holder = (RedisManager) RedisManager.connect(redis.url(), "outage");
             RedisManager waiter = (RedisManager) RedisManager.connect(redis.url(), "outage")) {
            holder.lock("l").lock();
            RedisLock lock = waiter.lock("l");
            Future<Boolean> got = threads.submit(() -> lock.tryLock(Duration.ofSeconds(120)));
            Thread.sleep(300);
            redis.kill();
            Thread.sleep(1_000);
            redis.restart(); // no persistence: the lock is gone, so the waiter takes it
            assertThat(got.get(OUTAGE_BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            lock.unlock();
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void waitsOnADeadServerEndWithAnExceptionNamingIt() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "down")) {
            m.lock("l").lock();
            RedisLock lock = m.lock("l");
            EventProxy event = m.event("e");
            BarrierProxy barrier = m.barrier("b", 2);
            Future<Boolean> lockWait = threads.submit(() -> lock.tryLock(Duration.ofSeconds(120)));
            Future<Boolean> eventWait = threads.submit(() -> event.await(Duration.ofSeconds(120)));
            Future<Integer> barrierWait = threads.submit(() -> barrier.await(Duration.ofSeconds(120)));
            SemaphoreProxy none = m.semaphore("s", 0);
            Future<Boolean> semaphoreWait = threads.submit(() -> none.tryAcquire(Duration.ofSeconds(120)));
            Thread.sleep(300);
            long t0 = System.nanoTime();
            redis.kill();
            for (Future<?> f : new Future<?>[] {lockWait, eventWait, barrierWait, semaphoreWait}) {
                assertThatThrownBy(() -> f.get(OUTAGE_BOUND.toMillis(), TimeUnit.MILLISECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(RedisException.class)
                        .hasMessageContaining(Integer.toString(redis.port()));
            }
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(took).isLessThan(OUTAGE_BOUND.toMillis());
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * Redis restarted without its data while nobody held a permit: the semaphore starts again with its
     * initial permits, as a lock whose key was lost is free, instead of having none for ever.
     */
    @Test
    void aSemaphoreWhoseCountRedisLostHasItsInitialPermitsAgain() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "outage")) {
            SemaphoreProxy slots = m.semaphore("slots", 2);
            assertThat(slots.tryAcquire()).isTrue();
            slots.release();
            redis.kill();
            redis.restart(); // no persistence: the count is gone
            awaitServer(m);
            assertThat(slots.availablePermits()).isEqualTo(2);
            assertThat(slots.tryAcquire(Duration.ofSeconds(2))).as("a permit after the restart").isTrue();
            assertThat(slots.tryAcquire()).isTrue();
            assertThat(slots.tryAcquire()).as("still bounded by the initial permits").isFalse();
            slots.release();
            redis.kill();
            redis.restart();
            awaitServer(m);
            slots.release(); // a permit taken before the loss comes back into the re-made count, not above it
            assertThat(slots.availablePermits()).isEqualTo(2);
        }
    }

    /**
     * Redis restarted without its data while a thread waited on a condition: the waiter's place in the
     * queue is gone, so no signal can reach it; it wakes (a spurious wake-up, which Condition allows) and
     * re-checks, instead of waiting for ever.
     */
    @Test
    void aConditionWaiterWhosePlaceRedisLostWakesUp() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "outage")) {
            RedisLock lock = m.lock("l");
            RedisCondition ready = m.condition("ready", lock);
            Future<Boolean> woke = threads.submit(() -> {
                lock.lock();
                try {
                    ready.await();
                    return true;
                } finally {
                    lock.unlock();
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ready.waiters() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(ready.waiters()).isEqualTo(1);
            redis.kill();
            redis.restart(); // no persistence: the waiter's queued token is gone
            awaitServer(m);
            lock.lock();
            try {
                ready.signalAll(); // reaches nobody: the queue is empty
            } finally {
                lock.unlock();
            }
            assertThat(woke.get(OUTAGE_BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        } finally {
            threads.shutdownNow();
        }
    }

    /** Waits until the restarted server answers this manager (its client reconnects on its own). */
    private static void awaitServer(RedisManager m) throws InterruptedException {
        long deadline = System.nanoTime() + OUTAGE_BOUND.toNanos();
        while (true) {
            try {
                m.event("probe").isSet();
                return;
            } catch (RuntimeException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(100);
            }
        }
    }

    @Test
    void barrierPartiesWaitingWhenRedisLosesItsDataAreBrokenNeitherPassedNorLeftWaiting() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "lost")) {
            BarrierProxy tripped = m.barrier("tripped", 3);
            BarrierProxy fresh = m.barrier("fresh", 3);
            // one full trip first: its waiters wait in generation 1, which a lost hash counts from 0 again
            List<Future<Integer>> first = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                first.add(threads.submit(() -> tripped.await(Duration.ofSeconds(60))));
            }
            for (Future<Integer> f : first) {
                f.get(60, TimeUnit.SECONDS);
            }
            List<Future<Integer>> waiting = new java.util.ArrayList<>();
            for (BarrierProxy b : List.of(tripped, tripped, fresh, fresh)) {
                waiting.add(threads.submit(() -> b.await(Duration.ofSeconds(120))));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((tripped.getNumberWaiting() < 2 || fresh.getNumberWaiting() < 2) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(redis.command("FLUSHALL")).isEqualTo("+OK"); // as a restart without persistence
            assertThatThrownBy(() -> tripped.await(Duration.ofMillis(1))) // a later party makes the hash again
                    .isInstanceOf(java.util.concurrent.TimeoutException.class);
            for (Future<Integer> f : waiting) {
                assertThatThrownBy(() -> f.get(OUTAGE_BOUND.toMillis(), TimeUnit.MILLISECONDS))
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(java.util.concurrent.BrokenBarrierException.class);
            }
        } finally {
            threads.shutdownNow();
        }
    }
}
