package io.multiproc.sync;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static io.multiproc.sync.SharedLockTest.sleepQuietly;
import static io.multiproc.testing.Children.awaitUntil;
import static io.multiproc.testing.Children.inThreads;
import static io.multiproc.testing.Children.joinOk;
import static io.multiproc.testing.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SharedSemaphore and SharedBoundedSemaphore (Python's Semaphore, BoundedSemaphore) across processes. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedSemaphoreTest {

    /** Port of CPython's {@code _TestSemaphore.test_semaphore}. */
    @Test
    void countsDownTwoToOneToZeroAndTryAcquireFailsAtZero() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(2)) {
            assertThat(s.availablePermits()).isEqualTo(2);
            s.acquire();
            assertThat(s.availablePermits()).isEqualTo(1);
            assertThat(s.tryAcquire()).isTrue();
            assertThat(s.availablePermits()).isZero();
            assertThat(s.tryAcquire()).isFalse();
            assertThat(s.tryAcquire(Duration.ZERO)).isFalse();
            s.release();
            assertThat(s.availablePermits()).isEqualTo(1);
            s.release(2);
            assertThat(s.availablePermits()).isEqualTo(3); // an unbounded semaphore may go above its start
        }
    }

    @Test
    void timedAcquireReturnsFalseAfterAboutTheTimeout() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(0)) {
            long t0 = System.nanoTime();
            assertThat(s.tryAcquire(Duration.ofMillis(300))).isFalse();
            assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(290L, 5_000L);
            assertThat(s.availablePermits()).isZero();
        }
    }

    @Test
    void aReleaseInAnotherProcessWakesAWaiter() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(0); SharedLong state = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> {
                state.set(1);
                try {
                    if (s.tryAcquire(Duration.ofSeconds(20))) {
                        state.set(2);
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                awaitUntil("the child waits", () -> state.get() == 1);
                Thread.sleep(200);
                assertThat(state.get()).isEqualTo(1);
                s.release();
                joinOk(c);
                assertThat(state.get()).isEqualTo(2);
                assertThat(s.availablePermits()).isZero();
            } finally {
                reap(c);
            }
        }
    }

    @Test
    void manyWaitersInSeveralProcessesEachTakeOnePermit() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(0); SharedLong got = SharedLong.create(0)) {
            ChildProcess[] cs = new ChildProcess[2];
            try {
                for (int i = 0; i < cs.length; i++) {
                    cs[i] = ChildProcess.start(() -> SharedSemaphoreTest.takeTwo(s, got));
                }
                Thread.sleep(300);
                s.release(3);
                awaitUntil("three permits taken", () -> got.get() == 3);
                Thread.sleep(100);
                assertThat(got.get()).as("no fourth permit out of thin air").isEqualTo(3);
                s.release();
                for (ChildProcess c : cs) {
                    joinOk(c);
                }
                assertThat(got.get()).isEqualTo(4);
                assertThat(s.availablePermits()).isZero();
            } finally {
                reap(cs);
            }
        }
    }

    static void takeTwo(SharedSemaphore s, SharedLong got) {
        inThreads(2, () -> {
            try {
                if (s.tryAcquire(Duration.ofSeconds(20))) {
                    got.incrementAndGet();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Test
    void acquireHonoursInterrupts() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(0)) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    s.acquire();
                } catch (InterruptedException e) {
                    thrown.set(e);
                }
            });
            t.start();
            Thread.sleep(100);
            t.interrupt();
            t.join(10_000);
            assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
            assertThat(s.availablePermits()).isZero();
        }
    }

    @Test
    void boundedSemaphoreThrowsOnOverReleaseAndKeepsItsCount() throws Exception {
        try (SharedBoundedSemaphore b = SharedBoundedSemaphore.create(2)) {
            b.acquire();
            b.release();
            assertThatThrownBy(b::release).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(b.name()).hasMessageContaining("bound 2");
            assertThat(b.availablePermits()).isEqualTo(2);
            b.acquire();
            assertThatThrownBy(() -> b.release(2)).isInstanceOf(IllegalStateException.class);
            assertThat(b.availablePermits()).isEqualTo(1);
        }
    }

    @Test
    void boundedSemaphoreOverReleasedFromAChildThrowsThere() throws Exception {
        try (SharedBoundedSemaphore b = SharedBoundedSemaphore.create(1); SharedLong result = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    b.release();
                    result.set(1);
                } catch (IllegalStateException expected) {
                    result.set(2);
                }
            });
            try {
                joinOk(c);
            } finally {
                reap(c);
            }
            assertThat(result.get()).isEqualTo(2);
            assertThat(b.availablePermits()).isEqualTo(1);
        }
    }

    @Test
    void badArgumentsAreRejectedNamingTheValue() {
        assertThatThrownBy(() -> SharedSemaphore.create(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permits=-1");
        assertThatThrownBy(() -> SharedBoundedSemaphore.create(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("permits=0");
        try (SharedSemaphore s = SharedSemaphore.create(1)) {
            assertThatThrownBy(() -> s.release(0)).hasMessageContaining("permits=0");
            assertThatThrownBy(() -> s.tryAcquire(Duration.ofSeconds(-1))).hasMessageContaining("timeout=PT-1S");
            assertThat(s.availablePermits()).isEqualTo(1);
        }
    }

    /**
     * Documented behaviour: a permit has no owner, so one taken by a process that is then killed is
     * not given back (as with POSIX and CPython semaphores). Waiters still give up at their timeout.
     */
    @Test
    void aPermitTakenByAKilledProcessIsNotGivenBack() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(1); SharedLong state = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    s.acquire();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                state.set(1);
                sleepQuietly(60_000);
            });
            try {
                awaitUntil("the child took the permit", () -> state.get() == 1);
                c.kill();
                assertThat(c.join(Duration.ofSeconds(10))).isTrue();
                assertThat(s.availablePermits()).isZero();
                assertThat(s.tryAcquire(Duration.ofMillis(200))).isFalse();
            } finally {
                reap(c);
            }
        }
    }

    /**
     * Semaphores and barriers take an {@link io.multiproc.wait.IdleStrategy} like locks and events: a
     * busy-spinning waiter never sleeps on the futex, and still gets what it waits for.
     */
    @Test
    void semaphoresAndBarriersWaitWithTheIdleStrategyTheyWereCreatedWith() throws Exception {
        io.multiproc.wait.IdleStrategy spin = io.multiproc.wait.IdleStrategy.busySpin();
        try (SharedSemaphore s = SharedSemaphore.create(0, spin);
             SharedBoundedSemaphore b = SharedBoundedSemaphore.create(1, spin);
             SharedBarrier barrier = SharedBarrier.create(2, spin)) {
            b.acquire();
            java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
            Thread t = new Thread(() -> {
                try {
                    s.acquire();
                    b.acquire();
                    barrier.await();
                    done.set(1);
                } catch (Exception e) {
                    done.set(2);
                }
            });
            t.start();
            Thread.sleep(300); // a blocking() waiter would be asleep by now
            assertThat(s.word.sleepers()).isZero();
            s.release();
            Thread.sleep(300);
            assertThat(b.word.sleepers()).isZero();
            b.release();
            Thread.sleep(300);
            assertThat(barrier.word.sleepers()).isZero();
            barrier.await(Duration.ofSeconds(10));
            t.join(10_000);
            assertThat(done.get()).isEqualTo(1);
        }
        assertThatThrownBy(() -> SharedSemaphore.create(1, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("idle");
    }

    /**
     * release(n) wakes n sleepers and release() one more, at once: run with futex sleeps raised to 20 s,
     * so that nothing rests on the sleep's time limit.
     */
    @Test
    void releasedPermitsReachSleepersWithoutWaitingOutASleep() throws Exception {
        try (SharedSemaphore s = SharedSemaphore.create(0); SharedLong out = SharedLong.create(0)) {
            SharedLockTest.inChildWithLongSleeps(() -> {
                        java.util.concurrent.atomic.AtomicInteger got = new java.util.concurrent.atomic.AtomicInteger();
                        Runnable take = () -> {
                            try {
                                s.acquire();
                                got.incrementAndGet();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        };
                        Thread[] ts = {new Thread(take), new Thread(take), new Thread(take)};
                        try {
                            for (Thread t : ts) {
                                t.start();
                                int n = (int) java.util.Arrays.stream(ts).filter(Thread::isAlive).count();
                                awaitUntil("sleepers", () -> s.word.sleepers() == n);
                                Thread.sleep(50);
                            }
                            long t0 = System.nanoTime();
                            s.release(2);
                            awaitUntil("two permits taken", () -> got.get() == 2);
                            s.release();
                            awaitUntil("three permits taken", () -> got.get() == 3);
                            out.set((System.nanoTime() - t0) / 1_000_000);
                            for (Thread t : ts) {
                                t.join(10_000);
                            }
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            assertThat(out.get()).as("ms until three sleepers held the three permits").isBetween(0L, 5_000L);
        }
    }
}
