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

    /**
     * One append in this many finds the list locked by {@link Contender}: each round of 2,000 has 7. In the
     * first round's first 1,024 iterations one in 16 does, so that the contended branches are in the
     * profile before C2 first compiles the lock path (which happens within that first thousand): code
     * compiled before any contention keeps its traps until it meets one itself.
     */
    private static final int CONTEND_EVERY_MASK = 255;
    private static final int CONTEND_EARLY_MASK = 15;
    private static final int EARLY_ITERATIONS = 1_024;

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
        List<Integer> batch = new ArrayList<>();
        Map<String, Integer> entries = new LinkedHashMap<>();
        for (int i = 0; i < KEYS.length; i++) {
            batch.add(i);
            entries.put(KEYS[i], i);
        }
        long[] sink = {0};
        try (Contender contender = new Contender()) {
            // NOTE: a manager per round: a process's first allocation and first frees in a heap take
            // branches (an empty block cache) that a child meets on its parent's manager; one heap for the
            // whole warm-up left them out of the profile, and so compiled as traps (decision 130).
            for (int r = 0; r < rounds; r++) {
                try (Manager m = Manager.start()) {
                    if (!round(m, iterations, r == 0 ? EARLY_ITERATIONS : 0, stop, contender, batch, entries, sink)) {
                        return;
                    }
                }
            }
        } finally {
            if (sink[0] == 42) {
                System.getLogger(ManagerWarmUp.class.getName()).log(System.Logger.Level.TRACE, "sink");
            }
        }
    }

    /**
     * One round of {@code iterations} on {@code m}'s list and dict, contending more often in the first
     * {@code early} ones; false if {@code stop} ended it early.
     */
    private static boolean round(Manager m, int iterations, int early, BooleanSupplier stop, Contender contender,
                                 List<Integer> batch, Map<String, Integer> entries, long[] sinkOut) {
        List<Object> ls = m.list();
        Container listLock = ((Proxy) ls).container();
        ConcurrentMap<String, Integer> d = m.dict();
        ConcurrentMap<Integer, List<Integer>> nested = m.dict();
        for (int k = 0; k < 16; k++) {
            nested.put(k, List.of(k, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        }
        long sink = 0;
        for (int k = 0; k < iterations; k++) {
            if (stop.getAsBoolean()) {
                sinkOut[0] += sink;
                return false;
            }
            int mask = k < early ? CONTEND_EARLY_MASK : CONTEND_EVERY_MASK;
            if ((k & mask) == mask) {
                contender.holdWhileNext(listLock); // the next add waits: the contended path
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
        sinkOut[0] += sink;
        return true;
    }

    /**
     * A second thread that takes a container's lock when asked and holds it a while, so that the
     * warm-up's next append finds it held: the lock's contended branches (the failed CAS, the wait
     * loop's spins, yields and futex sleep, the release that wakes a sleeper) are in the JIT's profile
     * before the warm-up's loop is compiled. Without them C2 compiles those branches as uncommon
     * traps, and a user's first contended append (seed 000's four processes on one list) deoptimizes
     * the compiled loop and runs interpreted until it is compiled again: measured, the first 40,000
     * contended appends of four warmed processes took 70-110 ms of CPU against 12-16 ms (decision 129).
     * The holds alternate between short (the waiter gets the lock while spinning) and 2 ms (it sleeps
     * and is woken by the release).
     */
    private static final class Contender implements AutoCloseable {
        private final java.util.concurrent.SynchronousQueue<Container> asks = new java.util.concurrent.SynchronousQueue<>();
        private final java.util.concurrent.Semaphore held = new java.util.concurrent.Semaphore(0);
        private final Thread thread;
        private volatile long holdNanos;
        /** Holds asked for so far (warm-up thread only): every other one is long. */
        private int asked;

        Contender() {
            thread = new Thread(this::serve, "multiproc-manager-warm-up-contender");
            thread.setDaemon(true);
            thread.start();
        }

        /** Returns once the contender holds {@code c}'s lock; it releases it at once or 2 ms later, in turn. */
        void holdWhileNext(Container c) {
            holdNanos = (asked++ & 1) == 0 ? 0 : 2_000_000L;
            try {
                // NOTE: bounded: if the contender cannot take the lock (it ended), the append just runs uncontended
                if (asks.offer(c, 1, java.util.concurrent.TimeUnit.SECONDS)
                        && !held.tryAcquire(1, java.util.concurrent.TimeUnit.SECONDS)) {
                    // NOTE: a starved contender holds it later: its permit must not count for the next ask
                    held.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the warm-up thread is stopped by its stop condition
            }
        }

        private void serve() {
            try {
                for (;;) {
                    Container c = asks.take();
                    try {
                        c.lock();
                        try {
                            held.release();
                            if (holdNanos > 0) {
                                java.util.concurrent.locks.LockSupport.parkNanos(holdNanos);
                            }
                        } finally {
                            c.unlock();
                        }
                    } catch (IllegalStateException roundOver) {
                        // its round's manager closed before this thread got to it: serve the next round's asks
                    }
                }
            } catch (InterruptedException done) {
                // closed: the warm-up is over
            }
        }

        @Override
        public void close() {
            thread.interrupt();
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
