package io.multiproc.manager.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A history of operations on managed containers, recorded by several processes, and the checks that
 * a linearizable history passes. Each process appends one line per operation to its own file, with the
 * operation's invocation and response times from {@link System#nanoTime()} (CLOCK_MONOTONIC on Linux:
 * comparable across JVMs of one boot). Every written value is unique, so who wrote what a read returned
 * is known, and the checks below need no search over orders:
 * <ul>
 * <li>a register (a dict key, a namespace attribute): a read returns a value written by an operation
 * invoked before the read returned, and no write of that key ran entirely between the end of that writer
 * and the start of the read (no stale read); a value is replaced (seen as the previous value by a writing
 * operation) at most once;</li>
 * <li>a counter updated by {@code merge}: the returned values are exactly 1..n, ordered by real time;</li>
 * <li>a list of unique elements: an element is removed at most once; a read (get, contains, size, a
 * snapshot) shows what was surely there and nothing that surely was not.</li>
 * </ul>
 * A process killed mid-operation leaves its last operation pending: invoked, with no response. Its
 * effect may or may not be there, so it counts as a write that may have happened at any later time.
 */
final class LinearizabilityHistory {
    /** Marks the absent value (a register without the key) and null results. */
    static final String NONE = "~";
    static final long PENDING = Long.MAX_VALUE;

    /** One operation: {@code observed} is the previous or read value, {@code wrote} what it stored (or null: no write). */
    record Op(String proc, String kind, String key, String observed, String wrote, long inv, long resp) {
        boolean pending() {
            return resp == PENDING;
        }

        @Override
        public String toString() {
            return proc + " " + kind + "(" + key + ") observed=" + observed + " wrote=" + wrote + " inv=" + inv
                    + (pending() ? " pending" : " resp=" + resp);
        }
    }

    /** What one process writes: one line per operation, flushed per line if the process may be killed. */
    static final class Recorder implements AutoCloseable {
        private final java.io.OutputStream out;
        private final String proc;
        private final boolean flushEach;
        private final StringBuilder buf = new StringBuilder();

        Recorder(Path file, String proc, boolean flushEach) {
            try {
                this.out = flushEach ? Files.newOutputStream(file)
                        : new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            this.proc = proc;
            this.flushEach = flushEach;
        }

        /** Before an operation that may be cut short by a kill: its write, so a pending one is known. */
        void invoke(String kind, String key, String wrote, long inv) {
            if (flushEach) {
                line("I", kind, key, NONE, wrote, inv, PENDING);
            }
        }

        void done(String kind, String key, String observed, String wrote, long inv, long resp) {
            line("D", kind, key, observed, wrote, inv, resp);
        }

        private void line(String tag, String kind, String key, String observed, String wrote, long inv, long resp) {
            buf.setLength(0);
            buf.append(tag).append('\t').append(proc).append('\t').append(kind).append('\t').append(key).append('\t')
                    .append(observed == null ? NONE : observed).append('\t').append(wrote == null ? "" : wrote)
                    .append('\t').append(inv).append('\t').append(resp).append('\n');
            try {
                out.write(buf.toString().getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    final List<Op> ops = new ArrayList<>();
    final List<String> violations = new ArrayList<>();

    /** Reads every file; an invoked operation with no done line is pending. */
    void load(Path file) throws IOException {
        Map<String, String[]> invoked = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 8) {
                continue; // a line cut by a kill
            }
            String id = f[1] + "@" + f[6];
            if (f[0].equals("I")) {
                invoked.put(id, f);
                continue;
            }
            invoked.remove(id);
            ops.add(new Op(f[1], f[2], f[3], f[4], f[5].isEmpty() ? null : f[5], Long.parseLong(f[6]), Long.parseLong(f[7])));
        }
        for (String[] f : invoked.values()) {
            ops.add(new Op(f[1], f[2], f[3], null, f[5].isEmpty() ? null : f[5], Long.parseLong(f[6]), PENDING));
        }
    }

    /** How many completed operations overlap in time with one of another process: the histories' concurrency. */
    long overlapping() {
        List<Op> done = ops.stream().filter(o -> !o.pending() && o.inv > 0).sorted(java.util.Comparator.comparingLong(Op::inv)).toList();
        Set<Op> overlap = new HashSet<>();
        Map<String, Op> latest = new HashMap<>(); // per process, its op ending last among those begun so far
        for (Op o : done) {
            for (Op other : latest.values()) {
                if (!other.proc.equals(o.proc) && other.resp > o.inv) {
                    overlap.add(o);
                    overlap.add(other);
                }
            }
            latest.merge(o.proc, o, (a, b) -> a.resp >= b.resp ? a : b);
        }
        return overlap.size();
    }

    void add(Op op) {
        ops.add(op);
    }

    private void fail(String what, Object... ops) {
        if (violations.size() < 20) {
            violations.add(what + ": " + Arrays.toString(ops));
        }
    }

    // ---- registers -----------------------------------------------------------------------------------

    /** Checks every register key ({@code kind} of a register op, listed in {@code registerKinds}). */
    void checkRegisters(Set<String> registerKinds, Map<String, String> finalValues) {
        Map<String, List<Op>> byKey = new HashMap<>();
        for (Op op : ops) {
            if (registerKinds.contains(op.kind)) {
                byKey.computeIfAbsent(op.key, k -> new ArrayList<>()).add(op);
            }
        }
        for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
            checkRegister(e.getKey(), e.getValue(), finalValues.getOrDefault(e.getKey(), NONE));
        }
    }

    private void checkRegister(String key, List<Op> ops, String finalValue) {
        Map<String, Op> writerOf = new HashMap<>();
        List<Op> writes = new ArrayList<>();
        for (Op op : ops) {
            if (op.wrote != null) {
                writes.add(op);
                if (!op.wrote.equals(NONE) && writerOf.put(op.wrote, op) != null) {
                    fail("value written twice (test bug)", op);
                }
            }
        }
        Map<String, Op> replacedBy = new HashMap<>();
        for (Op r : ops) {
            if (r.observed == null || r.pending()) {
                continue;
            }
            if (r.wrote != null && !r.observed.equals(NONE)) {
                Op other = replacedBy.put(r.observed, r);
                if (other != null) {
                    fail(key + ": two writes both replaced one value", other, r);
                }
            }
            if (r.observed.equals(NONE)) {
                continue;
            }
            Op w = writerOf.get(r.observed);
            if (w == null) {
                fail(key + ": read a value nobody wrote", r);
                continue;
            }
            if (w.inv > r.resp) {
                fail(key + ": read a value written after the read returned", w, r);
            }
            for (Op w2 : writes) {
                if (w2 != w && w2 != r && w.resp < w2.inv && w2.resp < r.inv) {
                    fail(key + ": stale read (a later write ended before the read began)", w, w2, r);
                    break;
                }
            }
        }
        if (!finalValue.equals(NONE)) {
            Op w = writerOf.get(finalValue);
            if (w == null) {
                fail(key + ": final value nobody wrote: " + finalValue);
            } else if (replacedBy.containsKey(finalValue)) {
                fail(key + ": final value was replaced", w, replacedBy.get(finalValue));
            }
            for (Op w2 : writes) {
                if (w2 != w && w.resp < w2.inv && w2.resp != PENDING) {
                    fail(key + ": final value older than a write that started after it ended", w, w2);
                    break;
                }
            }
        }
    }

    // ---- counters ------------------------------------------------------------------------------------

    /** Merges of +1 on {@code key}: returned values are 1..n without a gap or repeat, in real-time order. */
    void checkCounter(String key, String kind, long finalValue) {
        List<Op> merges = new ArrayList<>();
        int pending = 0;
        for (Op op : ops) {
            if (op.kind.equals(kind) && op.key.equals(key)) {
                if (op.pending()) {
                    pending++;
                } else {
                    merges.add(op);
                }
            }
        }
        Set<Long> seen = new HashSet<>();
        for (Op op : merges) {
            if (!seen.add(Long.parseLong(op.observed))) {
                fail(key + ": two merges returned the same count", op);
            }
        }
        if (finalValue < merges.size() || finalValue > merges.size() + pending) {
            fail(key + ": final count " + finalValue + " for " + merges.size() + " merges (" + pending + " pending)");
        }
        for (Op a : merges) {
            for (Op b : merges) {
                if (a.resp < b.inv && Long.parseLong(a.observed) >= Long.parseLong(b.observed)) {
                    fail(key + ": a merge that began after another ended returned a smaller count", a, b);
                    return;
                }
            }
        }
    }

    // ---- lists of unique elements --------------------------------------------------------------------

    /**
     * Element lists: adds (kind {@code add}, wrote = element), removals (kind {@code remove} or {@code set}:
     * observed = the element taken out; a set also adds what it wrote), reads: {@code get} (observed =
     * element), {@code contains} (key = element, observed = true/false), {@code size} (observed = n),
     * {@code snap} (observed = elements joined by ',').
     */
    void checkList(String list, List<String> finalElements) {
        Map<String, Op> added = new HashMap<>();
        Map<String, Op> removed = new HashMap<>();
        List<Op> reads = new ArrayList<>();
        List<Op> pendingTakers = new ArrayList<>(); // a killed process's remove or set: what it took is unknown
        for (Op op : ops) {
            if (!op.key.equals(list) && !(op.kind.equals(list + ".contains"))) {
                continue;
            }
            String k = op.kind.substring(op.kind.indexOf('.') + 1);
            if (op.wrote != null && (k.equals("add") || k.equals("set"))) {
                added.put(op.wrote, op);
            }
            if ((k.equals("remove") || k.equals("set")) && op.observed != null && !op.observed.equals(NONE)
                    && !op.observed.startsWith("!")) {
                Op other = removed.put(op.observed, op);
                if (other != null) {
                    fail(list + ": element removed twice", other, op);
                }
            }
            if (op.pending() && (k.equals("remove") || k.equals("set"))) {
                pendingTakers.add(op);
            }
            if (!op.pending() && (k.equals("get") || k.equals("remove") || k.equals("set") || k.equals("contains")
                    || k.equals("size") || k.equals("snap"))) {
                reads.add(op);
            }
        }
        for (Op r : reads) {
            String k = r.kind.substring(r.kind.indexOf('.') + 1);
            long unknown = pendingTakers.stream().filter(p -> p.inv < r.resp).count();
            if (r.observed.startsWith("!")) {
                continue; // IndexOutOfBounds: the list was shorter
            }
            switch (k) {
                case "get", "remove", "set" -> mayBeThere(list, r.observed, r, added, removed, k.equals("get"));
                case "contains" -> {
                    String e = r.key.substring(list.length() + 1);
                    if (Boolean.parseBoolean(r.observed)) {
                        mayBeThere(list, e, r, added, removed, true);
                    } else if (unknown == 0 && surelyThere(e, r, added, removed)) {
                        fail(list + ": contains said false for an element surely there", added.get(e), r);
                    }
                }
                case "size" -> {
                    long n = Long.parseLong(r.observed);
                    long sure = 0;
                    long maybe = 0;
                    for (String e : added.keySet()) {
                        if (surelyThere(e, r, added, removed)) {
                            sure++;
                        }
                        if (possiblyThere(e, r, added, removed)) {
                            maybe++;
                        }
                    }
                    if (n < sure - unknown || n > maybe) {
                        fail(list + ": size " + n + " outside [" + sure + ", " + maybe + "]", r);
                    }
                }
                case "snap" -> {
                    List<String> shown = r.observed.isEmpty() ? List.of() : Arrays.asList(r.observed.split(","));
                    Set<String> set = new HashSet<>(shown);
                    if (set.size() != shown.size()) {
                        fail(list + ": snapshot shows an element twice", r);
                    }
                    for (String e : shown) {
                        mayBeThere(list, e, r, added, removed, true);
                    }
                    long missed = 0;
                    for (String e : added.keySet()) {
                        if (!set.contains(e) && surelyThere(e, r, added, removed) && ++missed > unknown) {
                            fail(list + ": snapshot misses " + e + ", surely there", added.get(e), removed.get(e), r);
                        }
                    }
                }
                default -> {
                }
            }
        }
        Set<String> fin = new HashSet<>(finalElements);
        if (fin.size() != finalElements.size()) {
            fail(list + ": final list holds an element twice: " + finalElements);
        }
        for (String e : finalElements) {
            if (!added.containsKey(e)) {
                fail(list + ": final list holds " + e + ", never added");
            } else if (removed.containsKey(e) && !removed.get(e).pending()) {
                fail(list + ": final list holds " + e + ", removed", removed.get(e));
            }
        }
        int lost = 0;
        for (Map.Entry<String, Op> e : added.entrySet()) {
            if (!e.getValue().pending() && !removed.containsKey(e.getKey()) && !fin.contains(e.getKey())
                    && ++lost > pendingTakers.size()) {
                fail(list + ": final list lost " + e.getKey(), e.getValue());
            }
        }
    }

    /** Checks that {@code e}, read by {@code r}, could be in the list while {@code r} ran. */
    private void mayBeThere(String list, String e, Op r, Map<String, Op> added, Map<String, Op> removed, boolean readOnly) {
        Op a = added.get(e);
        if (a == null) {
            fail(list + ": read an element never added: " + e, r);
        } else if (a.inv > r.resp) {
            fail(list + ": read an element added after the read returned", a, r);
        } else if (readOnly) {
            Op x = removed.get(e);
            if (x != null && x.resp < r.inv) {
                fail(list + ": read an element removed before the read began", a, x, r);
            }
        }
    }

    private static boolean surelyThere(String e, Op r, Map<String, Op> added, Map<String, Op> removed) {
        Op a = added.get(e);
        Op x = removed.get(e);
        return a.resp < r.inv && (x == null || x.inv > r.resp);
    }

    private static boolean possiblyThere(String e, Op r, Map<String, Op> added, Map<String, Op> removed) {
        Op a = added.get(e);
        Op x = removed.get(e);
        return a.inv < r.resp && (x == null || x.resp > r.inv);
    }
}
