package io.multiproc.cli.bench;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.sync.SharedLock;

import java.util.Arrays;
import java.util.List;

/**
 * Synchronization scenarios that have no CPython counterpart to time: CPython's Lock is never released
 * when its holder dies (gh-88304), so its waiter blocks forever.
 */
final class SyncScenarios {
    private SyncScenarios() {
    }

    /**
     * A child holds a lock and is killed with SIGKILL while a thread of this process is blocked (asleep
     * on the futex) in {@code lock()}; measured from the kill to the waiter holding the lock.
     */
    static List<Row> lockTakeover() throws InterruptedException {
        int kills = 5;
        double[] ms = new double[kills];
        long t0 = System.nanoTime();
        for (int k = 0; k < kills; k++) {
            ms[k] = takeoverMillis();
        }
        double total = (System.nanoTime() - t0) / 1e9;
        double mean = Arrays.stream(ms).average().orElse(Double.NaN);
        double max = Arrays.stream(ms).max().orElse(Double.NaN);
        String notes = String.format("java: a blocked waiter held the lock %.1f ms after SIGKILL of the holder"
                + " (mean of %d, max %.1f), told previousOwnerDied; cpython Lock: the waiter blocks forever", mean, kills, max);
        return List.of(new Row("lock-takeover after SIGKILL", total, mean / 1e3, Double.NaN, Double.NaN, Double.NaN, notes));
    }

    private static double takeoverMillis() throws InterruptedException {
        try (SharedLock lock = SharedLock.create(); SharedLong state = SharedLong.create(0)) {
            ChildProcess holder = ChildProcess.start(() -> {
                lock.lock();
                state.set(1);
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (state.get() != 1) {
                    if (System.nanoTime() > deadline || !holder.isAlive()) {
                        throw new IllegalStateException("the lock holder never took the lock: " + holder);
                    }
                    Thread.sleep(1);
                }
                long[] acquiredAt = new long[1];
                boolean[] told = new boolean[1];
                Thread waiter = new Thread(() -> {
                    lock.lock();
                    acquiredAt[0] = System.nanoTime();
                    told[0] = lock.previousOwnerDied();
                    lock.unlock();
                }, "takeover-waiter");
                waiter.start();
                Thread.sleep(100); // past its spinning: asleep on the futex
                long killedAt = System.nanoTime();
                holder.kill();
                waiter.join(30_000);
                if (waiter.isAlive() || !told[0]) {
                    throw new IllegalStateException("the waiter did not take over the dead holder's lock");
                }
                return (acquiredAt[0] - killedAt) / 1e6;
            } finally {
                holder.close();
            }
        }
    }
}
