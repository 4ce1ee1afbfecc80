package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ManagerContainersContract;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Manager-level container contract against the Redis manager, on a throwaway server. */
class RedisManagerContainersTest extends ManagerContainersContract {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    @Override
    protected Manager start() {
        return RedisContractTest.fresh(redis.server());
    }
}
