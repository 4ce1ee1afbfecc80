package io.multiproc.cli.bench;

import io.multiproc.shared.SharedDoubleArray;
import io.multiproc.shared.SharedInt;
import io.multiproc.shared.SharedLong;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/**
 * The scenario benchmarks: each runs the Java side, then the same workload in CPython through
 * bench/python, in the same run, and returns table rows.
 */
public final class Scenarios {
    public static final List<String> NAMES = List.of("value-counter", "shm-square", "process-start", "lock-handoff",
            "lock-takeover", "shm-many", "shareable-double", "queue-throughput", "pipe-pingpong",
            "pool-map-tiny", "pool-apply-latency", "pool-map-cpu", "pool-worker-death", "manager-list-append",
            "manager-dict-ops", "manager-nested", "manager-many", "manager-remote", "redis-pool-map", "redis-lock-pairs",
            "redis-list-append", "redis-dict-ops", "redis-queue");

    private final Python python;

    Scenarios(Python python) {
        this.python = python;
    }

    public static Scenarios withPython() {
        return new Scenarios(Python.find());
    }

    public Optional<String> pythonMissing() {
        return python.missing();
    }

    /**
     * The scenario's rows: first the first-run rows ({@link FirstRun}), then the scenario's own rows,
     * which are labelled steady state unless they carry a label (process-start measures starts).
     */
    public List<Row> run(String name) throws InterruptedException {
        List<Row> rows = new ArrayList<>(FirstRun.rows(name, python));
        for (Row r : runOwn(name)) {
            rows.add(r.phase().isEmpty() && !name.equals("process-start") ? r.withPhase(FirstRun.STEADY) : r);
        }
        return rows;
    }

    private List<Row> runOwn(String name) throws InterruptedException {
        return switch (name) {
            case "value-counter" -> valueCounter();
            case "shm-square" -> shmSquare();
            case "process-start" -> new StartScenarios(python).processStart();
            case "lock-handoff" -> lockHandoff();
            case "lock-takeover" -> SyncScenarios.lockTakeover();
            case "shm-many" -> new RegistryScenarios(python).many();
            case "shareable-double" -> ShareableScenarios.shareableDouble(python);
            case "queue-throughput" -> new QueueScenarios(python).queueThroughput();
            case "pipe-pingpong" -> new QueueScenarios(python).pipePingpong();
            case "manager-list-append" -> new ManagerScenarios(python).listAppend();
            case "manager-dict-ops" -> new ManagerScenarios(python).dictOps();
            case "manager-nested" -> new ManagerScenarios(python).nested();
            case "manager-many" -> new ManagerScenarios(python).many();
            case "manager-remote" -> new RemoteManagerScenarios(python).managerRemote();
            case "redis-lock-pairs" -> new RedisSyncScenarios(python).lockPairs();
            case "redis-list-append" -> new RedisScenarios(python).listAppend();
            case "redis-dict-ops" -> new RedisScenarios(python).dictOps();
            case "redis-queue" -> new RedisScenarios(python).queue();
            case "pool-map-tiny" -> new PoolScenarios(python).mapTiny();
            case "pool-apply-latency" -> new PoolScenarios(python).applyLatency();
            case "pool-map-cpu" -> new PoolScenarios(python).mapCpu();
            case "pool-worker-death" -> new PoolScenarios(python).workerDeath();
            case "redis-pool-map" -> new RedisPoolScenarios(python).map();
            default -> throw new IllegalArgumentException("scenario=" + name + " is not one of " + NAMES);
        };
    }

    /** 2 processes x 100,000 increments of one shared int; lock-free in Java, Value + get_lock() in CPython. */
    private List<Row> valueCounter() throws InterruptedException {
        int processes = 2;
        int increments = 100_000;
        Lockstep.Times t;
        long lost;
        try (SharedInt counter = SharedInt.create(0)) {
            t = Lockstep.run(processes, i -> () -> {
                // JIT warm-up on a private counter: CPython has no JIT to warm, and the interpreter's
                // first ~10,000 calls would otherwise dominate a 200,000-increment run.
                try (SharedInt own = SharedInt.create(0)) {
                    increment(own, increments);
                }
            }, i -> () -> increment(counter, increments));
            lost = (long) processes * increments - counter.get();
        }
        Optional<Map<String, String>> py = python.run("value_counter.py", "--processes", "" + processes,
                "--increments", "" + increments);
        double pyTotal = Python.num(py, "locked_total_s");
        double pyWork = Python.num(py, "locked_work_s");
        double total = (double) processes * increments;
        String notes = String.format("java incrementAndGet %.1fM/s, lost %d; cpython get_lock() %sM/s; cpython unlocked lost %s",
                total / t.work() / 1e6, lost, py("%.2f", total / pyWork / 1e6), py.map(v -> v.get("unlocked_lost")).orElse("n/a"));
        Lockstep.Times locked;
        long lockedLost;
        try (SharedInt counter = SharedInt.create(0)) {
            locked = Lockstep.run(processes, i -> () -> {
                try (SharedInt own = SharedInt.create(0)) {
                    lockedIncrement(own, increments);
                }
            }, i -> () -> lockedIncrement(counter, increments));
            lockedLost = (long) processes * increments - counter.get();
        }
        String lockedNotes = String.format("java getLock() + get/set %.1fM/s, lost %d; cpython get_lock() %sM/s",
                total / locked.work() / 1e6, lockedLost, py("%.2f", total / pyWork / 1e6));
        return List.of(new Row("value-counter", t.total(), t.work(), pyTotal, pyWork, Row.ratio(pyWork, t.work()), notes),
                new Row("value-counter locked (getLock)", locked.total(), locked.work(), pyTotal, pyWork,
                        Row.ratio(pyWork, locked.work()), lockedNotes));
    }

    static void lockedIncrement(SharedInt counter, int times) {
        SharedRLock lock = counter.getLock();
        for (int k = 0; k < times; k++) {
            lock.lock();
            try {
                counter.set(counter.get() + 1); // a compound update: only correct under the lock
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Two processes pass one lock back and forth 100,000 times. Each waits for its turn (a shared
     * counter, read without the lock), then locks, advances the turn and unlocks. A second row checks
     * the turn inside the lock instead (every failed check is a lock acquisition): that measures how
     * the lock behaves when the process that just released it comes straight back.
     */
    private List<Row> lockHandoff() throws InterruptedException {
        int handoffs = 100_000;
        double roundTrips = handoffs / 2.0;
        List<Row> rows = new ArrayList<>();
        for (boolean inside : new boolean[] {false, true}) {
            Lockstep.Times t;
            long turns;
            try (SharedLock lock = SharedLock.create(); SharedLong turn = SharedLong.create(0)) {
                t = Lockstep.run(2, i -> () -> {
                    try (SharedLock own = SharedLock.create(); SharedLong ownTurn = SharedLong.create(0)) {
                        handoff(own, ownTurn, 0, 1, 20_000, inside); // JIT warm-up, alone: every turn is ours
                    }
                }, i -> () -> handoff(lock, turn, i, 2, handoffs, inside));
                turns = turn.get();
            }
            Optional<Map<String, String>> py = python.run("lock_handoff.py", "--handoffs", "" + handoffs,
                    "--inside", inside ? "1" : "0");
            double pyWork = Python.num(py, "work_s");
            String notes = String.format("java %.2f us per round trip (2 hand-offs)%s; cpython Lock %s us",
                    t.work() / roundTrips * 1e6, turns == handoffs ? "" : " WRONG COUNT " + turns, py("%.2f", pyWork / roundTrips * 1e6));
            rows.add(new Row(inside ? "lock-handoff turn checked under the lock" : "lock-handoff", t.total(), t.work(),
                    Python.num(py, "total_s"), pyWork, Row.ratio(pyWork, t.work()), notes));
        }
        return rows;
    }

    static void handoff(SharedLock lock, SharedLong turn, int me, int parties, int handoffs, boolean inside) {
        for (;;) {
            if (!inside) {
                long seen;
                while ((seen = turn.get()) < handoffs && seen % parties != me) {
                    Thread.onSpinWait();
                }
            }
            lock.lock();
            try {
                long t = turn.get();
                if (t >= handoffs) {
                    return;
                }
                if (t % parties == me) {
                    turn.set(t + 1);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    static void increment(SharedInt counter, int times) {
        for (int k = 0; k < times; k++) {
            counter.incrementAndGet();
        }
    }

    /** 20,000,000 doubles squared in place by 2 processes, each half. */
    private List<Row> shmSquare() throws InterruptedException {
        int processes = 2;
        int n = 20_000_000;
        Lockstep.Times t;
        boolean verified;
        try (SharedDoubleArray a = SharedDoubleArray.create(n)) {
            MemorySegment data = a.segment();
            a.setAll(i -> i % 1000);
            t = Lockstep.run(processes, i -> {
                long from = (long) n * i / processes;
                long to = (long) n * (i + 1) / processes;
                return () -> {
                    // Before go, as the CPython script does: touch this child's pages (page faults of a
                    // fresh mapping), and compile the loop (a JIT warm-up CPython does not need).
                    touch(a.segment(), from, to);
                    try (SharedDoubleArray own = SharedDoubleArray.create(1 << 16)) {
                        for (int k = 0; k < 300; k++) {
                            square(own, 0, own.length());
                        }
                    }
                };
            }, i -> {
                long from = (long) n * i / processes;
                long to = (long) n * (i + 1) / processes;
                return () -> square(a, (int) from, (int) to);
            });
            verified = true;
            for (long i = 0; i < n; i++) {
                double x = i % 1000;
                if (data.getAtIndex(JAVA_DOUBLE, i) != x * x) {
                    verified = false;
                    break;
                }
            }
        }
        double bytes = n * 16.0;
        Optional<Map<String, String>> py = python.run("shm_square.py", "--doubles", "" + n, "--processes", "" + processes);
        double pyWork = Python.num(py, "work_s");
        String notes = String.format("java %.1f GB/s%s; cpython numpy %s GB/s", bytes / t.work() / 1e9,
                verified ? "" : " WRONG RESULT", py("%.1f", bytes / pyWork / 1e9));
        return List.of(new Row("shm-square replaceAll(x -> x * x)", t.total(), t.work(), Python.num(py, "total_s"), pyWork,
                Row.ratio(pyWork, t.work()), notes));
    }

    static double touch(MemorySegment data, long from, long to) {
        double sum = 0;
        for (long i = from; i < to; i += 512) { // one read per 4 KiB page
            sum += data.getAtIndex(JAVA_DOUBLE, i);
        }
        return sum;
    }

    /** The README's way: one call, the library's loop (the first-run row runs the same call, unwarmed). */
    static void square(SharedDoubleArray a, int from, int to) {
        a.replaceAll(from, to, x -> x * x);
    }

    /** A CPython-side number for the notes; "n/a" when CPython's side did not run. */
    static String py(String format, double value) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "n/a" : String.format(java.util.Locale.ROOT, format, value);
    }
}
