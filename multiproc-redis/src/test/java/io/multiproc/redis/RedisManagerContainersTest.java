package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ManagerContainersContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The Manager-level container contract against the Redis manager, on a throwaway server. */
class RedisManagerContainersTest extends ManagerContainersContract {
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
        return RedisContractTest.fresh(redis);
    }
}
