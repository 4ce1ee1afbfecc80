package io.multiproc.cli.bench;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.SegmentSource;
import io.multiproc.process.Pool;
import io.multiproc.process.SerializableFunction;
import io.multiproc.process.WorkerDiedException;
import io.multiproc.shared.SharedLong;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.IntStream;

import static io.multiproc.cli.bench.Scenarios.py;

/**
 * The Pool scenarios, each beside CPython's {@code multiprocessing.Pool} (bench/python/pool.py) in the
 * same run: {@code pool-map-tiny}, {@code pool-apply-latency}, {@code pool-map-cpu},
 * {@code pool-worker-death}. End-to-end rows include creating and closing the pool; work rows time
 * the call on a started pool, first call first (no warm-up), then steady state after warm-up calls.
 */
final class PoolScenarios {
    private static final int WORKERS = 2;
    private static final int TINY_ITEMS = 1_000_000;
    /** Fresh pools whose first map is timed (the median is the row). */
    private static final int FIRST_MAP_TRIALS = 3;
    private static final int ROUND_TRIPS = 5_000;
    /**
     * How long pool-apply-latency keeps calling between its two timed series (both sides): measured quiet,
     * a fresh pool's median fell from 12-14 us over its first 5,000 calls to 6-10 us after 45,000 and
     * 1.5-2 us after 60,000-80,000 (the caller's and the worker's round trip compiled by C2), ~1 s of
     * calls; as JMH's warm-up iterations, by time.
     */
    private static final double APPLY_WARM_UP_S = 1.5;
    private static final int PRIME_LIMIT = 200_000;
    private static final int PRIME_CHUNKS = 64;

    private final Python python;

    PoolScenarios(Python python) {
        this.python = python;
    }

    /**
     * map x -> x * x over 1,000,000 ints with the default chunk size: first the program as a user writes
     * it (create, map at once, close: end to end), then on {@value #FIRST_MAP_TRIALS} more pools the
     * first map once the workers are up (the median, the range beside it: one first map on this machine
     * swings 2x), then steady state on the last one, then the end-to-end program again once the spares are up
     * and this JVM is quiet (as written). CPython's side does the same on as many pools.
     */
    List<Row> mapTiny() throws InterruptedException {
        List<Integer> items = IntStream.range(0, TINY_ITEMS).boxed().toList();
        double endToEnd = createMapClose(items);
        double[] firsts = new double[FIRST_MAP_TRIALS];
        double steady = Double.NaN;
        double ready = 0;
        for (int trial = 0; trial < FIRST_MAP_TRIALS; trial++) {
            long t1 = System.nanoTime();
            try (Pool pool = Pool.create(WORKERS)) {
                check(pool.awaitReady(java.time.Duration.ofSeconds(60)), "workers not ready in 60 s");
                long t2 = System.nanoTime();
                ready = Math.max(ready, (t2 - t1) / 1e9);
                List<Integer> out = pool.map(x -> x * x, items);
                firsts[trial] = (System.nanoTime() - t2) / 1e9;
                check(out.get(TINY_ITEMS - 1) == (TINY_ITEMS - 1) * (TINY_ITEMS - 1), "wrong map result");
                if (trial == FIRST_MAP_TRIALS - 1) {
                    steady = best(5, () -> pool.map(x -> x * x, items));
                }
            }
        }
        Arrays.sort(firsts);
        double first = firsts[FIRST_MAP_TRIALS / 2];
        double[] coldFloor = floor(false);
        double[] warmedFloor = floor(true);
        // The same program as the end-to-end row, in a program that has run a while: its spare JVMs up and
        // this JVM quiet (the end-to-end row above met spares still booting, or none).
        Quiet.await(Quiet.MAX_WAIT);
        double asWritten = createMapClose(items);
        Optional<Map<String, String>> py = python.run("pool.py", "--scenario", "map-tiny", "--items", "" + TINY_ITEMS,
                "--trials", "" + (1 + FIRST_MAP_TRIALS));
        double pyTotal = Python.num(py, "total_s");
        double pyWork = Python.num(py, "work_s");
        return List.of(
                new Row("pool-map-tiny end to end", endToEnd, Double.NaN, pyTotal, Double.NaN, Row.ratio(pyTotal, endToEnd),
                        String.format("Pool(%d) create + map + close as a program writes it (the map waits for the workers); java %.3f s, "
                                + "cpython %s s; ratio = totals", WORKERS, endToEnd, py("%.3f", pyTotal))),
                new Row("pool-map-tiny as written", asWritten, Double.NaN, pyTotal, Double.NaN, Row.ratio(pyTotal, asWritten),
                        String.format("the same create + map + close in a program whose spare JVMs are up; java %.3f s, cpython %s s;"
                                + " ratio = totals", asWritten, py("%.3f", pyTotal))),
                new Row("pool-map-tiny", Double.NaN, first, pyTotal, pyWork, Row.ratio(pyWork, first),
                        String.format("the first map of %d fresh Pool(%d)s once their workers are up (at most %.3f s after create): "
                                + "median, java %.3f-%.3f s; cpython's median of %d maps, %s-%s s", FIRST_MAP_TRIALS, WORKERS, ready,
                                firsts[0], firsts[FIRST_MAP_TRIALS - 1], 1 + FIRST_MAP_TRIALS, py("%.3f", Python.num(py, "work_min_s")),
                                py("%.3f", Python.num(py, "work_max_s")))),
                floorRow("pool-map-tiny floor", coldFloor, pyWork, "its loop not run before (as a started pool's workers here)"),
                floorRow("pool-map-tiny floor, loop warmed", warmedFloor, pyWork,
                        "its loop first run 100 times with another function (a worker that warmed its map path)"),
                new Row("pool-map-tiny steady", Double.NaN, steady, pyTotal, pyWork, Row.ratio(pyWork, steady),
                        "best of 5 maps after the first"));
    }

    /** The half of the items a floor child holds; set by its prepare step, read by its work step (one JVM). */
    private static int[] floorItems;

    /**
     * A floor child's JVM: any option makes it a plain JVM (no spare, no AOT cache). A child with the AOT
     * cache's replayed training profiles ran a never-seen loop 1.5-2x slower here (decision 264), and the
     * floor is what the platform allows, not what our child settings do.
     */
    private static final List<String> PLAIN_JVM = List.of("-Dmultiproc.aotCache=false");

    /**
     * The platform's floor under pool-map-tiny's first map (decision 264), sorted seconds of
     * {@value #FIRST_MAP_TRIALS} trials: {@value #WORKERS} plain child JVMs, each holding its half of the
     * items in an int[] and its JIT quiet before the clock starts, get the function x -> x * x as encoded
     * bytes at go, decode it (its class never seen in that JVM, as a user's is to a worker) and apply it into
     * an int[]. No chunks, no transport, no results sent back, no parent work: less than any pool of JVMs
     * does for the same map. {@code loopWarmed}: each child first runs the same loop with another function.
     */
    private static double[] floor(boolean loopWarmed) throws InterruptedException {
        byte[] function = serialize((SerializableFunction<Integer, Integer>) x -> x * x);
        int half = TINY_ITEMS / WORKERS;
        double[] work = new double[FIRST_MAP_TRIALS];
        for (int trial = 0; trial < work.length; trial++) {
            work[trial] = Lockstep.run(WORKERS, PLAIN_JVM, i -> () -> {
                floorItems = IntStream.range(i * half, (i + 1) * half).toArray();
                if (loopWarmed) {
                    SerializableFunction<Integer, Integer> other = x -> x + 1;
                    for (int round = 0; round < 100; round++) {
                        applyAll(other, floorItems);
                    }
                }
                Lockstep.awaitJitQuiet();
            }, i -> () -> {
                int[] out = applyAll(deserialize(function), floorItems);
                long last = (i + 1L) * half - 1;
                check(out[half - 1] == (int) (last * last), "floor child " + i + ": wrong result " + out[half - 1]);
            }).work();
        }
        Arrays.sort(work);
        return work;
    }

    private static int[] applyAll(Function<Integer, Integer> f, int[] items) {
        int[] out = new int[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = f.apply(items[i]);
        }
        return out;
    }

    private static Row floorRow(String name, double[] work, double pyWork, String how) {
        double median = work[work.length / 2];
        return new Row(name, Double.NaN, median, Double.NaN, pyWork, Row.ratio(pyWork, median), String.format(
                "not a pool: %d plain child JVMs (no AOT cache), JIT quiet, each applying x -> x * x decoded at go (its class new"
                        + " to that JVM) over its %,d ints already in memory, %s; no transport, no results back, no parent work;"
                        + " median of %d, %.3f-%.3f s", WORKERS, TINY_ITEMS / WORKERS, how, work.length, work[0], work[work.length - 1]));
    }

    /** Encoded with the codec a pool sends its tasks with (serializable lambdas go through JDK serialization). */
    private static byte[] serialize(Object o) {
        BufferSink out = new BufferSink(256);
        BuiltinCodec.taskCodec().encode(o, out);
        return out.toByteArray();
    }

    @SuppressWarnings("unchecked")
    private static Function<Integer, Integer> deserialize(byte[] bytes) {
        return (Function<Integer, Integer>) BuiltinCodec.taskCodec().decode(SegmentSource.of(bytes));
    }

    /** Seconds for the program as a user writes it: Pool(2) create, map x -> x * x (the map waits for the workers), close. */
    private static double createMapClose(List<Integer> items) {
        long t0 = System.nanoTime();
        try (Pool pool = Pool.create(WORKERS)) {
            List<Integer> out = pool.map(x -> x * x, items);
            check(out.get(TINY_ITEMS - 1) == (TINY_ITEMS - 1) * (TINY_ITEMS - 1), "wrong map result");
        }
        return (System.nanoTime() - t0) / 1e9;
    }


    /**
     * One tiny {@code applyAsync(() -> 1).get()} at a time on a Pool(2), twice: the first
     * {@value #ROUND_TRIPS} calls of a fresh pool (its workers' JIT still compiling the round trip: the
     * latency a short program meets), then {@value #ROUND_TRIPS} calls on the same pool after calling for
     * {@value #APPLY_WARM_UP_S} s more (the round trip compiled in the caller and the worker: the idle
     * pool's steady state). CPython's side does the same on its Pool(2).
     */
    List<Row> applyLatency() throws InterruptedException {
        double[] first = new double[ROUND_TRIPS];
        double[] steady = new double[ROUND_TRIPS];
        long warmUpCalls = 0;
        try (Pool pool = Pool.create(WORKERS)) {
            check(pool.awaitReady(java.time.Duration.ofSeconds(60)), "workers not ready in 60 s");
            long workerPid = get(pool.applyAsync(() -> ProcessHandle.current().pid()));
            check(workerPid != ProcessHandle.current().pid(), "the task ran in the caller's process");
            timeApplies(pool, first);
            long warmUpEnd = System.nanoTime() + (long) (APPLY_WARM_UP_S * 1e9);
            while (System.nanoTime() - warmUpEnd < 0) {
                get(pool.applyAsync(() -> 1));
                warmUpCalls++;
            }
            timeApplies(pool, steady);
        }
        Optional<Map<String, String>> py = python.run("pool.py", "--scenario", "apply-latency", "--round-trips", "" + ROUND_TRIPS,
                "--warm-up-s", "" + APPLY_WARM_UP_S);
        double pyFirst = Python.num(py, "first_median_us");
        double pyMedian = Python.num(py, "median_us");
        return List.of(
                new Row("pool-apply-latency first calls", Double.NaN, first[ROUND_TRIPS / 2] / 1e6, Double.NaN, pyFirst / 1e6,
                        Row.ratio(pyFirst, first[ROUND_TRIPS / 2]), String.format(
                        "the first %,d calls of a fresh pool (workers up): median %.1f us, p99 %.1f us; cpython Pool.apply's first %,d: median %s us",
                        ROUND_TRIPS, first[ROUND_TRIPS / 2], first[(int) (ROUND_TRIPS * 0.99)], ROUND_TRIPS, py("%.1f", pyFirst)), FirstRun.PHASE),
                new Row("pool-apply-latency", Double.NaN, steady[ROUND_TRIPS / 2] / 1e6, Double.NaN, pyMedian / 1e6,
                        Row.ratio(pyMedian, steady[ROUND_TRIPS / 2]), String.format(
                        "idle pool, after %,d calls (%.1f s of warm-up): median %.1f us, p99 %.1f us; cpython Pool.apply median %s us, p99 %s us (after %s calls)",
                        ROUND_TRIPS + warmUpCalls, APPLY_WARM_UP_S, steady[ROUND_TRIPS / 2], steady[(int) (ROUND_TRIPS * 0.99)], py("%.1f", pyMedian),
                        py("%.1f", Python.num(py, "p99_us")), py("%,.0f", Python.num(py, "calls_before")))));
    }

    /** Times {@code us.length} tiny round trips one after another; sorted microseconds in {@code us}. */
    private static void timeApplies(Pool pool, double[] us) throws InterruptedException {
        for (int i = 0; i < us.length; i++) {
            long t0 = System.nanoTime();
            int one = get(pool.applyAsync(() -> 1));
            us[i] = (System.nanoTime() - t0) / 1e3;
            check(one == 1, "wrong result " + one);
        }
        Arrays.sort(us);
    }

    /** Counting primes below 200,000 by trial division, in 64 chunks. */
    List<Row> mapCpu() throws InterruptedException {
        List<int[]> bounds = new ArrayList<>();
        for (int i = 0; i < PRIME_CHUNKS; i++) {
            bounds.add(new int[] {(int) ((long) PRIME_LIMIT * i / PRIME_CHUNKS), (int) ((long) PRIME_LIMIT * (i + 1) / PRIME_CHUNKS)});
        }
        long t0 = System.nanoTime();
        double work;
        int primes;
        try (Pool pool = Pool.create(WORKERS)) {
            check(pool.awaitReady(java.time.Duration.ofSeconds(60)), "workers not ready in 60 s");
            long t1 = System.nanoTime();
            primes = pool.map(PoolScenarios::countPrimes, bounds, 1).stream().mapToInt(Integer::intValue).sum();
            work = (System.nanoTime() - t1) / 1e9;
        }
        double total = (System.nanoTime() - t0) / 1e9;
        Optional<Map<String, String>> py = python.run("pool.py", "--scenario", "map-cpu", "--limit", "" + PRIME_LIMIT);
        double pyWork = Python.num(py, "work_s");
        String pyPrimes = py.map(v -> v.get("primes")).orElse("n/a");
        return List.of(new Row("pool-map-cpu", total, work, Python.num(py, "total_s"), pyWork, Row.ratio(pyWork, work),
                String.format("primes below %d in %d chunks: java %d, cpython %s; first map once the workers are up, no warm-up", PRIME_LIMIT,
                        PRIME_CHUNKS, primes, pyPrimes)));
    }

    static int countPrimes(int[] range) {
        int n = 0;
        for (int k = Math.max(range[0], 2); k < range[1]; k++) {
            boolean prime = true;
            for (int d = 2; d * d <= k; d++) {
                if (k % d == 0) {
                    prime = false;
                    break;
                }
            }
            if (prime) {
                n++;
            }
        }
        return n;
    }

    /** SIGKILL of a busy worker: time to the caller's WorkerDiedException, and to the replacement's first result. */
    List<Row> workerDeath() throws InterruptedException {
        int rounds = 5;
        double[] toFailure = new double[rounds];
        double[] toReplacement = new double[rounds];
        try (Pool pool = Pool.create(1); SharedLong running = SharedLong.create(0)) {
            get(pool.applyAsync(() -> 0));
            for (int r = 0; r < rounds; r++) {
                running.set(0);
                CompletableFuture<Object> busy = pool.applyAsync(() -> {
                    running.set(ProcessHandle.current().pid());
                    while (true) {
                        Thread.onSpinWait();
                    }
                });
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (running.get() == 0 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                long t0 = System.nanoTime();
                ProcessHandle.of(running.get()).ifPresent(ProcessHandle::destroyForcibly);
                try {
                    busy.get(30, TimeUnit.SECONDS);
                    throw new IllegalStateException("the killed task returned");
                } catch (ExecutionException e) {
                    check(e.getCause() instanceof WorkerDiedException, "not a WorkerDiedException: " + e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new IllegalStateException("no WorkerDiedException within 30 s", e);
                }
                toFailure[r] = (System.nanoTime() - t0) / 1e6;
                get(pool.applyAsync(() -> 1));
                toReplacement[r] = (System.nanoTime() - t0) / 1e6;
            }
        }
        Arrays.sort(toFailure);
        Arrays.sort(toReplacement);
        Optional<Map<String, String>> py = python.run("pool.py", "--scenario", "worker-death", "--wait-s", "2");
        String pyNote = py.map(v -> "1".equals(v.get("hung")) ? "cpython: no result and no error after " + v.get("waited_s") + " s (hangs, gh-66587)"
                : "cpython: the result or an error arrived").orElse("cpython n/a");
        return List.of(new Row("pool-worker-death", toReplacement[rounds / 2] / 1e3, toFailure[rounds / 2] / 1e3, Double.NaN,
                Double.NaN, Double.NaN, String.format("SIGKILL to WorkerDiedException median %.1f ms (min %.1f, max %.1f); "
                        + "to the replacement's first result median %.0f ms; %s", toFailure[rounds / 2], toFailure[0],
                        toFailure[rounds - 1], toReplacement[rounds / 2], pyNote)));
    }

    private static double best(int times, Runnable r) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < times; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    private static <T> T get(CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("pool task failed", e);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }
}
