package io.multiproc.redis;

import io.multiproc.testing.Children;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis hangs (SIGSTOP) for longer than Redisson's own command timeout (2 s) while a timed wait's command is
 * on its way; the wait gives up at its timeout; Redis resumes and runs the command. Redisson has failed the
 * command by then (response timeout), so no late reply comes; what Redis granted must still be given back
 * (decision 229: a timed wait that returned false took nothing).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisLongHangUndoTest {
    /** Past RedisManager.COMMAND_TIMEOUT (2 s), so Redisson gives the command up before Redis answers. */
    private static final long HANG_MS = 3_000;

    /**
     * A semaphore with one permit; a tryAcquire(300 ms) while Redis hangs for 3 s returns false. Once Redis is
     * back, the permit is there for another client: not lost for ever.
     */
    @Test
    void aPermitGrantedAfterATimedTryGaveUpDuringALongHangIsNotLost() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "longhang");
             RedisManager other = (RedisManager) RedisManager.connect("redis://localhost:" + redis.port(), "longhang")) {
            RedisSemaphore permit = m.semaphore("s", 1);
            permit.acquire(); // subscribes the wake-up channel while Redis answers
            permit.release();
            Children.signal("STOP", redis.pid());
            boolean got;
            try {
                got = permit.tryAcquire(Duration.ofMillis(300));
                Thread.sleep(HANG_MS);
            } finally {
                Children.signal("CONT", redis.pid());
            }
            assertThat(got).as("tryAcquire while Redis hangs").isFalse();
            RedisSemaphore otherPermit = other.semaphore("s", 1);
            assertThat(otherPermit.tryAcquire(Duration.ofSeconds(5))).as("the permit, back for another client").isTrue();
            assertThat(otherPermit.availablePermits()).as("none duplicated").isZero();
        }
    }

    /**
     * A lock; a tryLock(300 ms) while Redis hangs for 3 s returns false. Once Redis is back, another client
     * gets the lock at once, not after the lease of a hold nobody has.
     */
    @Test
    void aLockGrantedAfterATimedTryGaveUpDuringALongHangIsFreeForOthers() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "longhang");
             RedisManager other = (RedisManager) RedisManager.connect("redis://localhost:" + redis.port(), "longhang")) {
            RedisLock lock = m.lock("l");
            lock.lock(); // subscribes the wake-up channel while Redis answers
            lock.unlock();
            Children.signal("STOP", redis.pid());
            boolean got;
            try {
                got = lock.tryLock(Duration.ofMillis(300));
                Thread.sleep(HANG_MS);
            } finally {
                Children.signal("CONT", redis.pid());
            }
            assertThat(got).as("tryLock while Redis hangs").isFalse();
            RedisLock otherLock = other.lock("l");
            assertThat(otherLock.tryLock(Duration.ofSeconds(1))).as("the lock, free for another client").isTrue();
            otherLock.unlock();
        }
    }
}
