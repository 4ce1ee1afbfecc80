package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ManagerSyncContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.UUID;

/** The Manager's synchronization contract on Redis (one throwaway server for the class, a fresh manager name per test). */
class RedisManagerSyncContractTest extends ManagerSyncContract {
    private static LocalRedis redis;

    @BeforeAll
    static void startServer() {
        redis = LocalRedis.start();
    }

    @AfterAll
    static void stopServer() {
        redis.close();
    }

    @Override
    protected Manager start() {
        return RedisManager.connect(redis.url(), "c" + UUID.randomUUID().toString().substring(0, 8));
    }
}
