package io.multiproc.bench;

import io.multiproc.shm.ShareableList;
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

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * ShareableList slot access, one thread: {@code get}/{@code set} of a long slot through
 * {@code java.util.List} (boxed) and through the unboxed {@code getLong}/{@code setLong}, a double
 * slot, and a bulk copy of 1024 longs. Run: {@code bin/jmh ShareableListBench -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ShareableListBench {
    private static final int SIZE = 1024;
    private static final int MASK = SIZE - 1;

    private ShareableList longs;
    private ShareableList doubles;
    private final long[] bulk = new long[SIZE];
    private int next;
    private Long boxed = 1_000_000L; // outside Long's cache, as most values are

    @Setup
    public void setUp() throws IOException {
        List<Object> l = new ArrayList<>();
        List<Object> d = new ArrayList<>();
        for (int i = 0; i < SIZE; i++) {
            l.add(1_000_000L + i);
            d.add(i + 0.5);
        }
        longs = ShareableList.create(null, l);
        doubles = ShareableList.create(null, d);
    }

    @TearDown
    public void tearDown() throws IOException {
        longs.close();
        longs.unlink();
        doubles.close();
        doubles.unlink();
    }

    private int index() {
        return next++ & MASK;
    }

    @Benchmark
    public long getLong() {
        return longs.getLong(index());
    }

    @Benchmark
    public void setLong() {
        int i = index();
        longs.setLong(i, i);
    }

    /** {@code List.get}: returns a boxed Long. */
    @Benchmark
    public Object get() {
        return longs.get(index());
    }

    /** {@code List.set} of a boxed Long, the previous item ignored (the usual use). */
    @Benchmark
    public void set() {
        longs.set(index(), boxed);
    }

    /** {@code List.set} whose caller keeps the previous item, which List returns boxed. */
    @Benchmark
    public Object setReturningPrevious() {
        return longs.set(index(), boxed);
    }

    @Benchmark
    public double getDouble() {
        return doubles.getDouble(index());
    }

    @Benchmark
    public void setDouble() {
        int i = index();
        doubles.setDouble(i, i);
    }

    /** {@code getLongs} of all 1024 slots (8 KiB), then {@code setLongs} back. */
    @Benchmark
    public long[] bulkGetSetLongs1024() {
        longs.getLongs(0, bulk);
        longs.setLongs(0, bulk);
        return bulk;
    }
}
