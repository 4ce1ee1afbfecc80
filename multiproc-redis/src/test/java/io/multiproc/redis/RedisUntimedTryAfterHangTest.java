package io.multiproc.redis;

import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.redisson.client.RedisException;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An untimed acquire() of a semaphore, or lock() of a Python-style lock, throws because Redis hung (SIGSTOP)
 * past Redisson's 2 s command timeout; Redis runs the command once it resumes. The caller was told it
 * failed, so another JVM must find the permit there and the lock free as soon as Redis is back: not one
 * permit fewer for ever, nor a lock held for a lease by nobody (decisions 257, 258).
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisUntimedTryAfterHangTest {
    /** Past RedisManager.COMMAND_TIMEOUT (2 s) from the call, so Redisson fails it before Redis answers. */
    private static final long HANG_MS = 3_000;

    @Test
    void aPermitWhoseAcquireThrewDuringAHangIsThereForAnotherJvmOnceRedisIsBack() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "untimed")) {
            String url = redis.url();
            RedisSemaphore permit = m.semaphore("s", 1);
            permit.acquire(); // subscribes the wake-up channel while Redis answers
            permit.release();
            Children.stoppedFor(redis.pid(), HANG_MS, () -> assertThatThrownBy(permit::acquire).as("acquire() while Redis hangs").isInstanceOf(RedisException.class));
            inAnotherJvm(url, o -> {
                RedisSemaphore s = o.semaphore("s", 1);
                if (s.tryAcquire(Duration.ofSeconds(3))) {
                    o.event("got").set();
                    if (s.availablePermits() == 0) {
                        o.event("noneLeft").set();
                    }
                }
            });
            assertThat(m.event("got").isSet()).as("another JVM got the one permit within 3 s of Redis resuming").isTrue();
            assertThat(m.event("noneLeft").isSet()).as("and it was the only one: none duplicated").isTrue();
        }
    }

    @Test
    void aLockWhoseLockThrewDuringAHangIsFreeForAnotherJvmOnceRedisIsBack() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "untimed")) {
            String url = redis.url();
            RedisLock lock = m.lock("l");
            lock.lock(); // subscribes the wake-up channel while Redis answers
            lock.unlock();
            Children.stoppedFor(redis.pid(), HANG_MS, () -> assertThatThrownBy(lock::lock).as("lock() while Redis hangs").isInstanceOf(RedisException.class));
            // NOTE: the lease (5 s) outlasts the child's start and its 2 s try: a lock nobody gave back fails it
            inAnotherJvm(url, o -> {
                RedisLock l = o.lock("l");
                if (l.tryLock(Duration.ofSeconds(2))) {
                    o.event("took").set();
                    if (l.previousOwnerDied()) {
                        o.event("toldDied").set();
                    }
                    l.unlock();
                }
            });
            assertThat(m.event("took").isSet()).as("another JVM took the lock within 2 s of Redis resuming").isTrue();
            assertThat(m.event("toldDied").isSet()).as("and was not told that a previous owner died").isFalse();
            assertThat(lock.isLocked()).as("free once the other JVM unlocked").isFalse();
        }
    }

    /**
     * Marking every try must not leave a key per acquisition in Redis: a semaphore's spent marks go with its
     * next call, as a reentrant lock's do, and a Python lock writes none (decisions 257, 258).
     */
    @Test
    void acquireReleaseAndLockUnlockPairsLeaveNoTryKeysInRedis() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "untimed")) {
            RedisSemaphore permit = m.semaphore("s", 2);
            RedisLock lock = m.lock("l");
            RedisLock rlock = m.rlock("r");
            for (int i = 0; i < 100; i++) {
                rlock.lock();
                rlock.lock();
                rlock.unlock();
                assertThat(rlock.tryLock()).isTrue();
                rlock.unlock();
                rlock.unlock();
                permit.acquire();
                assertThat(permit.tryAcquire()).isTrue();
                permit.release();
                permit.release();
                lock.lock();
                lock.unlock();
                assertThat(lock.tryLock()).isTrue();
                lock.unlock();
            }
            assertThat(m.redisson().getKeys().getKeysStream().filter(k -> k.contains(":try:")).toList())
                    .as("try marks left in Redis after 200 acquisitions of each").isEmpty();
            assertThat(permit.availablePermits()).isEqualTo(2);
        }
    }

    /** Runs {@code body} in another JVM, on its own connection to {@code url}, and waits for it to end well. */
    private static void inAnotherJvm(String url, ChildBody body) throws InterruptedException {
        ChildProcess c = ChildProcess.start(() -> {
            try (RedisManager o = (RedisManager) RedisManager.connect(url, "untimed")) {
                body.run(o);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            Children.joinOk(c);
        } finally {
            Children.reap(c);
        }
    }

    @FunctionalInterface
    private interface ChildBody extends java.io.Serializable {
        void run(RedisManager other) throws InterruptedException;
    }
}
