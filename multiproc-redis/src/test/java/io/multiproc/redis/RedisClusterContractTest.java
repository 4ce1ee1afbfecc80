package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ListContract;
import io.multiproc.manager.contract.ManagerContainersContract;
import io.multiproc.manager.contract.MapContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInstance;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The List, Map and Manager-level contracts once against a local 3-node Redis Cluster: objects (and the
 * nested ones they reference) spread over shards, each object's keys on one slot through its hash tag.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisClusterContractTest {
    private static LocalRedisCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = LocalRedisCluster.start(3);
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    private static Manager fresh() {
        return RedisManager.connect(cluster.config(), "c" + UUID.randomUUID().toString().substring(0, 8));
    }

    @Nested
    class OnClusterList extends ListContract {
        private Manager m;

        @Override
        protected List<Object> create() {
            m = fresh();
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
    class OnClusterDict extends MapContract {
        private Manager m;

        @Override
        protected Map<Object, Object> create() {
            m = fresh();
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

    @Nested
    class OnClusterManager extends ManagerContainersContract {
        @Override
        protected Manager start() {
            return fresh();
        }
    }
}
