package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ListContract;
import io.multiproc.manager.contract.MapContract;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Nested;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/** The List and Map contract suites against the Redis manager's list and dict, on a throwaway server. */
class RedisContractTest {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    static Manager fresh(LocalRedis server) {
        return RedisManager.connect(server.url(), "t" + UUID.randomUUID().toString().substring(0, 8));
    }

    @Nested
    class OnRedisList extends ListContract {
        private Manager m;

        @Override
        protected List<Object> create() {
            m = fresh(redis.server());
            return m.list();
        }

        @Override
        protected void dispose() {
            if (m != null) {
                m.close();
            }
        }
    }

    @Nested
    class OnRedisDict extends MapContract {
        private Manager m;

        @Override
        protected Map<Object, Object> create() {
            m = fresh(redis.server());
            return m.dict();
        }

        @Override
        protected boolean allowsNulls() {
            return false;
        }

        @Override
        protected void dispose() {
            if (m != null) {
                m.close();
            }
        }
    }
}
