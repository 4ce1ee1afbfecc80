package example;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.process.ChildProcess;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A Manager's lists, dicts and namespaces, used from several JVMs, where CPython's Manager is slow
 * (a server round trip per call) or silently loses work (a nested list is a copy).
 *
 * <ol>
 *   <li>Four children append 10,000 ints each to one managed list (CPython: 2 s of socket round trips).</li>
 *   <li>A child changes lists nested in a list, a dict and a namespace; the parent sees every change
 *       (CPython loses all three: {@code ls[1][0] += 1} changes a copy).</li>
 *   <li>Two children {@code merge} into one key 5,000 times each: no update lost.</li>
 *   <li>A child appending in a loop is SIGKILLed: every entry the parent reads is whole and in order,
 *       and the list keeps working (the next caller takes the dead writer's lock over).</li>
 *   <li>A child that only knows the manager's name attaches to it and writes into a named dict.</li>
 * </ol>
 */
public final class ManagerTour {
    public static void main(String[] args) throws Exception {
        try (Manager m = Manager.start()) {
            appendsFromFourChildren(m);
            nestedChangesArrive(m);
            mergesLoseNothing(m);
            aKilledWriterLeavesAWholeList(m);
            attachByName(m);
        }
        System.out.println("manager closed: everything it made is gone from /dev/shm");
    }

    private static void appendsFromFourChildren(Manager m) throws InterruptedException {
        List<Integer> ls = m.list();
        long start = System.nanoTime();
        List<ChildProcess> children = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            int base = c * 10_000;
            children.add(ChildProcess.start(() -> {
                for (int i = 0; i < 10_000; i++) {
                    ls.add(base + i);
                }
            }));
        }
        joinAll(children);
        long ms = (System.nanoTime() - start) / 1_000_000;
        List<Integer> copy = new ArrayList<>(ls); // one snapshot, read under one lock hold
        long sum = 0;
        for (int x : copy) {
            sum += x;
        }
        System.out.println("appends: " + copy.size() + " items, " + new HashSet<>(copy).size() + " distinct, sum " + sum
                + " (expected 40000, 40000, 799980000); 4 child JVMs in " + ms + " ms");
    }

    @SuppressWarnings("unchecked")
    private static void nestedChangesArrive(Manager m) throws InterruptedException {
        List<Object> ls = m.list();
        ls.add(0);
        ls.add(new ArrayList<>(List.of(0, 0)));            // stored as a managed list, not a copy
        ConcurrentMap<String, Object> d = m.dict();
        d.put("inner", new ArrayList<>(List.of(1)));
        Namespace ns = m.namespace();
        ns.set("y", new ArrayList<>(List.of(1, 2)));
        joinAll(List.of(ChildProcess.start(() -> {
            List<Integer> inner = (List<Integer>) ls.get(1);
            inner.set(0, inner.get(0) + 1);                 // ls[1][0] += 1
            ((List<Integer>) d.get("inner")).add(2);        // d["inner"].append(2)
            ns.<List<Integer>>get("y").add(10);             // ns.y.append(10)
        })));
        System.out.println("nested: ls[1] = " + ls.get(1) + ", d[inner] = " + d.get("inner") + ", ns.y = " + ns.get("y")
                + " (expected [1, 0], [1, 2], [1, 2, 10])");
    }

    private static void mergesLoseNothing(Manager m) throws InterruptedException {
        ConcurrentMap<String, Integer> counts = m.dict();
        List<ChildProcess> children = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            children.add(ChildProcess.start(() -> {
                for (int i = 0; i < 5_000; i++) {
                    counts.merge("hits", 1, Integer::sum);   // runs here, under the dict's lock
                }
            }));
        }
        joinAll(children);
        System.out.println("merges: hits = " + counts.get("hits") + " (expected 10000)");
    }

    private static void aKilledWriterLeavesAWholeList(Manager m) throws InterruptedException {
        List<String> log = m.list();
        ChildProcess writer = ChildProcess.start(() -> {
            for (int i = 0; ; i++) {
                log.add("entry " + i + " " + "x".repeat(100)); // long enough to live outside the list's slots
            }
        });
        try {
            while (log.size() < 2_000) {
                Thread.sleep(5);
            }
            writer.kill(); // SIGKILL: wherever it is, maybe holding the list's lock mid-append
            writer.join();
        } finally {
            writer.close();
        }
        List<String> seen = new ArrayList<>(log); // takes the dead writer's lock over if it held it
        int whole = 0;
        for (int i = 0; i < seen.size(); i++) {
            if (seen.get(i).equals("entry " + i + " " + "x".repeat(100))) {
                whole++;
            }
        }
        log.add("after the crash");
        System.out.println("killed writer: exit code " + writer.exitCode().orElseThrow() + "; " + seen.size()
                + " entries, " + whole + " whole and in order; the list still works: "
                + log.getLast().equals("after the crash"));
    }

    private static void attachByName(Manager m) throws InterruptedException {
        ConcurrentMap<String, Object> config = m.dict("config");
        config.put("threads", 8);
        String name = m.name(); // the child gets only the name, as an unrelated program would
        joinAll(List.of(ChildProcess.start(() -> {
            try (Manager same = Manager.attach(name)) {
                ConcurrentMap<String, Object> c = same.dict("config");
                c.put("child saw threads", c.get("threads"));
            }
        })));
        System.out.println("by name: " + new TreeMap<>(config) + " (expected {child saw threads=8, threads=8})");
    }

    private static void joinAll(List<ChildProcess> children) throws InterruptedException {
        for (ChildProcess c : children) {
            c.join();
            if (c.failure().isPresent()) {
                throw new IllegalStateException(c + " failed", c.failure().get());
            }
        }
    }
}
