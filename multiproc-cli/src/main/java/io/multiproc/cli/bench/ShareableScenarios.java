package io.multiproc.cli.bench;

import io.multiproc.shared.SharedLongArray;
import io.multiproc.shm.ShareableList;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code shareable-double} scenario: a 99,999-int {@link ShareableList} doubled in place by 2
 * processes, each its half, through the public API, beside CPython 3.11's ShareableList doing the same
 * (bench/python/shareable_double.py). One row per Java access path, all against the same CPython run.
 */
final class ShareableScenarios {
    private static final int ITEMS = 99_999;
    private static final int PROCESSES = 2;
    /** 8-byte slots per 4 KiB page: touching one item per page maps the data and format pages. */
    private static final int PAGE_ITEMS = 512;
    /**
     * This child's buffer for the bulk path, allocated and touched before go, like the list's own pages:
     * a first touch of fresh heap costs up to 20 us per page in this VM, more than the copy itself.
     * Static because a child's prepare and work lambdas run in the same JVM, one after the other.
     */
    private static long[] share;

    private ShareableScenarios() {
    }

    /** How a child doubles its share. */
    enum Access {
        PER_ITEM("set(get*2)"),
        UNBOXED("setLong(getLong*2)"),
        BULK("bulk getLongs/setLongs"),
        REPLACE_ALL("replaceAllLongs(x -> x * 2)");

        final String label;

        Access(String label) {
            this.label = label;
        }
    }

    static List<Row> shareableDouble(Python python) throws InterruptedException {
        Optional<Map<String, String>> py = python.run("shareable_double.py", "--items", "" + ITEMS,
                "--processes", "" + PROCESSES);
        double pyWork = Python.num(py, "work_s");
        double pyTotal = Python.num(py, "total_s");
        String pyNote = "cpython ShareableList " + Scenarios.py("%.2f", ITEMS / pyWork / 1e6) + "M items/s"
                + (py.map(v -> "1".equals(v.get("verified"))).orElse(true) ? "" : " WRONG RESULT");
        List<Row> rows = new ArrayList<>();
        for (Access access : Access.values()) {
            Result r = run(access);
            String notes = String.format(java.util.Locale.ROOT, "java %.1fM items/s%s, slowest child's own share %.2f ms; %s",
                    ITEMS / r.times.work() / 1e6, r.verified ? "" : " WRONG RESULT", r.slowestChild * 1e3, pyNote);
            rows.add(new Row("shareable-double " + access.label, r.times.total(), r.times.work(), pyTotal, pyWork,
                    Row.ratio(pyWork, r.times.work()), notes));
        }
        return rows;
    }

    /**
     * {@code slowestChild}: the longest time one child spent on its own share, from its start to its end.
     * The work phase also holds the time until the last child got a CPU after go, which on 2 cores shared
     * with other work is often longer than the doubling itself (0.1 to 0.4 ms).
     */
    private record Result(Lockstep.Times times, double slowestChild, boolean verified) {
    }

    private static Result run(Access access) throws InterruptedException {
        try (ShareableList sl = ShareableList.create(null, range(ITEMS));
             SharedLongArray clocks = SharedLongArray.create(2 * PROCESSES)) {
            try {
                Lockstep.Times t = Lockstep.run(PROCESSES, i -> {
                    int from = ITEMS * i / PROCESSES;
                    int to = ITEMS * (i + 1) / PROCESSES;
                    return () -> {
                        warmUp(access);
                        touch(sl, from, to);
                        share = new long[to - from];
                        Arrays.fill(share, 1);
                    };
                }, i -> {
                    int from = ITEMS * i / PROCESSES;
                    int to = ITEMS * (i + 1) / PROCESSES;
                    return () -> {
                        clocks.set(2 * i, System.nanoTime());
                        doubleInPlace(sl, from, to, access, share);
                        clocks.set(2 * i + 1, System.nanoTime());
                    };
                });
                return new Result(t, slowestChild(clocks), verify(sl));
            } finally {
                sl.unlink();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Doubles items {@code [from, to)}: the timed work. The bulk path copies through {@code buffer}. */
    static void doubleInPlace(ShareableList sl, int from, int to, Access access, long[] buffer) {
        switch (access) {
            case PER_ITEM -> {
                for (int i = from; i < to; i++) {
                    sl.set(i, (Long) sl.get(i) * 2);
                }
            }
            case UNBOXED -> {
                for (int i = from; i < to; i++) {
                    sl.setLong(i, sl.getLong(i) * 2);
                }
            }
            case BULK -> {
                sl.getLongs(from, buffer);
                for (int k = 0; k < buffer.length; k++) {
                    buffer[k] *= 2;
                }
                sl.setLongs(from, buffer);
            }
            case REPLACE_ALL -> sl.replaceAllLongs(from, to, x -> x * 2);
        }
    }

    /**
     * JIT warm-up on a private list (CPython has no JIT to warm; see docs/decisions/004): the same
     * method on the same class, so the work phase runs compiled code. 2,000 passes: the bulk methods
     * must be called often enough for C2 to compile them whole, not only their loops.
     */
    private static void warmUp(Access access) {
        try (ShareableList own = ShareableList.create(null, range(1 << 12))) {
            try {
                long[] buffer = new long[own.size()];
                for (int pass = 0; pass < 2000; pass++) {
                    doubleInPlace(own, 0, own.size(), access, buffer);
                }
            } finally {
                own.unlink();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one item per page of the share, as the CPython script does, so page faults fall before go. */
    static long touch(ShareableList sl, int from, int to) {
        long sum = 0;
        for (int i = from; i < to; i += PAGE_ITEMS) {
            sum += sl.getLong(i);
        }
        return sum;
    }

    /** The slowest child's own work time: the longest {@code end - start} on its clock. */
    private static double slowestChild(SharedLongArray clocks) {
        long longest = 0;
        for (int i = 0; i < PROCESSES; i++) {
            longest = Math.max(longest, clocks.get(2 * i + 1) - clocks.get(2 * i));
        }
        return longest / 1e9;
    }

    private static boolean verify(ShareableList sl) {
        for (int i = 0; i < sl.size(); i++) {
            if (sl.getLong(i) != 2L * i) {
                return false;
            }
        }
        return true;
    }

    private static List<Long> range(int n) {
        List<Long> values = new ArrayList<>(n);
        for (long i = 0; i < n; i++) {
            values.add(i);
        }
        return values;
    }
}
