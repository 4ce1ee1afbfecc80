package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.contract.ManagerSyncContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.redisson.config.Config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The Manager's synchronization contract on a 3-node Redis Cluster on loopback (three redis-servers with
 * {@code --cluster-enabled yes} joined by {@code redis-cli --cluster create}): each object's keys share
 * one hash tag, so its scripts run on one shard while different objects spread over the three.
 */
class RedisClusterSyncContractTest extends ManagerSyncContract {
    private static final List<LocalRedis> NODES = new ArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        for (int i = 0; i < 3; i++) {
            NODES.add(LocalRedis.start(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")));
        }
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        for (LocalRedis n : NODES) {
            cmd.add(n.host() + ":" + n.port());
        }
        cmd.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("redis-cli --cluster create failed: " + out);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (LocalRedis n : NODES) {
            while (!clusterOk(n)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cluster not ok on port " + n.port());
                }
                Thread.sleep(50);
            }
        }
    }

    private static boolean clusterOk(LocalRedis node) throws Exception {
        Process p = new ProcessBuilder("redis-cli", "-p", Integer.toString(node.port()), "cluster", "info")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out.contains("cluster_state:ok");
    }

    @AfterAll
    static void stopCluster() {
        NODES.forEach(LocalRedis::close);
        NODES.clear();
    }

    @Override
    protected Manager start() {
        Config config = new Config();
        config.setLockWatchdogTimeout(RedisManager.DEFAULT_LOCK_LEASE.toMillis());
        var cluster = config.useClusterServers();
        for (LocalRedis n : NODES) {
            cluster.addNodeAddress(n.url());
        }
        return RedisManager.connect(config, "k" + UUID.randomUUID().toString().substring(0, 8));
    }
}
