package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ManagerSyncContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Date;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The Manager's synchronization contract on Redis (one throwaway server for the class, a fresh manager name per test). */
class RedisManagerSyncContractTest extends ManagerSyncContract {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    @Override
    protected Manager start() {
        return RedisManager.connect(redis.url(), "c" + UUID.randomUUID().toString().substring(0, 8));
    }

    /** A deadline long past is past: awaitUntil times out at once (deadline minus now overflowed into "forever"). */
    @Test
    void awaitUntilADeadlineLongPastReturnsFalseAtOnce() throws InterruptedException {
        try (Manager m = start()) {
            Lock lock = m.lock();
            Condition ready = m.condition(lock);
            lock.lock();
            try {
                assertTimeoutPreemptively(Duration.ofSeconds(10),
                        () -> assertThat(ready.awaitUntil(new Date(Long.MIN_VALUE))).isFalse());
                assertThat(ready.awaitUntil(new Date(0))).isFalse();
            } finally {
                lock.unlock();
            }
        }
    }
}
