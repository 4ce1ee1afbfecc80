package io.multiproc.manager.contract;

import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.Manager;
import io.multiproc.manager.SemaphoreProxy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The contract of a {@link Manager}'s synchronization objects (lock, rlock, condition, semaphore, event,
 * barrier) as Python's multiprocessing defines them, checked with threads of one JVM against every
 * backend: subclass it (from the test-jar) with {@link #start()} returning a fresh manager. Cross-process
 * behaviour is each backend's own multi-JVM tests.
 */
public abstract class ManagerSyncContract {
    /** Generous: a backend on a loaded 2-core machine may take a while to hand over. */
    protected static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final Duration SHORT = Duration.ofMillis(300);

    /** A fresh manager for one test; closed after it. */
    protected abstract Manager start();

    protected Manager m;
    private ExecutorService threads;

    @BeforeEach
    final void open() {
        m = start();
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    final void shut() {
        threads.shutdownNow();
        m.close();
    }

    private <T> Future<T> inAnotherThread(java.util.concurrent.Callable<T> task) {
        return threads.submit(task);
    }

    // ---- lock --------------------------------------------------------------------------------------------

    @Test
    public void lockExcludesOtherThreadsSoNoIncrementIsLost() throws Exception {
        Lock lock = m.lock();
        long[] counter = {0};
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            fs.add(inAnotherThread(() -> {
                for (int i = 0; i < 200; i++) {
                    lock.lock();
                    try {
                        long v = counter[0];
                        Thread.onSpinWait();
                        counter[0] = v + 1;
                    } finally {
                        lock.unlock();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        }
        lock.lock();
        try {
            assertThat(counter[0]).isEqualTo(600);
        } finally {
            lock.unlock();
        }
    }

    @Test
    public void lockIsNotReentrantAndAnotherThreadMayUnlockIt() throws Exception {
        Lock lock = m.lock();
        lock.lock();
        assertThat(lock.tryLock()).as("second acquire by the holder").isFalse();
        assertThat(lock.tryLock(100, TimeUnit.MILLISECONDS)).isFalse();
        inAnotherThread(() -> {
            lock.unlock();
            return null;
        }).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(lock.tryLock()).as("free after the other thread's unlock").isTrue();
        lock.unlock();
    }

    @Test
    public void unlockingAFreeLockThrowsIllegalMonitorState() {
        Lock lock = m.lock();
        assertThatThrownBy(lock::unlock).isInstanceOf(IllegalMonitorStateException.class);
        Lock rlock = m.rlock();
        assertThatThrownBy(rlock::unlock).isInstanceOf(IllegalMonitorStateException.class);
    }

    @Test
    public void tryLockWaitsAboutItsTimeoutWhileAnotherHolds() throws Exception {
        Lock lock = m.lock();
        lock.lock();
        long t0 = System.nanoTime();
        boolean got = inAnotherThread(() -> lock.tryLock(SHORT.toMillis(), TimeUnit.MILLISECONDS))
                .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        long waited = System.nanoTime() - t0;
        assertThat(got).isFalse();
        assertThat(waited).isGreaterThanOrEqualTo(SHORT.toNanos());
        lock.unlock();
    }

    @Test
    public void aWaitingLockIsHandedOverWhenTheHolderUnlocks() throws Exception {
        Lock lock = m.lock();
        lock.lock();
        Future<Boolean> waiter = inAnotherThread(() -> lock.tryLock(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
        Thread.sleep(100);
        lock.unlock();
        assertThat(waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        lock.unlock();
    }

    @Test
    public void lockInterruptiblyStopsWaitingWhenInterrupted() throws Exception {
        Lock lock = m.lock();
        lock.lock();
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        Thread t = new Thread(() -> {
            started.countDown();
            try {
                lock.lockInterruptibly();
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        });
        t.start();
        started.await();
        Thread.sleep(100);
        t.interrupt();
        t.join(PATIENCE.toMillis());
        assertThat(interrupted).isTrue();
        lock.unlock();
    }

    // ---- rlock -------------------------------------------------------------------------------------------

    @Test
    public void rlockIsReentrantAndOnlyItsHolderMayUnlock() throws Exception {
        Lock r = m.rlock();
        r.lock();
        assertThat(r.tryLock()).as("re-entry").isTrue();
        assertThat(inAnotherThread(r::tryLock).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isFalse();
        Future<?> foreign = inAnotherThread(() -> {
            r.unlock();
            return null;
        });
        assertThatThrownBy(() -> foreign.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS))
                .hasCauseInstanceOf(IllegalMonitorStateException.class);
        r.unlock();
        assertThat(inAnotherThread(r::tryLock).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS))
                .as("still held once").isFalse();
        r.unlock();
        assertThat(inAnotherThread(() -> {
            boolean got = r.tryLock();
            if (got) {
                r.unlock();
            }
            return got;
        }).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).as("free after both holds are released").isTrue();
    }

    // ---- condition ---------------------------------------------------------------------------------------

    @Test
    public void signalWakesAWaiterWhichHoldsTheLockAgain() throws Exception {
        Lock r = m.rlock();
        Condition c = m.condition(r);
        AtomicBoolean ready = new AtomicBoolean();
        Future<Boolean> waiter = inAnotherThread(() -> {
            r.lock();
            try {
                long deadline = System.nanoTime() + PATIENCE.toNanos();
                while (!ready.get() && System.nanoTime() < deadline) {
                    c.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
                }
                return ready.get() && r.tryLock(); // re-entry proves it holds the lock again
            } finally {
                r.unlock();
                r.unlock();
            }
        });
        Thread.sleep(200);
        r.lock();
        try {
            ready.set(true);
            c.signal();
        } finally {
            r.unlock();
        }
        assertThat(waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    }

    @Test
    public void signalAllWakesEveryWaiter() throws Exception {
        Lock r = m.rlock();
        Condition c = m.condition(r);
        AtomicBoolean go = new AtomicBoolean();
        List<Future<Boolean>> ws = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ws.add(inAnotherThread(() -> {
                r.lock();
                try {
                    long deadline = System.nanoTime() + PATIENCE.toNanos();
                    while (!go.get() && System.nanoTime() < deadline) {
                        c.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
                    }
                    return go.get();
                } finally {
                    r.unlock();
                }
            }));
        }
        Thread.sleep(300);
        r.lock();
        try {
            go.set(true);
            c.signalAll();
        } finally {
            r.unlock();
        }
        for (Future<Boolean> w : ws) {
            assertThat(w.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        }
    }

    @Test
    public void timedAwaitReturnsFalseWithoutASignalAndHoldsTheLockAgain() throws Exception {
        Lock r = m.rlock();
        Condition c = r.newCondition(); // the lock's own condition behaves as the manager's
        r.lock();
        try {
            long t0 = System.nanoTime();
            assertThat(c.await(SHORT.toMillis(), TimeUnit.MILLISECONDS)).isFalse();
            assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(SHORT.toNanos());
            assertThat(inAnotherThread(r::tryLock).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isFalse();
        } finally {
            r.unlock();
        }
    }

    @Test
    public void awaitAndSignalWithoutHoldingTheRlockThrowIllegalMonitorState() {
        Lock r = m.rlock();
        Condition c = m.condition(r);
        assertThatThrownBy(() -> c.await(10, TimeUnit.MILLISECONDS)).isInstanceOf(IllegalMonitorStateException.class);
        assertThatThrownBy(c::signal).isInstanceOf(IllegalMonitorStateException.class);
    }

    @Test
    public void aConditionOverAForeignLockIsRefusedNamingIt() {
        assertThatThrownBy(() -> m.condition(new ReentrantLock())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lock=");
    }

    // ---- semaphore ---------------------------------------------------------------------------------------

    @Test
    public void semaphoreCountsPermitsAndTimesOutWhenNoneIsLeft() throws Exception {
        SemaphoreProxy s = m.semaphore(2);
        assertThat(s.availablePermits()).isEqualTo(2);
        assertThat(s.tryAcquire()).isTrue();
        assertThat(s.tryAcquire(SHORT)).isTrue();
        assertThat(s.availablePermits()).isZero();
        long t0 = System.nanoTime();
        assertThat(s.tryAcquire(SHORT)).isFalse();
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(SHORT.toNanos());
        s.release();
        s.release();
        assertThat(s.availablePermits()).isEqualTo(2);
    }

    @Test
    public void aReleaseWakesAnAcquirer() throws Exception {
        SemaphoreProxy s = m.semaphore(0);
        Future<Boolean> acquirer = inAnotherThread(() -> s.tryAcquire(PATIENCE));
        Thread.sleep(100);
        s.release();
        assertThat(acquirer.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(s.availablePermits()).isZero();
    }

    // ---- event -------------------------------------------------------------------------------------------

    @Test
    public void eventSetsAndClearsAnyNumberOfTimes() throws Exception {
        EventProxy e = m.event();
        assertThat(e.isSet()).isFalse();
        for (int i = 0; i < 3; i++) {
            e.set();
            assertThat(e.isSet()).isTrue();
            assertThat(e.await(SHORT)).isTrue();
            e.clear();
            assertThat(e.isSet()).isFalse();
            long t0 = System.nanoTime();
            assertThat(e.await(SHORT)).isFalse();
            assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(SHORT.toNanos());
        }
    }

    @Test
    public void eventSetInAnotherThreadWakesAWaiter() throws Exception {
        EventProxy e = m.event();
        Future<Boolean> waiter = inAnotherThread(() -> e.await(PATIENCE));
        Thread.sleep(100);
        e.set();
        assertThat(waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    }

    /**
     * As java.util.concurrent's Semaphore and CountDownLatch: a thread interrupted on entry gets
     * InterruptedException (its interrupt cleared) even when a permit is free or the event is set, and
     * takes no permit.
     */
    @Test
    public void aThreadInterruptedOnEntryToAcquireOrAwaitGetsInterruptedExceptionAndTakesNothing() throws Exception {
        SemaphoreProxy s = m.semaphore(1);
        EventProxy e = m.event();
        e.set();
        for (String call : List.of("acquire", "tryAcquire(timeout)", "await", "await(timeout)")) {
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> {
                switch (call) {
                    case "acquire" -> s.acquire();
                    case "tryAcquire(timeout)" -> s.tryAcquire(SHORT);
                    case "await" -> e.await();
                    default -> e.await(SHORT);
                }
            }).as(call).isInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).as(call + ": interrupt cleared").isFalse();
            assertThat(s.availablePermits()).as(call + ": no permit taken").isEqualTo(1);
        }
    }

    // ---- barrier -----------------------------------------------------------------------------------------

    @Test
    public void barrierReleasesAllPartiesWithDistinctIndicesAndIsCyclic() throws Exception {
        BarrierProxy b = m.barrier(3);
        assertThat(b.getParties()).isEqualTo(3);
        for (int round = 0; round < 2; round++) {
            Set<Integer> indices = ConcurrentHashMap.newKeySet();
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(inAnotherThread(() -> indices.add(b.await(PATIENCE))));
            }
            for (Future<?> f : fs) {
                f.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            }
            assertThat(indices).containsExactlyInAnyOrder(0, 1, 2);
        }
        assertThat(b.isBroken()).isFalse();
    }

    @Test
    public void barrierCountsWaitersAndATimeoutBreaksIt() throws Exception {
        BarrierProxy b = m.barrier(3);
        Future<Object> first = inAnotherThread(() -> awaitOrBroken(b));
        awaitWaiting(b, 1);
        assertThat(b.getNumberWaiting()).isEqualTo(1);
        assertThatThrownBy(() -> b.await(SHORT)).isInstanceOf(TimeoutException.class);
        assertThat(first.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOf(BrokenBarrierException.class);
        assertThat(b.isBroken()).isTrue();
        assertThatThrownBy(() -> b.await(SHORT)).isInstanceOf(BrokenBarrierException.class);
        b.reset();
        assertThat(b.isBroken()).isFalse();
        assertThat(b.getNumberWaiting()).isZero();
    }

    @Test
    public void abortBreaksWaitersAndResetStartsAFreshGeneration() throws Exception {
        BarrierProxy b = m.barrier(2);
        Future<Object> waiter = inAnotherThread(() -> awaitOrBroken(b));
        awaitWaiting(b, 1);
        b.abort();
        assertThat(waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOf(BrokenBarrierException.class);
        b.reset();
        Future<Integer> other = inAnotherThread(() -> b.await(PATIENCE));
        int mine = b.await(PATIENCE);
        assertThat(Set.of(mine, other.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS))).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    public void noPartyCountsAsWaitingOnceTheWaitersOfABrokenBarrierHaveLeft() throws Exception {
        BarrierProxy b = m.barrier(3);
        Future<Object> waiter = inAnotherThread(() -> awaitOrBroken(b));
        awaitWaiting(b, 1);
        b.abort();
        assertThat(waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOf(BrokenBarrierException.class);
        assertThat(b.getNumberWaiting()).as("waiting after abort, as CyclicBarrier and Python's n_waiting").isZero();
        b.reset();
        assertThatThrownBy(() -> b.await(SHORT)).isInstanceOf(TimeoutException.class);
        assertThat(b.getNumberWaiting()).as("waiting after a timeout broke the pass").isZero();
    }

    @Test
    public void anInterruptedArrivalAtABrokenBarrierGetsBrokenBarrierExceptionAndKeepsItsInterrupt() throws Exception {
        BarrierProxy b = m.barrier(2);
        b.abort();
        Future<Object> arrival = inAnotherThread(() -> {
            Thread.currentThread().interrupt();
            try {
                b.await(PATIENCE);
                return "passed";
            } catch (BrokenBarrierException | InterruptedException e) {
                return e.getClass().getSimpleName() + (Thread.interrupted() ? " interrupted" : "");
            }
        });
        assertThat(arrival.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).as("as CyclicBarrier: broken is checked first")
                .isEqualTo("BrokenBarrierException interrupted");
    }

    private static Object awaitOrBroken(BarrierProxy b) throws Exception {
        try {
            return b.await(PATIENCE);
        } catch (BrokenBarrierException expected) {
            return expected;
        }
    }

    private static void awaitWaiting(BarrierProxy b, int parties) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (b.getNumberWaiting() < parties && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @Test
    public void aBarrierOfNoPartiesIsRefusedNamingTheValue() {
        assertThatThrownBy(() -> m.barrier(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("parties=0");
    }
}
