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
 * A thread retries a reentrant Redis lock after Redis hung (SIGSTOP) past Redisson's 2 s command timeout:
 * its timed tryLock gave up and its lock() threw, but Redis ran both commands once it resumed. The retry
 * that succeeds must hold the lock as any lock() does: renewed until the thread unlocks, free after that.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisLockRetryAfterHangTest {
    /** Past RedisManager.COMMAND_TIMEOUT (2 s) from the lock() call, so Redisson fails it before Redis answers. */
    private static final long HANG_MS = 3_000;

    @Test
    void aThreadThatLockedAgainAfterItsLockThrewDuringAHangHoldsItUntilItUnlocks() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "retry")) {
            String url = redis.url();
            RedisLock lock = m.rlock("r");
            lock.lock(); // subscribes the wake-up channel while Redis answers
            lock.unlock();
            Children.stoppedFor(redis.pid(), HANG_MS, () -> {
                assertThat(lock.tryLock(Duration.ofMillis(300))).as("tryLock while Redis hangs").isFalse();
                assertThatThrownBy(lock::lock).as("lock() while Redis hangs").isInstanceOf(RedisException.class);
            });
            lock.lock(); // the retry, answered
            Thread.sleep(2 * m.lockLease().toMillis());
            ChildProcess c = ChildProcess.start(() -> {
                try (RedisManager o = (RedisManager) RedisManager.connect(url, "retry")) {
                    RedisLock l = o.rlock("r");
                    if (l.tryLock()) {
                        o.event("taken").set();
                        l.unlock();
                    }
                    o.event("tried").set();
                    if (!o.event("unlocked").await(Children.TIMEOUT)) {
                        throw new AssertionError("never told of the unlock");
                    }
                    if (l.tryLock(Duration.ofSeconds(2))) {
                        o.event("takenAfterUnlock").set();
                        l.unlock();
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(m.event("tried").await(Children.TIMEOUT)).as("the other JVM tried").isTrue();
                assertThat(m.event("taken").isSet()).as("another JVM took the lock this thread holds, two leases after its lock()").isFalse();
                assertThat(lock.isHeldByCurrentThread()).as("still held by this thread").isTrue();
                lock.unlock();
                m.event("unlocked").set();
                Children.joinOk(c);
                assertThat(m.event("takenAfterUnlock").isSet()).as("the other JVM took it within 2 s of the one unlock").isTrue();
            } finally {
                Children.reap(c);
            }
        }
    }
}
