package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.contract.ManagerContainersContract;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Linearizability of a manager's dict, list and namespace under real concurrent processes: child JVMs
 * run random mixed operations on the same containers, with small key spaces so that they conflict, and
 * record each operation's invocation and response times; {@link LinearizabilityHistory} then checks the
 * histories (no stale read, no value replaced twice, exact counters, list reads consistent with the adds
 * and removals, snapshots showing states that existed). Some children got the proxies in their task, one
 * attached the manager by name; big values make the heap grow and have their space reused while others
 * read; one test SIGKILLs a process that holds the dict's and the list's locks while the others run
 * (they take the locks over and go on).
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerLinearizabilityTest {
    static final int PERMANENT = 5;
    static final int TABLE_KEYS = 64;
    static final Set<String> REGISTER_KINDS = Set.of("d.put", "d.get", "d.remove", "d.putIfAbsent", "d.replace",
            "d.compute", "d.snap", "ns.set", "ns.get", "big.put", "big.get");

    record Shared(String manager, ConcurrentMap<String, Object> dict, List<Object> list, Namespace ns,
                  SharedLong ready, SharedLong progress, SharedLong holding, int parties) implements Serializable {
    }

    @Test
    void randomMixedOperationsFromSeveralProcessesAreLinearizable(@TempDir Path dir) throws Exception {
        run(dir, false);
    }

    @Test
    void aProcessKilledAmongRandomOperationsLeavesALinearizableHistory(@TempDir Path dir) throws Exception {
        run(dir, true);
    }

    /**
     * {@code values().removeIf}, {@code entrySet().removeIf} and a values or entries iterator's
     * {@code remove} remove an entry only while its key still maps to the value they read, as
     * ConcurrentHashMap's {@code removeIf} and the remote dict's views do: a value another process put
     * after the read is never removed by a test it never passed.
     */
    @Test
    void valueAndEntryRemovalsKeepAValueAnotherProcessPutAfterTheRead() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, String> d = m.dict();
            d.put("k", "old");
            boolean removed = d.values().removeIf(v -> v.equals("old") && putInAChild(d, "k", "new"));
            assertThat(d).as("after values().removeIf(old), removed=%s", removed).containsEntry("k", "new");
            assertThat(removed).isFalse();
            removed = d.entrySet().removeIf(e -> e.getValue().equals("new") && putInAChild(d, "k", "newer"));
            assertThat(d).as("after entrySet().removeIf(new), removed=%s", removed).containsEntry("k", "newer");
            assertThat(removed).isFalse();
            java.util.Iterator<String> it = d.values().iterator();
            assertThat(it.next()).isEqualTo("newer");
            putInAChild(d, "k", "newest");
            it.remove();
            assertThat(d).as("after a values iterator's remove").containsEntry("k", "newest");
            // what still holds the value read goes, as before
            assertThat(d.values().removeIf(v -> v.equals("newest"))).isTrue();
            assertThat(d).isEmpty();
        }
    }

    /**
     * A list's reads that the JDK builds from two calls ({@code lastIndexOf} and the {@code reversed()}
     * view read the size, then a snapshot from that index) read one state while another process appends
     * and pops: they threw IndexOutOfBoundsException when the list had shrunk in between.
     */
    @Test
    void lastIndexOfAndAReversedListReadOneStateWhileAnotherProcessAppendsAndPops() throws Exception {
        try (Manager m = Manager.start(); SharedLong stop = SharedLong.create(0); SharedLong flips = SharedLong.create(0)) {
            List<Integer> ls = m.list();
            for (int i = 0; i < 10; i++) {
                ls.add(i);
            }
            ChildProcess child = ChildProcess.start(() -> {
                while (stop.get() == 0) {
                    ls.add(10);
                    pause(20_000);
                    ls.removeLast();
                    pause(20_000);
                    flips.incrementAndGet();
                }
            });
            try {
                Children.awaitUntil("the child appends and pops", () -> flips.get() > 100);
                ManagerContainersContract.assertReversedReadsOneState(ls, 20_000);
            } finally {
                stop.set(1);
                Children.joinOk(child);
                Children.reap(child);
            }
            // the view's writes: ManagerContainersContract.aReversedViewWritesWhereArrayListsWould
        }
    }

    /** Spins for about {@code nanos}: a pause shorter than a sleep's. */
    private static void pause(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    /** Puts {@code key=value} from a child JVM and waits for it; true, for use inside a predicate. */
    private static boolean putInAChild(ConcurrentMap<String, String> d, String key, String value) {
        ChildProcess child = ChildProcess.start(() -> d.put(key, value));
        try {
            Children.joinOk(child);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        } finally {
            Children.reap(child);
        }
        return true;
    }

    private static void run(Path dir, boolean kill) throws Exception {
        int parties = kill ? 4 : 3;
        int ops = 1500;
        try (Manager m = Manager.start(); SharedLong ready = SharedLong.create(0); SharedLong progress = SharedLong.create(0);
             SharedLong holding = SharedLong.create(0)) {
            ConcurrentMap<String, Object> d = m.dict("lin");
            List<Object> list = m.list("lin-list");
            Namespace ns = m.namespace("lin-ns");
            LinearizabilityHistory h = new LinearizabilityHistory();
            for (int i = 0; i < PERMANENT; i++) {
                d.put("perm" + i, i);
            }
            d.put("nested", new ArrayList<>());
            ns.set("a", "init-a");
            h.add(new LinearizabilityHistory.Op("init", "ns.set", "a", null, "init-a", 0, 0));
            for (int i = 0; i < 20; i++) {
                list.add("init-" + i);
                h.add(new LinearizabilityHistory.Op("init", "L.add", "L", null, "init-" + i, 0, 0));
            }
            Shared s = new Shared(m.name(), d, list, ns, ready, progress, holding, parties);
            List<ChildProcess> children = new ArrayList<>();
            ChildProcess victim = null;
            try {
                for (int p = 0; p < 3; p++) {
                    int proc = p;
                    String file = dir.resolve("p" + p).toString();
                    children.add(ChildProcess.start(() -> work(s, proc, ops, 1000 + proc, file, proc == 2, -1)));
                }
                if (kill) {
                    String file = dir.resolve("p3").toString();
                    // the victim runs random operations, then dies holding the dict's and the list's locks
                    // (inside a compute and a removeIf) while the others wait for them: they take over
                    victim = ChildProcess.start(() -> work(s, 3, 1_000_000, 1003, file, false, 300));
                    ChildProcess v = victim;
                    Children.awaitUntil("the victim holds the dict's and the list's locks", () -> holding.get() == 1 || !v.isAlive());
                    Thread.sleep(100); // the others pile up on the locks
                    victim.kill();
                    assertThat(victim.join(Children.TIMEOUT)).isTrue();
                    assertThat(victim.exitCode()).as("the victim was killed, not failed").hasValue(-9);
                }
                // NOTE: 17-35 s for 1,500 operations each beside other builds on 2 cores: Children.TIMEOUT (30 s) is too tight
                Children.joinAllOk(java.time.Duration.ofSeconds(120), children.toArray(ChildProcess[]::new));
            } finally {
                Children.reap(children.toArray(ChildProcess[]::new));
                Children.reap(victim);
            }
            if (kill) {
                ((LocalManager) m).reclaim(); // the victim's leaks are given back; nothing reachable is freed
            }
            for (int p = 0; p < parties; p++) {
                h.load(dir.resolve("p" + p));
            }
            Map<String, String> finals = new HashMap<>();
            for (String k : registerKeys()) {
                finals.put(k, d.containsKey(k) ? (String) d.get(k) : LinearizabilityHistory.NONE);
            }
            for (String k : List.of("b0", "b1", "b2")) {
                finals.put(k, d.containsKey(k) ? bigId((String) d.get(k)) : LinearizabilityHistory.NONE);
            }
            finals.put("a", ns.get("a"));
            h.checkRegisters(REGISTER_KINDS, finals);
            h.checkCounter("c0", "d.merge", ((Number) d.get("c0")).longValue());
            h.checkList("L", strings(list));
            @SuppressWarnings("unchecked")
            List<Object> nested = (List<Object>) d.get("nested");
            h.checkList("N", strings(nested));
            for (int i = 0; i < PERMANENT; i++) {
                assertThat(d.get("perm" + i)).isEqualTo(i);
            }
            assertThat(h.violations).as("violations in %d operations", h.ops.size()).isEmpty();
            // the test did what it says: operations of different processes overlapped, and the big values
            // made the heap grow while the others read
            assertThat(h.overlapping()).as("operations overlapping another process's").isGreaterThan(h.ops.size() / 10);
            Heap heap = ((Proxy) d).container().heap;
            assertThat((int) heap.root().get(java.lang.foreign.ValueLayout.JAVA_INT, HeapLayout.SEGMENT_COUNT))
                    .as("heap segments").isGreaterThan(1);
            System.out.printf("%d operations, %d overlapping another process's%n", h.ops.size(), h.overlapping());
            // every operation still works after all of it
            d.put("after", 1);
            list.add("after");
            assertThat(d.get("after")).isEqualTo(1);
            assertThat(list.getLast()).isEqualTo("after");
        }
    }

    /** The dict's register keys: r0..r2, t0..t63. */
    static List<String> registerKeys() {
        List<String> keys = new ArrayList<>(List.of("r0", "r1", "r2"));
        for (int i = 0; i < TABLE_KEYS; i++) {
            keys.add("t" + i);
        }
        return keys;
    }

    private static List<String> strings(List<Object> l) {
        List<String> out = new ArrayList<>();
        for (Object o : l) {
            out.add((String) o);
        }
        return out;
    }

    /** A big value: its id, a ':', then its id's last character repeated; checked whole on every read. */
    static String big(String id, int length) {
        StringBuilder b = new StringBuilder(length + id.length() + 1).append(id).append(':');
        char fill = (char) ('a' + Math.floorMod(id.hashCode(), 26));
        b.repeat(fill, length);
        return b.toString();
    }

    static String bigId(String v) {
        int colon = v.indexOf(':');
        String id = v.substring(0, colon);
        char fill = (char) ('a' + Math.floorMod(id.hashCode(), 26));
        for (int i = colon + 1; i < v.length(); i++) {
            if (v.charAt(i) != fill) {
                throw new AssertionError("big value " + id + " is torn at " + i + " of " + v.length() + ": '" + v.charAt(i) + "'");
            }
        }
        return id;
    }

    /** One process's random operations; {@code attach}: through Manager.attach by name instead of the task's proxies. */
    @SuppressWarnings("unchecked")
    static void work(Shared s, int proc, int ops, long seed, String file, boolean attach, int dieHoldingAt) {
        boolean flushEach = dieHoldingAt >= 0;
        Manager attached = attach ? Manager.attach(s.manager()) : null;
        try (LinearizabilityHistory.Recorder rec = new LinearizabilityHistory.Recorder(Path.of(file), "p" + proc, flushEach)) {
            ConcurrentMap<String, Object> d = attach ? attached.dict("lin") : s.dict();
            List<Object> list = attach ? attached.list("lin-list") : s.list();
            Namespace ns = attach ? attached.namespace("lin-ns") : s.ns();
            s.ready().incrementAndGet();
            long deadline = System.nanoTime() + Children.TIMEOUT.toNanos();
            while (s.ready().get() < s.parties() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            Random r = new Random(seed);
            List<String> mine = new ArrayList<>(); // elements this process added, for contains
            for (int i = 0; i < ops; i++) {
                if (i == dieHoldingAt) {
                    String v = "p" + proc + "-" + i;
                    rec.invoke("d.compute", "r0", v, System.nanoTime());
                    d.compute("r0", (k, old) -> {
                        list.removeIf(e -> holdUntilKilled(s));
                        holdUntilKilled(s); // the list was empty: the dict's lock alone
                        return v;
                    });
                }
                step(d, list, ns, r, "p" + proc + "-" + i, rec, mine);
                s.progress().incrementAndGet();
            }
        } finally {
            if (attached != null) {
                attached.close();
            }
        }
    }

    /** Says so, then spins for ever: called under locks, which the process holds until it is killed. */
    private static boolean holdUntilKilled(Shared s) {
        s.holding().set(1);
        while (true) {
            Thread.onSpinWait();
        }
    }

    private static String str(Object o) {
        return o == null ? LinearizabilityHistory.NONE : (String) o;
    }

    @SuppressWarnings("unchecked")
    private static void step(ConcurrentMap<String, Object> d, List<Object> list, Namespace ns, Random r, String v,
                             LinearizabilityHistory.Recorder rec, List<String> mine) {
        // three hot keys, and 64 that come and go so the table fills with tombstones and is rebuilt meanwhile
        String key = r.nextBoolean() ? "r" + r.nextInt(3) : "t" + r.nextInt(TABLE_KEYS);
        int choice = r.nextInt(100);
        long inv;
        if (choice < 6) {
            rec.invoke("d.put", key, v, inv = System.nanoTime());
            String old = str(d.put(key, v));
            rec.done("d.put", key, old, v, inv, System.nanoTime());
        } else if (choice < 14) {
            inv = System.nanoTime();
            String got = str(d.get(key));
            rec.done("d.get", key, got, null, inv, System.nanoTime());
        } else if (choice < 18) {
            rec.invoke("d.remove", key, LinearizabilityHistory.NONE, inv = System.nanoTime());
            String old = str(d.remove(key));
            rec.done("d.remove", key, old, LinearizabilityHistory.NONE, inv, System.nanoTime());
        } else if (choice < 22) {
            rec.invoke("d.putIfAbsent", key, v, inv = System.nanoTime());
            String old = str(d.putIfAbsent(key, v));
            rec.done("d.putIfAbsent", key, old, old.equals(LinearizabilityHistory.NONE) ? v : null, inv, System.nanoTime());
        } else if (choice < 26) {
            rec.invoke("d.replace", key, v, inv = System.nanoTime());
            String old = str(d.replace(key, v));
            rec.done("d.replace", key, old, old.equals(LinearizabilityHistory.NONE) ? null : v, inv, System.nanoTime());
        } else if (choice < 30) {
            String[] seen = {null};
            rec.invoke("d.compute", key, v, inv = System.nanoTime());
            d.compute(key, (k, old) -> {
                seen[0] = (String) old;
                return v;
            });
            rec.done("d.compute", key, str(seen[0]), v, inv, System.nanoTime());
        } else if (choice < 38) {
            rec.invoke("d.merge", "c0", null, inv = System.nanoTime());
            Object now = d.merge("c0", 1, (a, b) -> (Integer) a + (Integer) b);
            rec.done("d.merge", "c0", now.toString(), null, inv, System.nanoTime());
        } else if (choice < 40) {
            inv = System.nanoTime();
            Map<String, Object> snap = new HashMap<>(d);
            long resp = System.nanoTime();
            for (int i = 0; i < PERMANENT; i++) {
                if (!Integer.valueOf(i).equals(snap.get("perm" + i))) {
                    throw new AssertionError("a dict snapshot misses perm" + i + ", never removed: " + snap.keySet());
                }
            }
            for (String k : registerKeys()) {
                rec.done("d.snap", k, str(snap.get(k)), null, inv, resp);
            }
            for (String k : List.of("b0", "b1", "b2")) {
                Object b = snap.get(k);
                rec.done("big.get", k, b == null ? LinearizabilityHistory.NONE : bigId((String) b), null, inv, resp);
            }
        } else if (choice < 42) {
            String k = "b" + r.nextInt(3);
            String id = "B" + v;
            String value = big(id, 200_000 + r.nextInt(2_500_000)); // three of them outgrow the first segment
            rec.invoke("big.put", k, id, inv = System.nanoTime());
            Object old = d.put(k, value);
            rec.done("big.put", k, old == null ? LinearizabilityHistory.NONE : bigId((String) old), id, inv, System.nanoTime());
        } else if (choice < 46) {
            String k = "b" + r.nextInt(3);
            inv = System.nanoTime();
            Object got = d.get(k);
            rec.done("big.get", k, got == null ? LinearizabilityHistory.NONE : bigId((String) got), null, inv, System.nanoTime());
        } else if (choice < 50) {
            rec.invoke("ns.set", "a", v, inv = System.nanoTime());
            ns.set("a", v);
            rec.done("ns.set", "a", null, v, inv, System.nanoTime());
        } else if (choice < 54) {
            inv = System.nanoTime();
            String got = ns.get("a");
            rec.done("ns.get", "a", got, null, inv, System.nanoTime());
        } else if (choice < 60) {
            rec.invoke("N.add", "N", v, inv = System.nanoTime());
            ((List<Object>) d.get("nested")).add(v); // through a proxy got from the dict
            rec.done("N.add", "N", null, v, inv, System.nanoTime());
        } else if (choice < 62) {
            List<Object> nested = (List<Object>) d.get("nested");
            inv = System.nanoTime();
            String snap = String.join(",", strings(new ArrayList<>(nested)));
            rec.done("N.snap", "N", snap, null, inv, System.nanoTime());
        } else {
            listStep(list, r, v, rec, mine, choice);
        }
    }

    private static void listStep(List<Object> list, Random r, String v, LinearizabilityHistory.Recorder rec,
                                 List<String> mine, int choice) {
        long inv;
        if (choice < 69) {
            rec.invoke("L.add", "L", v, inv = System.nanoTime());
            list.add(v);
            rec.done("L.add", "L", null, v, inv, System.nanoTime());
            mine.add(v);
        } else if (choice < 74) {
            rec.invoke("L.add", "L", v, inv = System.nanoTime());
            list.add(0, v);
            rec.done("L.add", "L", null, v, inv, System.nanoTime());
            mine.add(v);
        } else if (choice < 78) {
            int i = r.nextInt(30);
            rec.invoke("L.set", "L", v, inv = System.nanoTime());
            String old;
            String wrote = v;
            try {
                old = (String) list.set(i, v);
                mine.add(v);
            } catch (IndexOutOfBoundsException e) {
                old = "!IOOBE";
                wrote = null;
            }
            rec.done("L.set", "L", old, wrote, inv, System.nanoTime());
        } else if (choice < 88) {
            int i = r.nextInt(30);
            rec.invoke("L.remove", "L", null, inv = System.nanoTime());
            String old;
            try {
                old = (String) list.remove(i);
            } catch (IndexOutOfBoundsException e) {
                old = "!IOOBE";
            }
            rec.done("L.remove", "L", old, null, inv, System.nanoTime());
        } else if (choice < 91) {
            inv = System.nanoTime();
            int n = list.size();
            rec.done("L.size", "L", Integer.toString(n), null, inv, System.nanoTime());
        } else if (choice < 95) {
            int i = r.nextInt(30);
            inv = System.nanoTime();
            String got;
            try {
                got = (String) list.get(i);
            } catch (IndexOutOfBoundsException e) {
                got = "!IOOBE";
            }
            rec.done("L.get", "L", got, null, inv, System.nanoTime());
        } else if (choice < 98 && !mine.isEmpty()) {
            String e = mine.get(r.nextInt(mine.size()));
            inv = System.nanoTime();
            boolean has = list.contains(e);
            rec.done("L.contains", "L:" + e, Boolean.toString(has), null, inv, System.nanoTime());
        } else {
            inv = System.nanoTime();
            String snap = String.join(",", strings(new ArrayList<>(list)));
            rec.done("L.snap", "L", snap, null, inv, System.nanoTime());
        }
    }
}
