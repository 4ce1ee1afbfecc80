package io.multiproc.cli.bench;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.process.Pool;
import io.multiproc.queue.Connection;
import io.multiproc.queue.Pipe;
import io.multiproc.queue.SharedQueue;
import io.multiproc.shared.SharedDoubleArray;
import io.multiproc.shared.SharedLong;
import io.multiproc.shm.ShareableList;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.LongStream;

import static io.multiproc.cli.bench.Scenarios.py;

/**
 * First-run rows: each scenario's program as a user writes it from the README (no warm-up in the
 * children, spare JVMs in their default state), run once in a fresh JVM of its own and timed there from
 * its first call into multiproc to its last {@code join}, beside CPython's same program run once in a
 * fresh {@code python3} (bench/python/NAME.py {@code --first-run 1}), timed the same way. This is what
 * a user waits for; the scenarios' other rows, warmed up, are the steady state.
 *
 * <p>The notes add each whole process's wall time (JVM or interpreter start to exit), which the
 * in-program figure leaves out on both sides.
 *
 * <p>The programs below are the README's snippets with the scenario's sizes: keep them the same.
 */
public final class FirstRun {
    static final String PHASE = "first run";
    static final String STEADY = "steady state";

    private static final int COUNTER_INCREMENTS = 100_000;
    private static final int SQUARE_DOUBLES = 20_000_000;
    private static final int SHAREABLE_ITEMS = 99_999;
    private static final int QUEUE_ITEMS = 200_000;
    private static final int ROUND_TRIPS = 20_000;
    private static final int HANDOFFS = 100_000;
    private static final int MANAGER_PROCS = 4;
    private static final int MANAGER_APPENDS = 10_000;
    private static final int POOL_WORKERS = 2;
    private static final int POOL_ITEMS = 1_000_000;

    private FirstRun() {
    }

    /** The first-run rows of {@code scenario}: none for process-start, which measures starts itself. */
    static List<Row> rows(String scenario, Python python) {
        return switch (scenario) {
            case "value-counter" -> {
                Optional<Map<String, String>> py = python.run("value_counter.py", "--first-run", "1",
                        "--increments", "" + COUNTER_INCREMENTS);
                yield List.of(row("value-counter", "value-counter", py, "python Value + get_lock()"),
                        row("value-counter locked (getLock)", "value-counter-locked", py, "python Value + get_lock()"));
            }
            case "shm-square" -> List.of(row("shm-square", "shm-square",
                    python.run("shm_square.py", "--first-run", "1", "--doubles", "" + SQUARE_DOUBLES), "python numpy"));
            case "shareable-double" -> List.of(row("shareable-double", "shareable-double",
                    python.run("shareable_double.py", "--first-run", "1", "--items", "" + SHAREABLE_ITEMS),
                    "python ShareableList"));
            case "queue-throughput" -> List.of(row("queue-throughput", "queue-throughput",
                    python.run("queue_throughput.py", "--first-run", "1", "--items", "" + QUEUE_ITEMS), "python Queue"));
            case "pipe-pingpong" -> List.of(row("pipe-pingpong", "pipe-pingpong",
                    python.run("pipe_pingpong.py", "--first-run", "1", "--round-trips", "" + ROUND_TRIPS),
                    "python Pipe send/recv"));
            case "lock-handoff" -> List.of(row("lock-handoff", "lock-handoff",
                    python.run("lock_handoff.py", "--first-run", "1", "--handoffs", "" + HANDOFFS), "python Lock"));
            case "manager-list-append" -> List.of(row("manager-list-append", "manager-list-append",
                    python.run("manager_list_append.py", "--first-run", "1", "--procs", "" + MANAGER_PROCS,
                            "--appends", "" + MANAGER_APPENDS), "python Manager().list()"));
            case "pool-map-tiny" -> List.of(row("pool-map-tiny", "pool-map-tiny",
                    python.run("pool.py", "--scenario", "map-tiny", "--first-run", "1", "--items", "" + POOL_ITEMS),
                    "python Pool(2).map"));
            case "lock-takeover" -> List.of(row("lock-takeover after SIGKILL", "lock-takeover", Optional.empty(),
                    "cpython Lock: the waiter blocks forever, nothing to time"));
            default -> List.of();
        };
    }

    private static Row row(String label, String program, Optional<Map<String, String>> py, String pyName) {
        Optional<Map<String, String>> java = runFresh(program);
        double javaS = Python.num(java, "first_run_s");
        double pyS = Python.num(py, "first_run_s");
        // NOTE: a run that failed or reported verified=0 is empty (Python.runCommand): no numbers, and
        // stderr says which of the two it was.
        String javaNote = String.format(Locale.ROOT, "the program once in a fresh JVM: java %s s%s (whole JVM %s s); ",
                py("%.3f", javaS), java.isPresent() ? "" : " FAILED or WRONG RESULT (see stderr)",
                py("%.2f", Python.num(java, "process_s")));
        String pyNote = pyName.startsWith("python") ? String.format(Locale.ROOT, "%s %s s (whole python3 %s s)", pyName,
                py("%.3f", pyS), py("%.2f", Python.num(py, "process_s"))) : pyName;
        String notes = javaNote + pyNote;
        return new Row(label, javaS, Double.NaN, pyS, Double.NaN, Row.ratio(pyS, javaS), notes, PHASE);
    }

    /** Runs {@code program} in a new JVM with the same class path; its key=value lines plus process_s. */
    private static Optional<Map<String, String>> runFresh(String program) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return Python.runCommand(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), FirstRun.class.getName(), program));
    }

    /** Runs one program (args[0]) in this JVM and prints first_run_s and verified as key=value lines. */
    public static void main(String[] args) throws Exception {
        boolean verified = switch (args[0]) {
            case "value-counter" -> valueCounter();
            case "value-counter-locked" -> valueCounterLocked();
            case "shm-square" -> shmSquare();
            case "shareable-double" -> shareableDouble();
            case "queue-throughput" -> queueThroughput();
            case "pipe-pingpong" -> pipePingpong();
            case "lock-handoff" -> lockHandoff();
            case "lock-takeover" -> lockTakeover();
            case "manager-list-append" -> managerListAppend();
            case "pool-map-tiny" -> poolMapTiny();
            default -> throw new IllegalArgumentException("program=" + args[0] + " is not a first-run program");
        };
        // Each program's clock starts at its first call and stops at its last join: the programs set it.
        System.out.printf(Locale.ROOT, "first_run_s=%.6f%nverified=%d%n", elapsed / 1e9, verified ? 1 : 0);
        System.out.flush();
    }

    /** Nanoseconds from the program's first call to its last join. */
    private static long elapsed;
    private static long started;

    private static void start() {
        started = System.nanoTime();
    }

    private static void stop() {
        elapsed = System.nanoTime() - started;
    }

    // ------------------------------------------------------------------ the programs (README snippets)

    /** The README's Pool snippet with the scenario's sizes: Pool(2), map x -> x * x over 1,000,000 ints, close. */
    static boolean poolMapTiny() {
        List<Integer> items = java.util.stream.IntStream.range(0, POOL_ITEMS).boxed().toList();
        start();
        List<Integer> squares;
        try (Pool pool = Pool.create(POOL_WORKERS)) {
            squares = pool.map(x -> x * x, items);
        }
        stop();
        boolean ok = squares.size() == POOL_ITEMS;
        for (int i = 0; ok && i < POOL_ITEMS; i++) {
            ok = squares.get(i) == i * i;
        }
        return ok;
    }

    /** Seed 000, the README's snippet: Manager, 4 children appending 10,000 ints each, joins, the list read, close. */
    static boolean managerListAppend() throws InterruptedException {
        start();
        List<Integer> all;
        try (Manager m = Manager.start()) {
            List<Integer> ls = m.list();
            List<ChildProcess> children = new ArrayList<>();
            for (int c = 0; c < MANAGER_PROCS; c++) {
                int base = c * MANAGER_APPENDS;
                children.add(ChildProcess.start(() -> { for (int i = 0; i < MANAGER_APPENDS; i++) ls.add(base + i); }));
            }
            for (ChildProcess c : children) c.join();
            all = new ArrayList<>(ls);
        }
        stop();
        long n = (long) MANAGER_PROCS * MANAGER_APPENDS;
        return all.size() == n && all.stream().mapToLong(Integer::longValue).sum() == n * (n - 1) / 2;
    }

    static boolean valueCounter() throws InterruptedException {
        start();
        try (SharedLong counter = SharedLong.create(0)) {
            ChildProcess a = ChildProcess.start(() -> { for (int i = 0; i < 100_000; i++) counter.incrementAndGet(); });
            ChildProcess b = ChildProcess.start(() -> { for (int i = 0; i < 100_000; i++) counter.incrementAndGet(); });
            a.join(); b.join();
            stop();
            return counter.get() == 2 * COUNTER_INCREMENTS;
        }
    }

    static boolean valueCounterLocked() throws InterruptedException {
        start();
        try (SharedLong counter = SharedLong.create(0)) {
            ChildProcess a = ChildProcess.start(() -> lockedIncrements(counter));
            ChildProcess b = ChildProcess.start(() -> lockedIncrements(counter));
            a.join(); b.join();
            stop();
            return counter.get() == 2 * COUNTER_INCREMENTS;
        }
    }

    private static void lockedIncrements(SharedLong counter) {
        SharedRLock guard = counter.getLock();
        for (int i = 0; i < 100_000; i++) {
            guard.lock();
            try { counter.set(counter.get() + 1); } finally { guard.unlock(); }
        }
    }

    static boolean shmSquare() throws InterruptedException {
        start();
        try (SharedDoubleArray a = SharedDoubleArray.create(20_000_000)) {
            a.setAll(i -> i % 1000);
            int half = a.length() / 2;
            ChildProcess p = ChildProcess.start(() -> a.replaceAll(0, half, x -> x * x));
            ChildProcess q = ChildProcess.start(() -> a.replaceAll(half, a.length(), x -> x * x));
            p.join(); q.join();
            stop();
            for (int i = 0; i < a.length(); i += 997) {
                double x = i % 1000;
                if (a.get(i) != x * x) {
                    return false;
                }
            }
            return a.get(a.length() - 1) == Math.pow((a.length() - 1) % 1000, 2);
        }
    }

    static boolean shareableDouble() throws IOException, InterruptedException {
        start();
        try (ShareableList sl = ShareableList.create(null, LongStream.range(0, 99_999).boxed().toList())) {
            int half = sl.size() / 2;
            ChildProcess p = ChildProcess.start(() -> sl.replaceAllLongs(0, half, x -> x * 2));
            ChildProcess q = ChildProcess.start(() -> sl.replaceAllLongs(half, sl.size(), x -> x * 2));
            p.join(); q.join();
            stop();
            try {
                for (int i = 0; i < sl.size(); i++) {
                    if (sl.getLong(i) != 2L * i) {
                        return false;
                    }
                }
                return sl.size() == SHAREABLE_ITEMS;
            } finally {
                sl.unlink();
            }
        }
    }

    static boolean queueThroughput() throws InterruptedException {
        start();
        try (SharedQueue<Integer> q = SharedQueue.create(16_384); SharedLong sum = SharedLong.create(0)) {
            ChildProcess producer = ChildProcess.start(() -> {
                try {
                    for (int i = 0; i < 200_000; i++) q.put(i);
                } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            });
            ChildProcess consumer = ChildProcess.start(() -> {
                try {
                    long s = 0;
                    for (int i = 0; i < 200_000; i++) s += q.take();
                    sum.set(s);
                } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            });
            producer.join(); consumer.join();
            stop();
            return sum.get() == (long) QUEUE_ITEMS * (QUEUE_ITEMS - 1) / 2;
        }
    }

    static boolean pipePingpong() throws InterruptedException {
        start();
        try (Pipe pipe = Pipe.open(true); SharedLong answered = SharedLong.create(0)) {
            Connection left = pipe.left(), right = pipe.right();
            ChildProcess ponger = ChildProcess.start(() -> {
                try {
                    for (int i = 0; i < 20_000; i++) right.send(right.recv());
                } catch (IOException e) { throw new UncheckedIOException(e); }
            });
            ChildProcess pinger = ChildProcess.start(() -> {
                try {
                    for (int i = 0; i < 20_000; i++) { left.send(i); if ((Integer) left.recv() == i) answered.incrementAndGet(); }
                } catch (IOException e) { throw new UncheckedIOException(e); }
            });
            pinger.join(); ponger.join();
            stop();
            return answered.get() == ROUND_TRIPS;
        }
    }

    static boolean lockHandoff() throws InterruptedException {
        start();
        try (SharedLock lock = SharedLock.create(); SharedLong turn = SharedLong.create(0)) {
            List<ChildProcess> children = new ArrayList<>();
            for (int me = 0; me < 2; me++) {
                int mine = me;
                children.add(ChildProcess.start(() -> Scenarios.handoff(lock, turn, mine, 2, 100_000, false)));
            }
            for (ChildProcess c : children) c.join();
            stop();
            return turn.get() == HANDOFFS;
        }
    }

    static boolean lockTakeover() throws InterruptedException {
        start();
        try (SharedLock lock = SharedLock.create(); SharedLong held = SharedLong.create(0)) {
            ChildProcess holder = ChildProcess.start(() -> {
                lock.lock();
                held.set(1);
                try { Thread.sleep(60_000); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            });
            while (held.get() == 0) {
                if (!holder.isAlive()) throw new IllegalStateException("the holder died before it took the lock");
                Thread.sleep(1);
            }
            holder.kill();
            lock.lock();
            boolean told = lock.previousOwnerDied();
            lock.unlock();
            holder.join();
            stop();
            return told;
        }
    }
}
