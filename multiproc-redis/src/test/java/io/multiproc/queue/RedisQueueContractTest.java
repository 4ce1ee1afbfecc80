package io.multiproc.queue;

import io.multiproc.manager.Manager;
import io.multiproc.redis.LocalRedis;
import io.multiproc.redis.RedisManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.UUID;
import java.util.concurrent.BlockingQueue;

/**
 * The BlockingQueue contract that every local queue passes, against a Redis manager's bounded queue on a
 * throwaway server: "the same interfaces on Redis" (in this package because the suite is package-private).
 */
class RedisQueueContractTest extends BlockingQueueContract {
    private static LocalRedis redis;
    private static Manager manager;

    @BeforeAll
    static void startServer() {
        redis = LocalRedis.start();
        manager = RedisManager.connect(redis.url(), "q" + UUID.randomUUID().toString().substring(0, 8));
    }

    @AfterAll
    static void stopServer() {
        manager.close();
        redis.close();
    }

    @Override
    BlockingQueue<Integer> create(int capacity) {
        return manager.queue(capacity);
    }
}
