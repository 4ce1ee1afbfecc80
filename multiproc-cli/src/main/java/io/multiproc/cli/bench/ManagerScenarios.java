package io.multiproc.cli.bench;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.local.LocalManager;
import io.multiproc.manager.local.ManagerWarmUp;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLongArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentMap;

import static io.multiproc.cli.bench.Scenarios.py;

/**
 * The Manager scenarios, beside CPython's {@code multiprocessing.Manager()} in the same run:
 * {@code manager-list-append} (seed 000: 4 processes x 10,000 appends to one list),
 * {@code manager-dict-ops} (set/get on a 100-key dict, 1 process and 2 contending),
 * {@code manager-nested} (seed 001's nested changes, per op) and {@code manager-many} (a dict of
 * 100,000 lists of 10 ints built by one process and summed by another).
 */
final class ManagerScenarios {
    private static final int PROCS = 4;
    private static final int APPENDS = 10_000;
    private static final int DICT_OPS = 1_000_000;
    private static final int PY_DICT_OPS = 20_000;
    private static final int NESTED_ROUNDS = 20_000;
    private static final int PY_NESTED_ROUNDS = 2_000;
    private static final int MANY = 100_000;

    private final Python python;

    ManagerScenarios(Python python) {
        this.python = python;
    }

    // ------------------------------------------------------------------ manager-list-append

    /**
     * How many times the warmed row and the floor run, each with fresh children: one such work phase (4
     * processes taking turns on 2 cores, ~5-20 ms) swung 3x from run to run (6.4 to 18.9 ms), so a single
     * one said more about the scheduler's luck than about the list. The rows give the median and the range.
     */
    private static final int CONTENDED_TRIALS = 3;

    List<Row> listAppend() throws InterruptedException {
        Optional<Map<String, String>> py = python.run("manager_list_append.py", "--procs", "" + PROCS,
                "--appends", "" + APPENDS);
        double pyTotal = Python.num(py, "manager_total_s");
        double pyWork = Python.num(py, "manager_work_s");
        double pyQueueTotal = Python.num(py, "queue_total_s");
        double pyQueueWork = Python.num(py, "queue_work_s");
        List<Row> rows = new ArrayList<>();
        for (boolean warmed : new boolean[] {false, true}) {
            Trial[] trials = new Trial[warmed ? CONTENDED_TRIALS : 1];
            for (int k = 0; k < trials.length; k++) {
                trials[k] = appendTrial(warmed);
            }
            Trial t = Trial.median(trials);
            long expected = (long) PROCS * APPENDS;
            String notes = String.format("%s; java %.2fM appends/s; cpython %s appends/s; children start cold%s",
                    Trial.checks(trials, expected), expected / t.work() / 1e6, py("%.0f", expected / pyWork), warmed
                            ? ", JIT warmed as a spare is (its compiler queue done) and on another list; " + Trial.spread(trials)
                            : "");
            rows.add(new Row(warmed ? "manager-list-append warmed" : "manager-list-append", t.total(), t.work(), pyTotal, pyWork,
                    Row.ratio(pyWork, t.work()), notes));
            if (!warmed) {
                rows.add(new Row("manager-list-append vs cpython local list + Queue", t.total(), t.work(), pyQueueTotal, pyQueueWork,
                        Row.ratio(pyQueueTotal, t.total()), "cpython's workaround: each child appends to a local list and puts it once on a Queue; ratio = totals"));
            }
        }
        rows.add(floor(pyWork, false));
        rows.add(floor(pyWork, true));
        rows.add(asWritten(pyTotal));
        return rows;
    }

    /** One run of seed 000's children on a fresh manager: the times, then what the list held. */
    private static Trial appendTrial(boolean warmed) throws InterruptedException {
        long t0 = System.nanoTime();
        Lockstep.Times t;
        long n;
        long sum;
        try (Manager m = Manager.start()) {
            List<Integer> ls = m.list();
            List<Integer> scratch = m.list();
            t = Lockstep.run(PROCS, i -> () -> {
                if (warmed) { // JIT warm-up: what a spare runs (contended appends included), then another list
                    ManagerWarmUp.run(2_000, 12, () -> false);
                    appendRange(scratch, 0, APPENDS);
                    Lockstep.awaitJitQuiet();
                }
            }, i -> () -> appendRange(ls, i * APPENDS, APPENDS));
            List<Integer> all = new ArrayList<>(ls);
            n = all.size();
            sum = all.stream().mapToLong(Integer::longValue).sum();
        }
        return new Trial((System.nanoTime() - t0) / 1e9, t.work(), n, sum);
    }

    /** One contended run: total and work phase in seconds, and the count and sum of what was appended. */
    private record Trial(double total, double work, long n, long sum) {
        /** The trial whose work phase is the median (the middle one of an odd count). */
        static Trial median(Trial[] trials) {
            Trial[] sorted = trials.clone();
            java.util.Arrays.sort(sorted, java.util.Comparator.comparingDouble(Trial::work));
            return sorted[sorted.length / 2];
        }

        /** "all N present, sum ok" if every trial holds 0..expected-1 exactly, else what the first bad one held. */
        static String checks(Trial[] trials, long expected) {
            for (Trial t : trials) {
                if (t.n != expected || t.sum != expected * (expected - 1) / 2) {
                    return "LOST: n=" + t.n;
                }
            }
            return "all " + expected + " present, sum ok" + (trials.length > 1 ? " in each of " + trials.length + " runs" : "");
        }

        /** "median of 3 runs with fresh children, work phases 6.4-18.9 ms". */
        static String spread(Trial[] trials) {
            double min = Double.MAX_VALUE;
            double max = 0;
            for (Trial t : trials) {
                min = Math.min(min, t.work);
                max = Math.max(max, t.work);
            }
            return String.format("median of %d runs with fresh children, work phases %.1f-%.1f ms", trials.length, min * 1e3, max * 1e3);
        }
    }

    /** Where a bare lock's words sit in the floor rows' array: lock, size (a line apart), then the slots. */
    private static final int FLOOR_LOCK = 0;
    private static final int FLOOR_SIZE = 8;
    private static final int FLOOR_SLOTS = 16;

    /**
     * The platform's floors for seed 000, in the same run: the same 4 children and lock step, each appending
     * 10,000 longs to one {@link SharedLongArray} with no codec, no manager and no crash handling. The locked
     * floor takes a bare compare-and-set lock (spin, then yield) per append: no lock-based shared list can
     * beat it here. The lock-free floor only claims a slot with one fetch-and-add and stores into it, the
     * least any shared list whose appends all processes see in one order can do (one contended word):
     * its ratio says what target this machine allows at all (on 2 cores, 4 processes take turns).
     */
    private static Row floor(double pyWork, boolean lockFree) throws InterruptedException {
        Trial[] trials = new Trial[CONTENDED_TRIALS];
        for (int k = 0; k < trials.length; k++) {
            trials[k] = floorTrial(lockFree);
        }
        Trial t = Trial.median(trials);
        String how = lockFree
                ? "claiming each slot with one fetch-and-add on a shared size word (no lock), JIT warmed; the most any"
                        + " shared list with one append order can reach on this machine"
                : "under a bare CAS lock (spin, then yield), JIT warmed; the most a locked shared list can reach on this machine";
        return new Row(lockFree ? "manager-list-append lock-free floor" : "manager-list-append floor", t.total(), t.work(),
                Double.NaN, pyWork, Row.ratio(pyWork, t.work()),
                String.format("%s; not a manager: 4 children x 10,000 appends of a long to one SharedLongArray %s; %s",
                        Trial.checks(trials, (long) PROCS * APPENDS), how, Trial.spread(trials)));
    }

    private static Trial floorTrial(boolean lockFree) throws InterruptedException {
        int n = PROCS * APPENDS;
        Lockstep.Times t;
        long size;
        long sum = 0;
        try (SharedLongArray list = SharedLongArray.create(FLOOR_SLOTS + n);
             SharedLongArray scratch = SharedLongArray.create(FLOOR_SLOTS + n)) {
            t = Lockstep.run(PROCS, i -> () -> {
                for (int round = 0; round < 20; round++) { // JIT warm-up, contended as the warmed row's, wrapping
                    bareAppends(scratch, n, lockFree, i + 1, 0, APPENDS);
                }
                Lockstep.awaitJitQuiet();
            }, i -> () -> bareAppends(list, n, lockFree, i + 1, i * APPENDS, APPENDS));
            size = list.get(FLOOR_SIZE);
            for (int k = 0; k < size; k++) {
                sum += list.get(FLOOR_SLOTS + k);
            }
        }
        return new Trial(t.total(), t.work(), size, sum);
    }

    /**
     * Appends {@code count} values, under the bare lock or lock-free (claim a slot, then store: a reader
     * would also need a per-slot ready mark, not paid here); slots wrap at {@code capacity} (the warm-up's do).
     */
    private static void bareAppends(SharedLongArray a, int capacity, boolean lockFree, long me, int base, int count) {
        for (int k = 0; k < count; k++) {
            if (lockFree) {
                long size = a.getAndAdd(FLOOR_SIZE, 1);
                a.setRelease(FLOOR_SLOTS + (int) (size % capacity), base + k);
                continue;
            }
            for (int spins = 0; !a.compareAndSet(FLOOR_LOCK, 0, me); spins++) {
                if (spins < 100) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            long size = a.get(FLOOR_SIZE);
            a.set(FLOOR_SLOTS + (int) (size % capacity), base + k);
            a.setRelease(FLOOR_SIZE, size + 1);
            a.setRelease(FLOOR_LOCK, 0);
        }
    }

    /**
     * Seed 000 exactly as a user writes it: spare JVMs on (the default), no lock-step gate, in a program
     * that has run a while: its spares booted and warmed up (the first-run row is a fresh program's).
     */
    private static Row asWritten(double pyTotal) throws InterruptedException {
        // NOTE: the warmed rows above ran with spares off; their replacements boot now and must be up
        // (and this JVM quiet) before the clock starts, or the row times cold starts it does not name.
        Quiet.await(Quiet.MAX_WAIT);
        long t0 = System.nanoTime();
        long n;
        try (Manager m = Manager.start()) {
            List<Integer> ls = m.list();
            List<ChildProcess> children = new ArrayList<>();
            for (int c = 0; c < PROCS; c++) {
                int base = c * APPENDS;
                children.add(ChildProcess.start(() -> appendRange(ls, base, APPENDS)));
            }
            for (ChildProcess c : children) {
                Lockstep.joinSucceeded(c);
            }
            n = new ArrayList<>(ls).size();
        }
        if (n != (long) PROCS * APPENDS) {
            throw new IllegalStateException("manager-list-append as written: " + n + " items, expected " + PROCS * APPENDS);
        }
        double total = (System.nanoTime() - t0) / 1e9;
        return new Row("manager-list-append as written", total, Double.NaN, pyTotal, Double.NaN, Row.ratio(pyTotal, total),
                "in a program whose spare JVMs are up: Manager.start, 4 x ChildProcess.start, appends, joins, read: " + n + " items; ratio = totals");
    }

    static void appendRange(List<Integer> ls, int base, int n) {
        for (int i = 0; i < n; i++) {
            ls.add(base + i);
        }
    }

    // ------------------------------------------------------------------ manager-dict-ops

    List<Row> dictOps() throws InterruptedException {
        Optional<Map<String, String>> py = python.run("manager_dict_ops.py", "--ops", "" + PY_DICT_OPS);
        double pySet = Python.num(py, "set_us") * 1e-6;
        double pyGet = Python.num(py, "get_us") * 1e-6;
        double pyCSet = Python.num(py, "contended_set_us") * 1e-6;
        double pyCGet = Python.num(py, "contended_get_us") * 1e-6;
        double[] one;
        double[] two = new double[4];
        try (Manager m = Manager.start(); SharedLongArray out = SharedLongArray.create(4)) {
            ConcurrentMap<String, Integer> d = m.dict();
            ConcurrentMap<String, Integer> warm = m.dict();
            ManagerWarmUp.run(2_000, 12, () -> false); // JIT warm-up: what a spare runs, contention included
            dictWork(warm, DICT_OPS / 2);
            one = dictWork(d, DICT_OPS);
            Lockstep.run(2, i -> () -> {
                ManagerWarmUp.run(2_000, 12, () -> false);
                dictWork(m.<String, Integer>dict("warm" + i), DICT_OPS / 4);
                Lockstep.awaitJitQuiet();
            }, i -> () -> {
                double[] r = dictWork(d, DICT_OPS / 4);
                out.set(2 * i, Double.doubleToLongBits(r[0]));
                out.set(2 * i + 1, Double.doubleToLongBits(r[1]));
            });
            for (int i = 0; i < 4; i++) {
                two[i] = Double.longBitsToDouble(out.get(i));
            }
        }
        double cSet = (two[0] + two[2]) / 2;
        double cGet = (two[1] + two[3]) / 2;
        return List.of(
                opRow("manager-dict-ops set", one[0], pySet, "1 process, 100 keys, JIT warmed"),
                opRow("manager-dict-ops get", one[1], pyGet, "1 process, 100 keys, JIT warmed"),
                opRow("manager-dict-ops set contended", cSet, pyCSet, "2 processes on one dict, per op of one process"),
                opRow("manager-dict-ops get contended", cGet, pyCGet, "2 processes on one dict, per op of one process"));
    }

    /** A row whose work column is one operation's seconds. */
    private static Row opRow(String name, double javaOp, double pyOp, String what) {
        return new Row(name, Double.NaN, javaOp, Double.NaN, pyOp, Row.ratio(pyOp, javaOp),
                String.format("%s: java %.3f us/op, cpython %s us/op", what, javaOp * 1e6, py("%.1f", pyOp * 1e6)));
    }

    private static final String[] KEYS = new String[100];

    static {
        for (int i = 0; i < KEYS.length; i++) {
            KEYS[i] = "k" + i;
        }
    }

    /** {@code n} sets then {@code n} gets over 100 keys; seconds per set and per get. */
    static double[] dictWork(ConcurrentMap<String, Integer> d, int n) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            d.put(KEYS[i % 100], i);
        }
        long t1 = System.nanoTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += d.get(KEYS[i % 100]);
        }
        long t2 = System.nanoTime();
        if (sink == 42) {
            System.out.print("");
        }
        return new double[] {(t1 - t0) / 1e9 / n, (t2 - t1) / 1e9 / n};
    }

    // ------------------------------------------------------------------ manager-nested

    List<Row> nested() {
        Optional<Map<String, String>> py = python.run("manager_nested.py", "--rounds", "" + PY_NESTED_ROUNDS);
        double pyOp = Python.num(py, "op_us") * 1e-6;
        double op;
        try (Manager m = Manager.start()) {
            List<Object> ls = m.list();
            ls.add(0);
            ls.add(new ArrayList<>(List.of(0, 0)));
            ConcurrentMap<String, Object> d = m.dict();
            d.put("inner", new ArrayList<>(List.of(1)));
            d.put("counts", new java.util.HashMap<>(Map.of("a", 1)));
            Namespace ns = m.namespace();
            ns.set("y", new ArrayList<>(List.of(1, 2)));
            nestedRounds(ls, d, ns, NESTED_ROUNDS / 4); // JIT warm-up
            long t0 = System.nanoTime();
            nestedRounds(ls, d, ns, NESTED_ROUNDS);
            op = (System.nanoTime() - t0) / 1e9 / (4.0 * NESTED_ROUNDS);
        }
        return List.of(new Row("manager-nested", Double.NaN, op, Double.NaN, pyOp, Row.ratio(pyOp, op),
                String.format("per nested change (get the proxy, change in place; JIT warmed): java %.3f us, cpython reassign-the-copy %s us; "
                        + "cpython's in-place form is lost: %s", op * 1e6, py("%.1f", pyOp * 1e6),
                        py.map(v -> v.get("lost_in_place")).map(v -> v.equals("1") ? "yes" : "no").orElse("n/a"))));
    }

    @SuppressWarnings("unchecked")
    private static void nestedRounds(List<Object> ls, ConcurrentMap<String, Object> d, Namespace ns, int rounds) {
        for (int i = 0; i < rounds; i++) {
            List<Integer> inner = (List<Integer>) ls.get(1);
            inner.set(0, inner.get(0) + 1);
            ((List<Integer>) d.get("inner")).add(i);
            ((Map<String, Integer>) d.get("counts")).merge("a", 1, Integer::sum);
            ns.<List<Integer>>get("y").add(i);
        }
    }

    // ------------------------------------------------------------------ manager-many

    List<Row> many() throws InterruptedException {
        Optional<Map<String, String>> py = python.run("manager_many.py", "--lists", "" + MANY);
        double pyBuild = Python.num(py, "build_s");
        double pySum = Python.num(py, "sum_s");
        double pyTotal = Python.num(py, "total_s");
        long t0 = System.nanoTime();
        long heapBytes;
        long carved;
        long sum;
        double build;
        double add;
        double close;
        try (SharedLongArray out = SharedLongArray.create(3); Manager m = Manager.start()) {
            ConcurrentMap<Integer, List<Integer>> d = m.dict();
            ChildProcess builder = ChildProcess.start(() -> {
                long s = System.nanoTime();
                for (int k = 0; k < MANY; k++) {
                    List<Integer> l = new ArrayList<>(10);
                    for (int i = 0; i < 10; i++) {
                        l.add(i);
                    }
                    d.put(k, l);
                }
                out.set(0, System.nanoTime() - s);
            });
            Lockstep.joinSucceeded(builder);
            ChildProcess summer = ChildProcess.start(() -> {
                long s = System.nanoTime();
                long total = 0;
                for (List<Integer> l : d.values()) {
                    for (int v : l) {
                        total += v;
                    }
                }
                out.set(1, System.nanoTime() - s);
                out.set(2, total);
            });
            Lockstep.joinSucceeded(summer);
            heapBytes = ((LocalManager) m).heapBytes();
            carved = ((LocalManager) m).heapBytesCarved();
            long c0 = System.nanoTime();
            m.close();
            close = (System.nanoTime() - c0) / 1e9;
            build = out.get(0) / 1e9;
            add = out.get(1) / 1e9;
            sum = out.get(2);
        }
        double total = (System.nanoTime() - t0) / 1e9;
        if (sum != 45L * MANY) {
            throw new IllegalStateException("manager-many: sum=" + sum + ", expected " + 45L * MANY);
        }
        String check = "sum ok";
        return List.of(new Row("manager-many", total, build + add, pyTotal, pyBuild + pySum, Row.ratio(pyBuild + pySum, build + add),
                String.format("%s; build %.2f s (cpython %s), sum %.2f s (cpython %s); /dev/shm %.1f MB in heap segments (%.1f MB carved); "
                        + "close %.0f ms; java lists are managed containers, cpython's are copies", check, build, py("%.2f", pyBuild), add,
                        py("%.2f", pySum), heapBytes / 1e6, carved / 1e6, close * 1e3)));
    }
}
