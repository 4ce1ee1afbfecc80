package io.multiproc.bench;

import io.multiproc.sync.SharedEvent;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;
import io.multiproc.sync.SharedSemaphore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Synchronization on shared memory beside {@link ReentrantLock} on the heap: uncontended (one thread)
 * and contended (the {@code contended*} groups: two threads of one JVM on one lock, so acquisitions go
 * through the waiting path). Run: {@code bin/jmh SyncBench -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SyncBench {
    private SharedLock lock;
    private SharedRLock rlock;
    private SharedEvent event;
    private SharedSemaphore semaphore;
    private final ReentrantLock heapLock = new ReentrantLock();

    @Setup
    public void setUp() {
        lock = SharedLock.create();
        rlock = SharedRLock.create();
        event = SharedEvent.create();
        semaphore = SharedSemaphore.create(1);
    }

    @TearDown
    public void tearDown() {
        lock.close();
        rlock.close();
        event.close();
        semaphore.close();
    }

    @Benchmark
    public void sharedLockLockUnlock() {
        lock.lock();
        lock.unlock();
    }

    @Benchmark
    public void sharedRLockLockUnlock() {
        rlock.lock();
        rlock.unlock();
    }

    @Benchmark
    public boolean eventSetIsSet() {
        event.set();
        return event.isSet();
    }

    @Benchmark
    public boolean eventIsSet() {
        return event.isSet();
    }

    @Benchmark
    public void semaphoreAcquireRelease() throws InterruptedException {
        semaphore.acquire();
        semaphore.release();
    }

    @Benchmark
    public void heapReentrantLockLockUnlock() {
        heapLock.lock();
        heapLock.unlock();
    }

    /** One lock of each kind shared by the two threads of a contended group. */
    @State(Scope.Group)
    public static class Contended {
        SharedLock lock;
        SharedRLock rlock;
        final ReentrantLock heapLock = new ReentrantLock();

        @Setup
        public void setUp() {
            lock = SharedLock.create();
            rlock = SharedRLock.create();
        }

        @TearDown
        public void tearDown() {
            lock.close();
            rlock.close();
        }
    }

    @Benchmark
    @Group("contendedSharedLock")
    @GroupThreads(2)
    public void contendedSharedLockLockUnlock(Contended c) {
        c.lock.lock();
        c.lock.unlock();
    }

    @Benchmark
    @Group("contendedSharedRLock")
    @GroupThreads(2)
    public void contendedSharedRLockLockUnlock(Contended c) {
        c.rlock.lock();
        c.rlock.unlock();
    }

    @Benchmark
    @Group("contendedHeapReentrantLock")
    @GroupThreads(2)
    public void contendedHeapReentrantLockLockUnlock(Contended c) {
        c.heapLock.lock();
        c.heapLock.unlock();
    }

    /**
     * Two threads that hold the lock for a little work: nearly every acquisition finds the lock held,
     * so this measures the waiting path (spin, then futex sleep) and its allocation.
     */
    @Benchmark
    @Group("contendedSharedLockHeld")
    @GroupThreads(2)
    public void contendedSharedLockHeldLockUnlock(Contended c) {
        c.lock.lock();
        Blackhole.consumeCPU(100);
        c.lock.unlock();
    }

    @Benchmark
    @Group("contendedSharedRLockHeld")
    @GroupThreads(2)
    public void contendedSharedRLockHeldLockUnlock(Contended c) {
        c.rlock.lock();
        Blackhole.consumeCPU(100);
        c.rlock.unlock();
    }
}
