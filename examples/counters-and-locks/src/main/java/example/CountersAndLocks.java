package example;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.sync.SharedLock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Shared counters and a lock across JVMs, and what happens when a process dies holding the lock.
 *
 * <ol>
 *   <li>Four children add 100,000 each to one SharedLong with lock-free incrementAndGet: no update lost.</li>
 *   <li>Four children update a two-field invariant (a and b, always equal) under one SharedLock.</li>
 *   <li>Crash demo: a child takes the lock and is SIGKILLed while holding it. The parent's tryLock sees the
 *       holder is dead, takes the lock over, and previousOwnerDied() tells it to check what the lock guards.</li>
 * </ol>
 */
public final class CountersAndLocks {
    public static void main(String[] args) throws Exception {
        try (SharedLong counter = SharedLong.create(0);
             SharedLong a = SharedLong.create(0);
             SharedLong b = SharedLong.create(0);
             SharedLock lock = SharedLock.create();
             SharedLong holding = SharedLong.create(0)) {
            List<ChildProcess> children = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                children.add(ChildProcess.start(() -> {
                    for (int k = 0; k < 100_000; k++) {
                        counter.incrementAndGet();
                    }
                    for (int k = 0; k < 1_000; k++) {
                        lock.lock();
                        try {
                            a.incrementAndGet();
                            b.incrementAndGet();   // a == b whenever the lock is free
                        } finally {
                            lock.unlock();
                        }
                    }
                }));
            }
            for (ChildProcess c : children) {
                c.join();
            }
            System.out.println("counter = " + counter.get() + " (expected 400000)");
            System.out.println("a = " + a.get() + ", b = " + b.get() + " (expected 4000 each)");

            // Crash demo: the child takes the lock, says so, and waits to be killed.
            ChildProcess victim = ChildProcess.start(() -> {
                lock.lock();
                a.incrementAndGet();        // half of an update: b is not incremented
                holding.set(1);
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (holding.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            System.out.println("child " + victim.pid() + " holds the lock: " + (lock.ownerPid() == victim.pid()));
            victim.kill();                  // SIGKILL: no finally block, no shutdown hook runs
            victim.join();
            if (!lock.tryLock(Duration.ofSeconds(10))) {
                throw new IllegalStateException("the lock of a dead holder was not taken over");
            }
            try {
                boolean died = lock.previousOwnerDied();
                System.out.println("parent took the lock over; previous owner died: " + died);
                if (a.get() != b.get()) {
                    System.out.println("repairing the half-done update: a = " + a.get() + ", b = " + b.get());
                    b.set(a.get());
                }
            } finally {
                lock.unlock();
            }
            System.out.println("a = " + a.get() + ", b = " + b.get() + " (consistent again)");
        }
    }
}
