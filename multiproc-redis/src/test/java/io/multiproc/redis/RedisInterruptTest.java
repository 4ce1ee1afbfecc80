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
}
