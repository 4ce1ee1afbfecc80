package io.multiproc.sync;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedDoubleArray;
import io.multiproc.shared.SharedInt;
import io.multiproc.shared.SharedLong;
import io.multiproc.shared.SharedLongArray;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.multiproc.sync.SharedLockTest.sleepQuietly;
import static io.multiproc.testing.Children.awaitUntil;
import static io.multiproc.testing.Children.joinAllOk;
import static io.multiproc.testing.Children.joinOk;
import static io.multiproc.testing.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SharedRLock (Python's RLock) and the getLock() of shared values, across real child JVMs. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedRLockTest {

    @Test
    void nestsThreeDeepAndOnlyTheOwningThreadCanUnlock() throws Exception {
        try (SharedRLock rlock = SharedRLock.create()) {
            rlock.lock();
            assertThat(rlock.tryLock()).isTrue();
            assertThat(rlock.tryLock(Duration.ofMillis(10))).isTrue();
            assertThat(rlock.getHoldCount()).isEqualTo(3);
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    other.set(rlock.tryLock() ? new AssertionError("another thread got a held RLock") : null);
                    rlock.unlock();
                } catch (Throwable e) {
                    other.set(e);
                }
            });
            t.start();
            t.join(10_000);
            assertThat(other.get()).isInstanceOf(IllegalMonitorStateException.class).hasMessageContaining(rlock.name());
            rlock.unlock();
            rlock.unlock();
            assertThat(rlock.getHoldCount()).isEqualTo(1);
            assertThat(rlock.isLocked()).isTrue();
            rlock.unlock();
            assertThat(rlock.isLocked()).isFalse();
            assertThat(rlock.getHoldCount()).isZero();
            assertThatThrownBy(rlock::unlock).isInstanceOf(IllegalMonitorStateException.class)
                    .hasMessageContaining("not locked");
        }
    }

    @Test
    void anotherProcessCannotUnlockIt() throws Exception {
        try (SharedRLock rlock = SharedRLock.create(); SharedLong result = SharedLong.create(0)) {
            rlock.lock();
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    rlock.unlock();
                    result.set(1);
                } catch (IllegalMonitorStateException expected) {
                    result.set(expected.getMessage().contains("holder pid " + ProcessHandle.current().parent().orElseThrow().pid()) ? 2 : 3);
                }
                result.compareAndSet(2, rlock.tryLock() ? 4 : 2);
            });
            try {
                joinOk(c);
            } finally {
                reap(c);
            }
            assertThat(result.get()).as("1: unlocked, 2: refused naming the holder, 3: refused, 4: then acquired").isEqualTo(2);
            assertThat(rlock.getHoldCount()).isEqualTo(1);
            rlock.unlock();
        }
    }

    @Test
    void nestedHoldsOfAKilledProcessAreTakenOverAsOne() throws Exception {
        try (SharedRLock rlock = SharedRLock.create(); SharedLong state = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> {
                rlock.lock();
                rlock.lock();
                rlock.lock();
                state.set(1);
                sleepQuietly(60_000);
            });
            try {
                awaitUntil("the child holds the lock three times", () -> state.get() == 1);
                assertThat(rlock.tryLock()).isFalse();
                c.kill();
                assertThat(rlock.tryLock(Duration.ofSeconds(5))).isTrue();
                assertThat(rlock.previousOwnerDied()).isTrue();
                assertThat(rlock.getHoldCount()).isEqualTo(1);
                rlock.unlock();
                assertThat(rlock.isLocked()).isFalse();
            } finally {
                reap(c);
            }
        }
    }

    @Test
    void getLockOfAValueIsOneLockInEveryProcess() throws Exception {
        try (SharedLong balance = SharedLong.create(0); SharedLong seen = SharedLong.create(0)) {
            SharedRLock l = balance.getLock();
            assertThat(balance.getLock()).isSameAs(l);
            l.lock();
            ChildProcess c = ChildProcess.start(() -> seen.set(balance.getLock().tryLock() ? 1 : 2));
            try {
                joinOk(c);
            } finally {
                reap(c);
            }
            assertThat(seen.get()).as("the child's getLock() is the parent's lock").isEqualTo(2);
            l.unlock();
        }
    }

    /** The compound update {@code v = v + 1} loses nothing under getLock(), for a value and an array. */
    @Test
    void getLockGuardsCompoundUpdatesAcrossProcesses() throws Exception {
        int n = 5_000;
        try (SharedInt v = SharedInt.create(0); SharedDoubleArray a = SharedDoubleArray.create(2)) {
            ChildProcess[] cs = new ChildProcess[2];
            try {
                for (int i = 0; i < cs.length; i++) {
                    cs[i] = ChildProcess.start(() -> {
                        for (int k = 0; k < n; k++) {
                            v.getLock().lock();
                            try {
                                v.set(v.get() + 1);
                            } finally {
                                v.getLock().unlock();
                            }
                            a.getLock().lock();
                            try {
                                a.set(0, a.get(0) + 1);
                                a.set(1, a.get(0) * 2);
                            } finally {
                                a.getLock().unlock();
                            }
                        }
                    });
                }
                joinAllOk(cs);
            } finally {
                reap(cs);
            }
            assertThat(v.get()).isEqualTo(2 * n);
            assertThat(a.get(0)).isEqualTo(2.0 * n);
            assertThat(a.get(1)).isEqualTo(4.0 * n);
        }
    }

    @Test
    void aConditionRestoresTheNestedHoldCountAfterAwait() throws Exception {
        try (SharedRLock rlock = SharedRLock.create()) {
            SharedCondition c = rlock.newCondition();
            try (c) {
                rlock.lock();
                rlock.lock();
                assertThat(c.await(Duration.ofMillis(50))).isFalse();
                assertThat(rlock.getHoldCount()).isEqualTo(2);
                rlock.unlock();
                rlock.unlock();
                assertThat(rlock.isLocked()).isFalse();
            }
        }
    }

    /**
     * Two threads of one process race on an RLock whose holder (another process) was killed. One of
     * them takes it over and is stopped (a fault hook) right after its takeover CAS; the other, whose
     * thread id equals the dead holder's (both are their JVM's main thread), must not get in.
     */
    @Test
    void twoThreadsRacingToTakeOverFromAKilledHolderDoNotBothGetIn() throws Exception {
        try (SharedRLock rlock = SharedRLock.create(); SharedLong state = SharedLong.create(0);
             SharedLongArray result = SharedLongArray.create(4)) {
            ChildProcess holder = ChildProcess.start(() -> {
                rlock.lock();
                result.set(0, Thread.currentThread().threadId());
                state.set(1);
                sleepQuietly(60_000);
            });
            ChildProcess racer = null;
            try {
                awaitUntil("the first child holds the lock", () -> state.get() == 1);
                holder.kill();
                assertThat(holder.join(Duration.ofSeconds(10))).isTrue();
                racer = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.test.syncFaults=true"))
                        .target(() -> raceForTheDeadHoldersLock(rlock, result)).start();
                joinOk(racer);
            } finally {
                reap(holder, racer);
            }
            assertThat(result.get(1)).as("precondition: the racer's main thread has the dead holder's thread id")
                    .isEqualTo(1);
            assertThat(result.get(2)).as("the taker was stopped right after its takeover CAS").isEqualTo(1);
            assertThat(result.get(3)).as("1: the other thread got in while the taker held the lock").isZero();
            assertThat(rlock.isLocked()).isFalse();
        }
    }

    /** In the racing child: a second thread takes the lock over and stops in the window; main tries to enter. */
    static void raceForTheDeadHoldersLock(SharedRLock rlock, SharedLongArray result) {
        result.set(1, Thread.currentThread().threadId() == result.get(0) ? 1 : 0);
        CountDownLatch inWindow = new CountDownLatch(1);
        CountDownLatch tried = new CountDownLatch(1);
        SyncFaults.hook = point -> {
            inWindow.countDown();
            try {
                tried.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Thread taker = new Thread(() -> {
            rlock.lock();
            rlock.unlock();
        });
        taker.start();
        try {
            if (inWindow.await(10, TimeUnit.SECONDS)) {
                result.set(2, 1);
                result.set(3, rlock.tryLock() ? 1 : 0);
            }
            tried.countDown();
            taker.join(10_000);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        } finally {
            SyncFaults.hook = null;
        }
    }

    /**
     * A stopped holder (SIGSTOP, state T) is alive: its lock is not taken over; after SIGCONT it still
     * holds the lock; once it is killed, the lock is taken over.
     */
    @Test
    void aStoppedHolderKeepsItsLockUntilItIsKilled() throws Exception {
        try (SharedRLock rlock = SharedRLock.create(); SharedLong state = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> {
                rlock.lock();
                state.set(1);
                while (state.get() != 2) {
                    sleepQuietly(1);
                }
                state.set(rlock.isHeldByCurrentThread() && rlock.getHoldCount() == 1 ? 3 : 4);
                sleepQuietly(60_000);
            });
            try {
                awaitUntil("the child holds the lock", () -> state.get() == 1);
                SharedConditionTest.stop(c);
                assertThat(rlock.tryLock(Duration.ofMillis(500))).as("taken from a stopped holder").isFalse();
                assertThat(rlock.tryLock()).isFalse();
                assertThat(SharedConditionTest.stateOf(c.pid())).isEqualTo('T');
                assertThat(rlock.ownerPid()).isEqualTo(c.pid());
                SharedConditionTest.sendSignal("CONT", c.pid());
                state.set(2);
                awaitUntil("the continued child looked at its lock", () -> state.get() >= 3);
                assertThat(state.get()).as("3: the continued child still holds the lock").isEqualTo(3);
                c.kill();
                assertThat(rlock.tryLock(Duration.ofSeconds(5))).as("taken over once the holder is killed").isTrue();
                assertThat(rlock.previousOwnerDied()).isTrue();
                rlock.unlock();
            } finally {
                reap(c);
            }
        }
    }

    /** A value's lock handle travels to a child and is the same lock there. */
    @Test
    void aValuesLockHandleTravelsToAChild() throws Exception {
        try (SharedLong v = SharedLong.create(0); SharedLong seen = SharedLong.create(0)) {
            SharedRLock l = v.getLock();
            l.lock();
            ChildProcess c = ChildProcess.start(() -> seen.set(l.isLocked() && !l.tryLock() ? 1 : 2));
            try {
                joinOk(c);
            } finally {
                reap(c);
            }
            assertThat(seen.get()).as("1: the child saw the parent's hold").isEqualTo(1);
            l.unlock();
        }
    }

    /**
     * A lock handle that names a segment and an offset attaches only where a lock of its kind is: the
     * segment's header must be the one the handle names, and the offset a marked lock region in it.
     */
    @Test
    void aLockHandleThatDoesNotPointAtALockRegionIsRefused() {
        try (SharedLongArray host = SharedLongArray.create(64)) {
            AbstractSharedLock.Handle real = (AbstractSharedLock.Handle) host.getLock().writeReplace();
            String name = host.name();
            assertRefused(new AbstractSharedLock.Handle(name, 8, true, real.magic(), real.version(), real.kind()),
                    "base=8");
            assertRefused(new AbstractSharedLock.Handle(name, real.base() + 4, true, real.magic(), real.version(), real.kind()),
                    "base=" + (real.base() + 4));
            assertRefused(new AbstractSharedLock.Handle(name, 1L << 40, true, real.magic(), real.version(), real.kind()),
                    "base=" + (1L << 40));
            assertRefused(new AbstractSharedLock.Handle(name, real.base() + 128, true, real.magic(), real.version(), real.kind()),
                    "mark=0x0");
            assertRefused(new AbstractSharedLock.Handle(name, real.base(), false, real.magic(), real.version(), real.kind()),
                    "SharedLock");
            assertRefused(new AbstractSharedLock.Handle(name, real.base(), true, LockLayout.MAGIC, LockLayout.VERSION,
                    LockLayout.KIND_RLOCK), "magic");
            assertThat(host.getLock().isLocked()).isFalse();
        }
    }

    static void assertRefused(AbstractSharedLock.Handle forged, String why) {
        assertThatThrownBy(forged::readResolve).isInstanceOf(java.io.InvalidObjectException.class)
                .hasMessageContaining(forged.name()).hasMessageContaining(why);
    }

    /**
     * Of two threads asleep on an RLock, the one woken by a release takes the lock, and its own release
     * must wake the other: run with futex sleeps raised to 20 s, so that nothing rests on the sleep's
     * time limit.
     */
    @Test
    void aWokenWaiterThatTakesTheLockWakesTheNextSleeperOnRelease() throws Exception {
        try (SharedRLock rlock = SharedRLock.create(); SharedLongArray out = SharedLongArray.create(2)) {
            SharedLockTest.inChildWithLongSleeps(() -> {
                        rlock.lock();
                        Runnable takeBriefly = () -> {
                            rlock.lock();
                            sleepQuietly(50);
                            out.set(0, System.nanoTime());
                            rlock.unlock();
                        };
                        Thread first = new Thread(takeBriefly);
                        Thread second = new Thread(takeBriefly);
                        try {
                            first.start();
                            awaitUntil("the first waiter sleeps", () -> rlock.word().sleepers() == 1);
                            Thread.sleep(100);
                            second.start();
                            awaitUntil("the second waiter sleeps", () -> rlock.word().sleepers() == 2);
                            Thread.sleep(100);
                            long released = System.nanoTime();
                            rlock.unlock();
                            first.join(30_000);
                            second.join(30_000);
                            out.set(1, (System.nanoTime() - released) / 1_000_000);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            assertThat(out.get(1)).as("ms for both waiters to take the lock in turn (each holds it 50 ms)")
                    .isBetween(100L, 5_000L);
        }
    }
}
