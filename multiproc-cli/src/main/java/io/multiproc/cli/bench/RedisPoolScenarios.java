package io.multiproc.cli.bench;

import io.multiproc.redis.LocalRedis;
import io.multiproc.redis.RedisPool;
import io.multiproc.redis.RedisPoolWorkers;
import org.redisson.config.Config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import static io.multiproc.cli.bench.Scenarios.py;

/**
 * The Redis pool scenario {@code redis-pool-map}, on a throwaway redis-server (LocalRedis) with 2 worker
 * JVMs on this host, beside CPython's local {@code Pool(2)} (bench/python/pool.py) in the same run, for
 * reference: CPython has no pool across hosts, so the ratio shows what going through Redis costs
 * against a local pool, not a like-for-like race.
 */
final class RedisPoolScenarios {
    private static final int WORKERS = 2;
    private static final int ITEMS = 1_000_000;
    private static final int ROUND_TRIPS = 1_000;

    private final Python python;

    RedisPoolScenarios(Python python) {
        this.python = python;
    }

    /** map x -> x * x over 1,000,000 ints with the default chunk size; then applyAsync round trips. */
    List<Row> map() throws InterruptedException {
        List<Integer> items = IntStream.range(0, ITEMS).boxed().toList();
        double first;
        double steady;
        double[] us = new double[ROUND_TRIPS];
        try (LocalRedis redis = LocalRedis.start()) {
            Config config = new Config();
            config.useSingleServer().setAddress(redis.url());
            try (RedisPoolWorkers workers = RedisPoolWorkers.start(config, "bench", WORKERS, RedisPool.DEFAULT_LEASE, null);
                 RedisPool pool = RedisPool.connect(redis.url(), "bench")) {
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (pool.workers().size() < WORKERS) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("redis pool workers not up in 120 s");
                    }
                    Thread.sleep(20);
                }
                long t0 = System.nanoTime();
                List<Integer> out = pool.map(x -> x * x, items);
                first = (System.nanoTime() - t0) / 1e9;
                check(out.get(ITEMS - 1) == (ITEMS - 1) * (ITEMS - 1));
                steady = Double.MAX_VALUE;
                for (int i = 0; i < 3; i++) {
                    long t1 = System.nanoTime();
                    check(pool.map(x -> x * x, items).get(ITEMS - 1) == (ITEMS - 1) * (ITEMS - 1));
                    steady = Math.min(steady, (System.nanoTime() - t1) / 1e9);
                }
                for (int i = 0; i < 200; i++) {
                    get(pool.applyAsync(() -> 1));
                }
                for (int i = 0; i < ROUND_TRIPS; i++) {
                    long t1 = System.nanoTime();
                    get(pool.applyAsync(() -> 1));
                    us[i] = (System.nanoTime() - t1) / 1e3;
                }
            }
        }
        Arrays.sort(us);
        double median = us[ROUND_TRIPS / 2];
        Optional<Map<String, String>> py = python.run("pool.py", "--scenario", "map-tiny", "--items", "" + ITEMS);
        double pyWork = Python.num(py, "work_s");
        Optional<Map<String, String>> pyApply = python.run("pool.py", "--scenario", "apply-latency", "--round-trips", "2000");
        double pyMedian = Python.num(pyApply, "median_us");
        String ref = "cpython: a LOCAL Pool(2), for reference (it has no pool across hosts)";
        return List.of(
                new Row("redis-pool-map", Double.NaN, first, Double.NaN, pyWork, Row.ratio(pyWork, first),
                        String.format("RedisPool, %d worker JVMs, map x*x over %,d ints, default chunk size, first map once the workers are up; %s",
                                WORKERS, ITEMS, ref)),
                new Row("redis-pool-map steady", Double.NaN, steady, Double.NaN, pyWork, Row.ratio(pyWork, steady),
                        "best of 3 maps after the first; " + ref),
                new Row("redis-pool-apply-latency", Double.NaN, median / 1e6, Double.NaN, pyMedian / 1e6, Row.ratio(pyMedian, median),
                        String.format("applyAsync(() -> 1).get() through Redis: median %.0f us, p99 %.0f us after 200 warm-up calls; "
                                + "cpython local Pool.apply median %s us", median, us[(int) (ROUND_TRIPS * 0.99)], py("%.1f", pyMedian))));
    }

    private static void check(boolean ok) {
        if (!ok) {
            throw new IllegalStateException("wrong redis pool map result");
        }
    }

    private static <T> T get(java.util.concurrent.CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("redis pool task failed", e);
        }
    }
}
