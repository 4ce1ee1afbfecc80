package io.multiproc.bench;

import io.multiproc.sync.SharedEvent;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;
import io.multiproc.sync.SharedSemaphore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Uncontended synchronization on shared memory, one thread, beside {@link ReentrantLock} on the heap.
 * Run: {@code bin/jmh SyncBench -prof gc}.
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
}
