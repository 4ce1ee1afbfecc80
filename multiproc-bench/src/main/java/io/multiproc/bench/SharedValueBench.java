package io.multiproc.bench;

import io.multiproc.shared.SharedDouble;
import io.multiproc.shared.SharedLong;
import io.multiproc.shared.SharedLongArray;
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
import java.util.concurrent.atomic.AtomicLong;

/**
 * Uncontended atomic operations on shared memory, one thread, beside {@link AtomicLong} on the heap.
 * Run: {@code bin/jmh SharedValueBench} (add {@code -prof gc} to confirm no allocation).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SharedValueBench {
    private SharedLong value;
    private SharedDouble dbl;
    private SharedLongArray array;
    private final AtomicLong heap = new AtomicLong();
    private long next;

    @Setup
    public void setUp() {
        value = SharedLong.create(0);
        dbl = SharedDouble.create(0);
        array = SharedLongArray.create(64);
    }

    @TearDown
    public void tearDown() {
        value.close();
        dbl.close();
        array.close();
    }

    @Benchmark
    public long sharedLongIncrementAndGet() {
        return value.incrementAndGet();
    }

    @Benchmark
    public long sharedLongGet() {
        return value.get();
    }

    @Benchmark
    public void sharedLongSet() {
        value.set(next++);
    }

    @Benchmark
    public boolean sharedLongCompareAndSet() {
        long v = value.get();
        return value.compareAndSet(v, v + 1);
    }

    @Benchmark
    public long sharedLongArrayAddAndGet() {
        return array.addAndGet((int) (next++ & 63), 1);
    }

    @Benchmark
    public double sharedDoubleAddAndGet() {
        return dbl.addAndGet(1.0);
    }

    @Benchmark
    public long heapAtomicLongIncrementAndGet() {
        return heap.incrementAndGet();
    }
}
