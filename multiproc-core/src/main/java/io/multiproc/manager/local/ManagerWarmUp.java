package io.multiproc.manager.local;

import io.multiproc.internal.SharedSegments;
import io.multiproc.manager.Manager;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BooleanSupplier;

/**
 * The manager's hot paths for the spares' warm-up ({@code io.multiproc.process.HotPaths}, decision 036)
 * and the AOT cache's training run: a list's appends and reads (seed 000's loop), a dict's put, get and
 * merge, the batch paths, and the iteration of a dict of nested lists (manager-many's reader), on a
 * manager whose heap is private to this JVM (memfd segments, never in
 * /dev/shm; see {@link Heap#create}), so a spare killed mid-way leaves nothing behind. A child taken
 * from the spares then runs its first {@code ls.add} compiled. Not part of the public API.
 */
public final class ManagerWarmUp {
    private static final String[] KEYS = new String[64];
    /** A value too long to be inline (8+ codec bytes): exercises item blocks and their reuse. */
    private static final String LONG_VALUE = "a value of more than seven bytes";

    static {
        for (int i = 0; i < KEYS.length; i++) {
            KEYS[i] = "key-" + i;
        }
    }

    private ManagerWarmUp() {
    }

    /**
     * {@code rounds} rounds of {@code iterations} iterations, asking {@code stop} before each; the
     * manager is closed on the way out however it ends.
     */
    public static void run(int iterations, int rounds, BooleanSupplier stop) {
        if (SharedSegments.creatingPrivately()) {
            warm(iterations, rounds, stop);
        } else {
            SharedSegments.privately(() -> warm(iterations, rounds, stop));
        }
    }

    /** The reading loop a user writes over a dict of lists (snapshot views, decision 132). */
    private static long sumNested(ConcurrentMap<Integer, List<Integer>> nested) {
        long sum = 0;
        for (List<Integer> l : nested.values()) {
            for (int v : l) {
                sum += v;
            }
        }
        return sum;
    }

    private static void warm(int iterations, int rounds, BooleanSupplier stop) {
        try (Manager m = Manager.start()) {
            List<Object> ls = m.list();
            ConcurrentMap<String, Integer> d = m.dict();
            ConcurrentMap<Integer, List<Integer>> nested = m.dict();
            for (int k = 0; k < 16; k++) {
                nested.put(k, List.of(k, 1, 2, 3, 4, 5, 6, 7, 8, 9));
            }
            List<Integer> batch = new ArrayList<>();
            Map<String, Integer> entries = new LinkedHashMap<>();
            for (int i = 0; i < KEYS.length; i++) {
                batch.add(i);
                entries.put(KEYS[i], i);
            }
            long sink = 0;
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < iterations; k++) {
                    if (stop.getAsBoolean()) {
                        return;
                    }
                    ls.add(k);
                    if ((k & 7) == 0) {
                        ls.add(LONG_VALUE);
                    }
                    sink += ls.get(k & 63).hashCode(); // the list holds at least min(k + 1, 64) elements
                    String key = KEYS[k & (KEYS.length - 1)];
                    d.put(key, k);
                    sink += d.get(key);
                    d.merge(key, 1, Integer::sum);
                    if ((k & 15) == 15) { // manager-many's reader: a dict's values, each a nested list, iterated
                        sink += sumNested(nested);
                    }
                    if ((k & 1023) == 1023) { // bounded: the private heap never grows
                        sink += ls.size();
                        ls.clear();
                        ls.addAll(batch);
                        d.putAll(entries);
                    }
                }
                ls.clear();
            }
            if (sink == 42) {
                System.getLogger(ManagerWarmUp.class.getName()).log(System.Logger.Level.TRACE, "sink");
            }
        }
    }
}
