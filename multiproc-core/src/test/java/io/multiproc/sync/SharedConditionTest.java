package io.multiproc.sync;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static io.multiproc.testing.Children.awaitUntil;
import static io.multiproc.testing.Children.inThreads;
import static io.multiproc.testing.Children.joinAllOk;
import static io.multiproc.testing.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SharedCondition (Python's Condition) with waiters in several processes and threads. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedConditionTest {

    /** A waiter: takes the lock, waits once for a signal (20 s at most), counts itself woken. */
    static void waitOnce(SharedRLock lock, SharedCondition cond, SharedLong woken) {
        lock.lock();
        try {
            if (cond.await(Duration.ofSeconds(20))) {
                woken.incrementAndGet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    static void waitOnceInTwoThreads(SharedRLock lock, SharedCondition cond, SharedLong woken) {
        inThreads(2, () -> waitOnce(lock, cond, woken));
    }

    /** Two waiter children, the first surely older (a lower ticket) than the second. */
    static ChildProcess[] twoWaiters(SharedRLock lock, SharedCondition cond, SharedLong woken) throws InterruptedException {
        ChildProcess[] waiters = new ChildProcess[2];
        waiters[0] = ChildProcess.start(() -> waitOnce(lock, cond, woken));
        awaitUntil("the first waiter waits", () -> cond.waiters() == 1);
        waiters[1] = ChildProcess.start(() -> waitOnce(lock, cond, woken));
        awaitUntil("the second waiter waits", () -> cond.waiters() == 2);
        return waiters;
    }

    static void signal(SharedRLock lock, SharedCondition cond, boolean all) {
        lock.lock();
        try {
            if (all) {
                cond.signalAll();
            } else {
                cond.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Port of CPython's {@code _TestCondition.test_notify} and {@code test_notify_all}. */
    @Test
    void signalWakesOneWaiterAndSignalAllWakesTheRest() throws Exception {
        try (SharedRLock lock = SharedRLock.create(); SharedCondition cond = lock.newCondition();
             SharedLong woken = SharedLong.create(0)) {
            ChildProcess[] cs = new ChildProcess[2];
            Thread local = new Thread(() -> waitOnce(lock, cond, woken));
            try {
                for (int i = 0; i < cs.length; i++) {
                    cs[i] = ChildProcess.start(() -> waitOnceInTwoThreads(lock, cond, woken));
                }
                local.start();
                awaitUntil("five waiters", () -> cond.waiters() == 5);
                signal(lock, cond, false);
                awaitUntil("one woken", () -> woken.get() == 1);
                Thread.sleep(200);
                assertThat(woken.get()).as("signal wakes exactly one").isEqualTo(1);
                assertThat(cond.waiters()).isEqualTo(4);
                signal(lock, cond, false);
                awaitUntil("two woken", () -> woken.get() == 2);
                signal(lock, cond, true);
                awaitUntil("all woken", () -> woken.get() == 5);
                joinAllOk(cs);
                local.join(10_000);
                assertThat(cond.waiters()).isZero();
                assertThat(lock.isLocked()).isFalse();
            } finally {
                reap(cs);
            }
        }
    }

    @Test
    void aWaiterKilledWhileWaitingDoesNotTakeASignal() throws Exception {
        try (SharedRLock lock = SharedRLock.create(); SharedCondition cond = lock.newCondition();
             SharedLong woken = SharedLong.create(0)) {
            ChildProcess[] waiters = twoWaiters(lock, cond, woken);
            ChildProcess first = waiters[0];
            ChildProcess second = waiters[1];
            try {
                first.kill(); // the oldest waiter, which signal() would pick
                assertThat(first.join(Duration.ofSeconds(10))).isTrue();
                signal(lock, cond, false);
                awaitUntil("the live waiter is woken", () -> woken.get() == 1);
                assertThat(second.join(Duration.ofSeconds(20))).isTrue();
            } finally {
                reap(first, second);
            }
        }
    }

    /**
     * The signalled waiter is frozen (SIGSTOP) so that it cannot take its signal, then killed: the
     * signal must pass to the other waiter.
     */
    @Test
    void aSignalWhoseWaiterDiesBeforeTakingItPassesToAnotherWaiter() throws Exception {
        try (SharedRLock lock = SharedRLock.create(); SharedCondition cond = lock.newCondition();
             SharedLong woken = SharedLong.create(0)) {
            ChildProcess[] waiters = twoWaiters(lock, cond, woken);
            ChildProcess first = waiters[0];
            ChildProcess second = waiters[1];
            try {
                sendSignal("STOP", first.pid());
                long frozen = first.pid();
                awaitUntil("the first waiter is stopped", () -> stateOf(frozen) == 'T');
                signal(lock, cond, false); // goes to the first (oldest) waiter, which is frozen
                Thread.sleep(100);
                assertThat(woken.get()).isZero();
                first.kill();
                assertThat(first.join(Duration.ofSeconds(10))).isTrue();
                awaitUntil("the signal reached the second waiter", () -> woken.get() == 1);
                assertThat(second.join(Duration.ofSeconds(20))).isTrue();
                assertThat(second.exitCode()).hasValue(0);
            } finally {
                reap(first, second);
            }
        }
    }

    /** The process state letter from /proc/PID/stat ('T' once stopped), or '?' if gone. */
    static char stateOf(long pid) {
        return io.multiproc.testing.Children.stateOf(pid);
    }

    static void sendSignal(String signal, long pid) throws IOException, InterruptedException {
        io.multiproc.testing.Children.signal(signal, pid);
    }

    @Test
    void awaitAndSignalWithoutTheLockThrow() {
        try (SharedRLock lock = SharedRLock.create(); SharedCondition cond = lock.newCondition()) {
            assertThatThrownBy(cond::await).isInstanceOf(IllegalMonitorStateException.class)
                    .hasMessageContaining(cond.name()).hasMessageContaining(lock.name());
            assertThatThrownBy(cond::signal).isInstanceOf(IllegalMonitorStateException.class);
            assertThatThrownBy(cond::signalAll).isInstanceOf(IllegalMonitorStateException.class);
            assertThat(cond.waiters()).isZero();
        }
    }

    @Test
    void timedAwaitReturnsFalseAndHoldsTheLockAgain() throws Exception {
        try (SharedLock lock = SharedLock.create(); SharedCondition cond = lock.newCondition()) {
            lock.lock();
            long t0 = System.nanoTime();
            assertThat(cond.await(Duration.ofMillis(200))).isFalse();
            assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(190L, 5_000L);
            assertThat(lock.isLocked()).isTrue();
            assertThat(cond.awaitNanos(10_000_000L)).isLessThanOrEqualTo(0L);
            lock.unlock();
            assertThatThrownBy(() -> {
                lock.lock();
                try {
                    cond.await(Duration.ofSeconds(-1));
                } finally {
                    lock.unlock();
                }
            }).hasMessageContaining("timeout=PT-1S");
        }
    }

    /** A deadline long past, however far, means "do not wait": awaitUntil returns false at once. */
    @Test
    void awaitUntilADeadlineLongPastReturnsFalseAtOnce() throws Exception {
        try (SharedLock lock = SharedLock.create(); SharedCondition cond = lock.newCondition()) {
            AtomicReference<String> outcome = new AtomicReference<>();
            Thread t = new Thread(() -> {
                lock.lock();
                try {
                    outcome.set("returned " + cond.awaitUntil(new java.util.Date(Long.MIN_VALUE)));
                } catch (InterruptedException e) {
                    outcome.set("interrupted");
                } finally {
                    lock.unlock();
                }
            });
            t.start();
            try {
                t.join(5_000);
                assertThat(outcome.get()).as("awaitUntil(new Date(Long.MIN_VALUE)) within 5 s").isEqualTo("returned false");
                assertThat(lock.isLocked()).isFalse();
            } finally {
                t.interrupt();
                t.join(10_000);
            }
        }
    }

    @Test
    void anInterruptedWaiterThrowsHoldingTheLockAgain() throws Exception {
        try (SharedRLock lock = SharedRLock.create(); SharedCondition cond = lock.newCondition()) {
            AtomicReference<String> outcome = new AtomicReference<>();
            Thread t = new Thread(() -> {
                lock.lock();
                try {
                    cond.await();
                    outcome.set("returned");
                } catch (InterruptedException e) {
                    outcome.set("interrupted, holding=" + lock.isHeldByCurrentThread());
                } finally {
                    lock.unlock();
                }
            });
            t.start();
            awaitUntil("the thread waits", () -> cond.waiters() == 1);
            t.interrupt();
            t.join(10_000);
            assertThat(outcome.get()).isEqualTo("interrupted, holding=true");
            assertThat(lock.isLocked()).isFalse();
            assertThat(cond.waiters()).isZero();
        }
    }

    /**
     * A signalled waiter dies before taking its signal, and the next thread to arrive (await's slot
     * search) is the first to meet its slot: the signal must still reach the live waiter. The live
     * waiter is stopped meanwhile, so that only the arriving thread can meet the dead slot.
     */
    @Test
    void aSignalOfADeadWaiterMetByAnArrivingWaiterIsPassedOn() throws Exception {
        try (SharedRLock lock = SharedRLock.create(); SharedCondition cond = lock.newCondition();
             SharedLong woken = SharedLong.create(0)) {
            ChildProcess[] waiters = twoWaiters(lock, cond, woken);
            ChildProcess first = waiters[0];
            ChildProcess second = waiters[1];
            try {
                stop(first);
                stop(second);
                signal(lock, cond, false); // goes to the first (oldest) waiter, which is frozen
                first.kill();
                assertThat(first.join(Duration.ofSeconds(10))).isTrue();
                lock.lock();
                try {
                    cond.await(Duration.ofMillis(200)); // its slot search meets the dead waiter's signalled slot
                } finally {
                    lock.unlock();
                }
                sendSignal("CONT", second.pid());
                awaitUntil("the signal reached the second waiter", () -> woken.get() == 1);
                assertThat(second.join(Duration.ofSeconds(20))).isTrue();
                assertThat(second.exitCode()).hasValue(0);
            } finally {
                reap(first, second);
            }
        }
    }

    static void stop(ChildProcess c) throws IOException, InterruptedException {
        sendSignal("STOP", c.pid());
        long pid = c.pid();
        awaitUntil("pid " + pid + " is stopped", () -> stateOf(pid) == 'T');
    }

    /**
     * A process killed in the middle of claiming a slot (after the claim, before it waits) leaves the
     * slot CLAIMED; it must be reclaimed, so that the table still takes its full number of waiters.
     */
    @Test
    void aSlotLeftClaimedByAKilledProcessIsReclaimed() throws Exception {
        try (SharedRLock lock = SharedRLock.create(); SharedCondition cond = lock.newCondition();
             SharedLong state = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.test.syncFaults=true")).target(() -> {
                SyncFaults.hook = point -> {
                    state.set(1);
                    SharedLockTest.sleepQuietly(60_000);
                };
                lock.lock();
                try {
                    cond.await(Duration.ofSeconds(60));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    lock.unlock();
                }
            }).start();
            List<Thread> threads = new ArrayList<>();
            SharedLong waited = SharedLong.create(0);
            try (waited) {
                awaitUntil("the child has claimed a slot", () -> state.get() == 1);
                c.kill();
                assertThat(c.join(Duration.ofSeconds(10))).isTrue();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                for (int i = 0; i < ConditionLayout.SLOTS; i++) {
                    Thread t = new Thread(() -> {
                        lock.lock();
                        try {
                            if (cond.await(Duration.ofSeconds(30))) {
                                waited.incrementAndGet();
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        } finally {
                            lock.unlock();
                        }
                    });
                    t.start();
                    threads.add(t);
                }
                awaitUntil("all threads wait, or one failed",
                        () -> cond.waiters() == ConditionLayout.SLOTS || failure.get() != null);
                assertThat(failure.get()).as("a waiter failed").isNull();
                signal(lock, cond, true);
                for (Thread t : threads) {
                    t.join(30_000);
                }
                assertThat(waited.get()).isEqualTo(ConditionLayout.SLOTS);
            } finally {
                reap(c);
                for (Thread t : threads) {
                    t.interrupt();
                }
            }
        }
    }

    /**
     * A thread waits on a condition that another thread of its process closes: the wait fails with
     * IllegalStateException holding the lock again (so its finally unlocks its own hold), and its slot is
     * freed, so that a signal from another process reaches the waiter there instead of the one that left.
     */
    @Test
    void closingAConditionFailsItsWaitersHoldingTheLockAndSignalsStillReachOthers() throws Exception {
        try (SharedLock lock = SharedLock.create(); SharedLong state = SharedLong.create(0);
             SharedLong result = SharedLong.create(0)) {
            SharedCondition cond = lock.newCondition();
            AtomicReference<String> outcome = new AtomicReference<>();
            Thread t1 = new Thread(() -> {
                lock.lock();
                try {
                    cond.await();
                    outcome.set("returned");
                } catch (IllegalStateException e) {
                    outcome.set("closed, holding=" + lock.heldByThisThread() + ": " + e.getMessage());
                } catch (InterruptedException e) {
                    outcome.set("interrupted");
                } finally {
                    lock.unlock();
                }
            });
            ChildProcess c = null;
            try {
                t1.start();
                awaitUntil("this process's thread waits", () -> cond.waiters() == 1);
                c = ChildProcess.start(() -> {
                    Thread w = new Thread(() -> {
                        lock.lock();
                        try {
                            result.set(cond.await(Duration.ofSeconds(10)) ? 1 : 2);
                        } catch (InterruptedException e) {
                            result.set(3);
                        } finally {
                            lock.unlock();
                        }
                    });
                    w.start();
                    long until = System.nanoTime() + 30_000_000_000L;
                    while (state.get() != 1 && System.nanoTime() < until) {
                        SharedLockTest.sleepQuietly(1);
                    }
                    lock.lock();
                    try {
                        cond.signal();
                    } finally {
                        lock.unlock();
                    }
                    try {
                        w.join(30_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                awaitUntil("the child's thread waits too", () -> cond.waiters() == 2);
                cond.close();
                t1.join(10_000);
                assertThat(outcome.get()).isEqualTo("closed, holding=true: SharedCondition '" + cond.name() + "' is closed");
                assertThat(lock.isLocked()).isFalse();
                long t0 = System.nanoTime();
                state.set(1); // the child signals now
                awaitUntil("the child's waiter is done", () -> result.get() != 0);
                assertThat(result.get()).as("1: signalled, 2: timed out").isEqualTo(1);
                assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until signalled").isLessThan(5_000L);
                joinAllOk(c);
            } finally {
                t1.interrupt();
                t1.join(10_000);
                reap(c);
                cond.close();
            }
        }
    }

    /**
     * Closing the lock closes its conditions: their waiters fail with IllegalStateException, and do not
     * take the closed handle's lock back (no one could unlock it through that handle any more).
     */
    @Test
    void closingTheLockFailsConditionWaitersWithoutTakingTheLockBack() throws Exception {
        SharedLock lock = SharedLock.create();
        try (SharedLock other = SharedLock.attach(lock.name())) {
            SharedCondition cond = lock.newCondition();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = new Thread(() -> {
                lock.lock();
                try {
                    cond.await();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.start();
            try {
                awaitUntil("the thread waits", () -> cond.waiters() == 1);
                lock.close();
                t.join(10_000);
                assertThat(failure.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining(cond.name());
                assertThat(other.isLocked()).as("locked after its waiter left").isFalse();
            } finally {
                t.interrupt();
                t.join(10_000);
            }
        }
    }

    /**
     * Java code never closes a Condition: closing the lock that made it removes its segment too, also when
     * a condition the program dropped unclosed is still to be collected.
     */
    @Test
    void closingTheLockReleasesTheConditionsItMade() throws Exception {
        SharedRLock lock = SharedRLock.create();
        SharedCondition a = lock.newCondition();
        SharedCondition b = lock.newCondition();
        lock.newCondition(); // dropped, never closed
        b.close(); // closing one first is fine too
        assertThat(b.name()).as("the conditions of a lock handle share one segment").isEqualTo(a.name());
        assertThat(ReapChildrenCheckShm.shmFiles()).contains(lock.name(), a.name());
        lock.close();
        assertThatThrownBy(a::signal).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        awaitUntil("the conditions' segment is removed", Duration.ofSeconds(20), Duration.ofMillis(50), () -> {
            System.gc();
            try {
                return !ReapChildrenCheckShm.shmFiles().contains(a.name());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(ReapChildrenCheckShm.shmFiles()).doesNotContain(lock.name());
        assertThatThrownBy(lock::newCondition).isInstanceOf(IllegalStateException.class);
    }

    /**
     * A condition per wait, legal with ReentrantLock, on a lock that lives long: /dev/shm, the registry and
     * this process's mappings grow by one segment at most, however many conditions are made.
     */
    @Test
    void conditionsMadePerWaitOnALongLivedLockLeaveABoundedNumberOfSegments() throws Exception {
        try (SharedRLock lock = SharedRLock.create()) {
            java.util.Set<String> before = ReapChildrenCheckShm.shmFiles();
            long recordsBefore = ownRegistryRecords();
            long mappingsBefore = shmMappings();
            for (int i = 0; i < 10_000; i++) {
                SharedCondition c = lock.newCondition();
                lock.lock();
                try {
                    assertThat(c.await(1, java.util.concurrent.TimeUnit.NANOSECONDS)).isFalse();
                } finally {
                    lock.unlock();
                }
            }
            java.util.Set<String> added = new java.util.HashSet<>(ReapChildrenCheckShm.shmFiles());
            added.removeAll(before);
            assertThat(added).as("segments the conditions added").hasSizeLessThanOrEqualTo(1);
            assertThat(ownRegistryRecords() - recordsBefore).as("registry records").isLessThanOrEqualTo(1);
            assertThat(shmMappings() - mappingsBefore).as("mappings of /dev/shm").isLessThanOrEqualTo(1);
        }
    }

    /** Among many conditions of one lock, one sent to a child is woken by its own signal only. */
    @Test
    void aConditionAmongManyOfOneLockSignalsItsWaiterInAChildAndOnlyIt() throws Exception {
        try (SharedRLock lock = SharedRLock.create(); SharedLong woken = SharedLong.create(0)) {
            SharedCondition other = lock.newCondition();
            SharedCondition made = null;
            for (int i = 0; i < 100; i++) {
                made = lock.newCondition();
            }
            SharedCondition cond = made;
            ChildProcess child = ChildProcess.start(() -> waitOnce(lock, cond, woken));
            try {
                awaitUntil("the child waits", () -> cond.waiters() == 1);
                assertThat(other.waiters()).isZero();
                signal(lock, other, true);
                Thread.sleep(200);
                assertThat(woken.get()).as("another condition's signalAll wakes no one here").isZero();
                signal(lock, cond, false);
                awaitUntil("the child is woken", () -> woken.get() == 1);
                assertThat(child.join(Duration.ofSeconds(20))).isTrue();
                assertThat(child.exitCode()).hasValue(0);
            } finally {
                reap(child);
            }
        }
    }

    /** This process's records in the segment registry. */
    private static long ownRegistryRecords() throws IOException {
        String me = "@" + ProcessHandle.current().pid() + ".";
        try (var files = java.nio.file.Files.list(io.multiproc.internal.SegmentRegistry.dir())) {
            return files.filter(f -> f.getFileName().toString().contains(me)).count();
        }
    }

    /** This process's mappings of files in /dev/shm. */
    private static long shmMappings() throws IOException {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/self/maps"))) {
            return lines.filter(l -> l.contains("/dev/shm/")).count();
        }
    }
}
