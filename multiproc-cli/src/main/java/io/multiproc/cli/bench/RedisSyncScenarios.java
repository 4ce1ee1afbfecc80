package io.multiproc.cli.bench;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLongArray;
import io.multiproc.redis.LocalRedis;
import io.multiproc.redis.RedisLock;
import io.multiproc.redis.RedisManager;
import org.redisson.api.RLock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

import static io.multiproc.cli.bench.Scenarios.py;

/**
 * The Redis lock scenario, {@code redis-lock-pairs}: lock/unlock pairs on {@link RedisManager#lock(String)}
 * from 1 JVM and from 2 JVMs at once, beside raw Redisson ({@code RLock} lock/unlock, the same round
 * trips without our layer: the overhead target is 1.2x) and CPython's {@code Manager().Lock()} in the same
 * run. Starts its own throwaway redis-server on loopback.
 */
final class RedisSyncScenarios {
    private static final int PAIRS = 5_000;
    private static final int WARM_PAIRS = 2_000;
    private static final int ROUNDS = 3;

    private final Python python;

    RedisSyncScenarios(Python python) {
        this.python = python;
    }

    List<Row> lockPairs() throws InterruptedException {
        Optional<Map<String, String>> py = python.run("manager_lock_pairs.py", "--pairs", "" + PAIRS);
        double pyOne = Python.num(py, "one_pair_us") * 1e-6;
        double pyTwo = Python.num(py, "two_pair_us") * 1e-6;
        try (LocalRedis redis = LocalRedis.start()) {
            String url = redis.url();
            double[] one = oneJvm(url);
            double oursTwo = twoJvms(url, false);
            double rawTwo = twoJvms(url, true);
            return List.of(
                    row("redis-lock-pairs 1 JVM", one[0], one[1], pyOne,
                            String.format("per pair, JIT warmed, median of %d rounds; rlock %.1f us", ROUNDS, one[2] * 1e6)),
                    row("redis-lock-pairs 2 JVMs", oursTwo, rawTwo, pyTwo,
                            "per pair over both JVMs' pairs on one lock, JIT warmed"));
        }
    }

    private static Row row(String name, double ours, double raw, double pyPair, String what) {
        return new Row(name, Double.NaN, ours, Double.NaN, pyPair, Row.ratio(pyPair, ours),
                String.format("%s: ours %.1f us, raw Redisson RLock %.1f us (overhead %.2fx, target <= 1.2x), cpython Manager().Lock() %s us;"
                        + " loopback redis-server", what, ours * 1e6, raw * 1e6, ours / raw, py("%.1f", pyPair * 1e6)));
    }

    /** Seconds per pair: {ours (Python-style lock), raw Redisson RLock, our rlock}, medians of interleaved rounds. */
    private static double[] oneJvm(String url) {
        try (RedisManager m = (RedisManager) RedisManager.connect(url, "bench")) {
            RedisLock ours = m.lock("pairs");
            RedisLock oursR = m.rlock("pairs");
            RLock raw = m.redisson().getLock("bench-raw-pairs");
            pairs(ours, WARM_PAIRS);
            pairs(oursR, WARM_PAIRS);
            pairs(raw, WARM_PAIRS);
            double[][] r = new double[3][ROUNDS];
            for (int round = 0; round < ROUNDS; round++) {
                r[0][round] = pairs(ours, PAIRS);
                r[1][round] = pairs(raw, PAIRS);
                r[2][round] = pairs(oursR, PAIRS);
            }
            return new double[] {median(r[0]), median(r[1]), median(r[2])};
        }
    }

    /**
     * Seconds per pair over all pairs of 2 child JVMs at once on one lock (ours or raw Redisson). Not
     * {@link Lockstep}: each child must close its Redisson connection after its end mark (Redisson's
     * threads keep a JVM alive), so the gate is the same one with the close outside the timed part.
     * <pre>ctl[0] = children ready, ctl[1] = go (the parent's nanoTime), ctl[2 + i] = child i's end</pre>
     */
    private static double twoJvms(String url, boolean raw) throws InterruptedException {
        int children = 2;
        int spares = ChildProcess.spareJvms();
        ChildProcess.setSpareJvms(0); // a replacement spare booting during the timed phase would skew it
        List<ChildProcess> started = new ArrayList<>();
        try (SharedLongArray ctl = SharedLongArray.create(2 + children)) {
            for (int i = 0; i < children; i++) {
                int index = i;
                started.add(ChildProcess.start(() -> {
                    try (RedisManager m = (RedisManager) RedisManager.connect(url, "bench")) {
                        Lock lock = raw ? m.redisson().getLock("bench-raw-pairs") : m.lock("pairs");
                        pairs(lock, WARM_PAIRS);
                        ctl.incrementAndGet(0);
                        while (ctl.get(1) == 0) {
                            Thread.yield();
                        }
                        pairs(lock, PAIRS);
                        ctl.set(2 + index, System.nanoTime());
                    }
                }));
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (ctl.get(0) < children) {
                for (ChildProcess c : started) {
                    if (!c.isAlive() || System.nanoTime() > deadline) {
                        throw new IllegalStateException("benchmark child " + c.name() + " never got ready: " + c.exitCode());
                    }
                }
                Thread.sleep(1);
            }
            long go = System.nanoTime();
            ctl.set(1, go);
            for (ChildProcess c : started) {
                if (!c.join(Duration.ofMinutes(5)) || c.exitCode().orElse(-1) != 0) {
                    throw new IllegalStateException("benchmark child " + c.name() + " failed: exit " + c.exitCode());
                }
            }
            long lastEnd = Math.max(ctl.get(2), ctl.get(3));
            return (lastEnd - go) / 1e9 / (2.0 * PAIRS);
        } finally {
            for (ChildProcess c : started) {
                c.close();
            }
            ChildProcess.setSpareJvms(spares);
        }
    }

    /** Seconds per lock/unlock pair over {@code n} pairs. */
    static double pairs(Lock lock, int n) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            lock.lock();
            lock.unlock();
        }
        return (System.nanoTime() - t0) / 1e9 / n;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
