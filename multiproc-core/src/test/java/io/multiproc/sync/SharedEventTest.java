package io.multiproc.sync;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static io.multiproc.testing.Children.awaitUntil;
import static io.multiproc.testing.Children.inThreads;
import static io.multiproc.testing.Children.joinAllOk;
import static io.multiproc.testing.Children.joinOk;
import static io.multiproc.testing.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SharedEvent (Python's Event) across real child JVMs. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedEventTest {

    /** Port of CPython's {@code _TestEvent.test_event}. */
    @Test
    void awaitIsFalseWhileClearAndTrueAtOnceWhenSet() throws Exception {
        try (SharedEvent e = SharedEvent.create()) {
            assertThat(e.isSet()).isFalse();
            long t0 = System.nanoTime();
            assertThat(e.await(Duration.ofMillis(200))).isFalse();
            assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(190L, 5_000L);
            assertThat(e.await(Duration.ZERO)).isFalse();
            e.set();
            assertThat(e.isSet()).isTrue();
            t0 = System.nanoTime();
            assertThat(e.await()).isTrue();
            assertThat(e.await(Duration.ofSeconds(10))).isTrue();
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000L);
            e.clear();
            assertThat(e.isSet()).isFalse();
            assertThat(e.await(Duration.ofMillis(20))).isFalse();
        }
    }

    @Test
    void aChildSettingTheEventWakesTheParent() throws Exception {
        try (SharedEvent e = SharedEvent.create()) {
            ChildProcess c = ChildProcess.start(() -> {
                SharedLockTest.sleepQuietly(300);
                e.set();
            });
            try {
                assertThat(e.await(Duration.ofSeconds(30))).isTrue();
                joinOk(c);
            } finally {
                reap(c);
            }
        }
    }

    @Test
    void setReleasesWaitersInSeveralProcessesAndThreads() throws Exception {
        try (SharedEvent e = SharedEvent.create(); SharedLong waiting = SharedLong.create(0);
             SharedLong released = SharedLong.create(0)) {
            ChildProcess[] cs = new ChildProcess[2];
            try {
                for (int i = 0; i < cs.length; i++) {
                    cs[i] = ChildProcess.start(() -> SharedEventTest.waitInTwoThreads(e, waiting, released));
                }
                awaitUntil("four waiters", () -> waiting.get() == 4);
                Thread.sleep(200);
                assertThat(released.get()).isZero();
                e.set();
                joinAllOk(cs);
                assertThat(released.get()).isEqualTo(4);
            } finally {
                reap(cs);
            }
        }
    }

    static void waitInTwoThreads(SharedEvent e, SharedLong waiting, SharedLong released) {
        inThreads(2, () -> {
            waiting.incrementAndGet();
            try {
                if (e.await(Duration.ofSeconds(20))) {
                    released.incrementAndGet();
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** The waiter sleeps in a futex call; closing must still unmap and release (no leak), and the waiter fails. */
    @Test
    void closingWhileAnotherThreadWaitsReleasesTheEventAndFailsTheWaiter() throws Exception {
        SharedEvent e = SharedEvent.create();
        java.util.concurrent.atomic.AtomicReference<Throwable> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                outcome.set(new AssertionError("await returned " + e.await(Duration.ofSeconds(20))));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        waiter.start();
        Thread.sleep(200); // asleep on the futex by now
        e.close();
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", e.name()))).isFalse();
        waiter.join(5_000);
        assertThat(waiter.isAlive()).as("the waiter gave up").isFalse();
        assertThat(outcome.get()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badTimeoutIsRejectedNamingTheValue() {
        try (SharedEvent e = SharedEvent.create()) {
            assertThatThrownBy(() -> e.await(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("timeout=PT-0.001S");
        }
    }

    /**
     * {@code set(); clear()} while a waiter sleeps releases it with true, as Python's
     * {@code threading.Event.wait()} reports a pulse, even though the flag is clear when it looks (the
     * waiter is stopped meanwhile, so it surely looks after the clear).
     */
    @Test
    void aSetAndClearPulseReleasesAWaiterInAnotherProcess() throws Exception {
        try (SharedEvent e = SharedEvent.create(); SharedLong result = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    result.set(e.await(Duration.ofSeconds(10)) ? 1 : 2);
                } catch (InterruptedException x) {
                    result.set(3);
                }
            });
            try {
                awaitUntil("the child sleeps on the event", () -> e.word.sleepers() == 1);
                Thread.sleep(100);
                SharedConditionTest.stop(c); // so that it looks only after the clear
                e.set();
                e.clear();
                SharedConditionTest.sendSignal("CONT", c.pid());
                joinOk(c);
            } finally {
                reap(c);
            }
            assertThat(result.get()).as("1: the waiter saw the pulse, 2: it timed out").isEqualTo(1);
            assertThat(e.isSet()).isFalse();
            assertThat(e.await(Duration.ofMillis(50))).as("a later waiter does not see an old pulse").isFalse();
        }
    }
}
