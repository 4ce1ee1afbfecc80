package io.multiproc.redis;

import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway Redis Cluster on loopback: {@code n} {@link LocalRedis} masters started with
 * {@code --cluster-enabled yes}, joined with {@code redis-cli --cluster create}, no replicas, no
 * persistence. For tests and benchmarks that must show objects working with keys spread over shards.
 *
 * <pre>{@code
 * try (LocalRedisCluster cluster = LocalRedisCluster.start(3);
 *      Manager m = RedisManager.connect(cluster.config())) {
 *     m.dict("spread").put("k", 1);
 * }
 * }</pre>
 */
public final class LocalRedisCluster implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final List<LocalRedis> nodes;

    private LocalRedisCluster(List<LocalRedis> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    /** Starts {@code masters} (at least 3, as Redis requires) nodes and waits until the cluster state is ok. */
    public static LocalRedisCluster start(int masters) {
        if (masters < 3) {
            throw new IllegalArgumentException("masters=" + masters + " must be >= 3 (Redis Cluster's minimum)");
        }
        List<LocalRedis> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < masters; i++) {
                nodes.add(LocalRedis.start(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "2000")));
            }
            List<String> cmd = new ArrayList<>(List.of(cli(), "--cluster", "create"));
            for (LocalRedis n : nodes) {
                cmd.add(n.host() + ":" + n.port());
            }
            cmd.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            String out = run(cmd);
            if (!out.contains("All 16384 slots covered")) {
                throw new IllegalStateException("redis-cli --cluster create did not cover the slots: " + out);
            }
            LocalRedisCluster cluster = new LocalRedisCluster(nodes);
            cluster.awaitOk();
            return cluster;
        } catch (RuntimeException e) {
            nodes.forEach(LocalRedis::close);
            throw e;
        }
    }

    /** Redisson's configuration for this cluster, with the short timeouts of {@link RedisManager#connect(String)}. */
    public Config config() {
        Config config = new Config();
        var cluster = config.useClusterServers()
                .setConnectTimeout((int) RedisManager.CONNECT_TIMEOUT.toMillis())
                .setTimeout((int) RedisManager.COMMAND_TIMEOUT.toMillis())
                .setRetryAttempts(RedisManager.RETRY_ATTEMPTS)
                .setRetryDelay(new ConstantDelay(RedisManager.RETRY_DELAY))
                .setMasterConnectionMinimumIdleSize(1)
                .setSubscriptionConnectionMinimumIdleSize(1);
        for (LocalRedis n : nodes) {
            cluster.addNodeAddress(n.url());
        }
        config.setCodec(RedisCodec.INSTANCE);
        return config;
    }

    public List<LocalRedis> nodes() {
        return nodes;
    }

    @Override
    public void close() {
        nodes.forEach(LocalRedis::close);
    }

    private void awaitOk() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        for (LocalRedis n : nodes) {
            while (!run(List.of(cli(), "-p", Integer.toString(n.port()), "cluster", "info")).contains("cluster_state:ok")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the cluster did not reach cluster_state:ok within "
                            + READY_TIMEOUT.toSeconds() + " s");
                }
                sleep();
            }
        }
    }

    private static String cli() {
        Path server = Path.of(LocalRedis.executable());
        Path sibling = server.resolveSibling(server.getFileName().toString().startsWith("valkey") ? "valkey-cli" : "redis-cli");
        return Files.isExecutable(sibling) ? sibling.toString() : "redis-cli";
    }

    private static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not finish within 30 s");
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd.getFirst(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd.getFirst(), e);
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the cluster was forming", e);
        }
    }
}
