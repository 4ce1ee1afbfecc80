package io.multiproc.redis;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code Lock.lock()} is not interruptible: a thread whose interrupt is set (a cancelled task) still
 * takes the lock, keeps its interrupt, and the lock is really held (renewed, releasable). Redisson's
 * synchronous calls throw when the calling thread is interrupted, after the script may already have run
 * on the server.
 */
class RedisInterruptTest {

    @Test
    void anInterruptedThreadsLockTakesTheLockKeepsTheInterruptAndUnlocks() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interrupts");
             RedisManager other = (RedisManager) RedisManager.connect(redis.url(), "interrupts")) {
            RedisLock lock = m.lock("l");
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicBoolean interruptKept = new AtomicBoolean();
            AtomicBoolean heldInside = new AtomicBoolean();
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    lock.lock();
                    try {
                        heldInside.set(!other.lock("l").tryLock());
                    } finally {
                        lock.unlock();
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
                interruptKept.set(Thread.currentThread().isInterrupted());
            });
            t.start();
            t.join(30_000);
            assertThat(failed.get()).isNull();
            assertThat(heldInside).as("another manager could not take it meanwhile").isTrue();
            assertThat(interruptKept).isTrue();
            RedisLock again = other.lock("l");
            assertThat(again.tryLock()).as("released").isTrue();
            again.unlock();
        }
    }

    @Test
    void containerCallsOfAnInterruptedThreadHappenOnceAndKeepTheInterruptWhileBlockingOnesThrow() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interruptedops")) {
            java.util.List<Integer> ls = m.list("l");
            java.util.concurrent.ConcurrentMap<String, Integer> d = m.dict("d");
            java.util.concurrent.BlockingQueue<Integer> q = m.queue();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicBoolean interruptKept = new AtomicBoolean();
            AtomicReference<Throwable> takeThrew = new AtomicReference<>();
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();   // a cancelled task's thread, say
                try {
                    ls.add(1);
                    ls.add(2);
                    d.put("k", 7);
                    d.merge("k", 1, Integer::sum);
                    q.offer(5);
                    if (ls.size() != 2 || ls.get(1) != 2 || d.get("k") != 8 || q.poll() != 5) {
                        throw new AssertionError("wrong state: " + ls + " " + d);
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
                interruptKept.set(Thread.currentThread().isInterrupted());
                try {
                    q.take();   // empty: a blocking call must answer the interrupt
                } catch (Throwable e) {
                    takeThrew.set(e);
                }
            });
            t.start();
            t.join(30_000);
            assertThat(t.isAlive()).isFalse();
            assertThat(failed.get()).isNull();
            assertThat(interruptKept).isTrue();
            assertThat(takeThrew.get()).isInstanceOf(InterruptedException.class);
            assertThat(ls).containsExactly(1, 2);   // each add happened once
            assertThat(d).containsEntry("k", 8);
        }
    }

    /**
     * As every BlockingQueue: a take interrupted while it waits throws InterruptedException with the
     * interrupt cleared (Redisson had set it again); an unbounded queue's put from a thread interrupted on
     * entry throws and queues nothing.
     */
    @Test
    void aTakeInterruptedWhileWaitingThrowsWithTheInterruptClearedAndAnInterruptedPutQueuesNothing() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interruptedtake")) {
            java.util.concurrent.BlockingQueue<Integer> q = m.queue();
            AtomicReference<Throwable> takeThrew = new AtomicReference<>();
            AtomicBoolean interruptAfter = new AtomicBoolean(true);
            Thread t = new Thread(() -> {
                try {
                    q.take();
                } catch (Throwable e) {
                    takeThrew.set(e);
                }
                interruptAfter.set(Thread.currentThread().isInterrupted());
            });
            t.start();
            Thread.sleep(500); // waiting in BLPOP by now
            t.interrupt();
            t.join(30_000);
            assertThat(t.isAlive()).isFalse();
            assertThat(takeThrew.get()).isInstanceOf(InterruptedException.class);
            assertThat(interruptAfter).as("interrupt cleared with InterruptedException").isFalse();
            Thread.currentThread().interrupt();
            try {
                assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> q.put(1))).isInstanceOf(InterruptedException.class);
            } finally {
                Thread.interrupted();
            }
            assertThat(q).isEmpty();
            q.put(2);
            assertThat(q.take()).isEqualTo(2);
        }
    }

    @Test
    void aListsSortAndRemoveIfFromAnInterruptedThreadRunOnceAndKeepTheInterrupt() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interruptedtransforms")) {
            java.util.List<Integer> ls = m.list("l");
            ls.addAll(java.util.List.of(3, 1, 4, 2));
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicBoolean interruptKept = new AtomicBoolean();
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    ls.sort(null);
                    ls.removeIf(x -> x == 4);
                    ls.replaceAll(x -> x * 10);
                    ls.subList(0, 1).clear();
                } catch (Throwable e) {
                    failed.set(e);
                }
                interruptKept.set(Thread.currentThread().isInterrupted());
            });
            t.start();
            t.join(30_000);
            assertThat(failed.get()).isNull();
            assertThat(interruptKept).isTrue();
            assertThat(ls).containsExactly(20, 30);
        }
    }

    @Test
    void aListsSortWhileTheServerIsDownNamesTheManager() throws Exception {
        LocalRedis redis = LocalRedis.start();
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "downtransforms")) {
            java.util.List<Integer> ls = m.list("l");
            ls.addAll(java.util.List.of(2, 1));
            redis.close();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ls.sort(null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("downtransforms");
        } finally {
            redis.close();
        }
    }

    @Test
    void aHugeTimeoutIsForeverNotAnArithmeticException() throws Exception {
        java.time.Duration forever = java.time.temporal.ChronoUnit.FOREVER.getDuration();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "hugetimeouts")) {
            RedisLock lock = m.lock("l");
            assertThat(lock.tryLock(forever)).isTrue();
            lock.unlock();
            RedisSemaphore sem = m.semaphore(1);
            assertThat(sem.tryAcquire(forever)).isTrue();
            RedisEvent event = m.event();
            event.set();
            assertThat(event.await(forever)).isTrue();
        }
    }
}
