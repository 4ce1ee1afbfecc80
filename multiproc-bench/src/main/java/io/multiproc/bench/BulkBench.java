package io.multiproc.bench;

import io.multiproc.shared.SharedDoubleArray;
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
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/**
 * The bulk paths, one thread, warmed up: {@code SharedDoubleArray.replaceAll} over 1,000,000 doubles
 * (8 MB, more than this machine's caches, so memory-bound like numpy's {@code np.square(a, out=a)}),
 * beside the same loop written over {@code segment()} and over a heap {@code double[]}; bulk copies out
 * and back; {@code setAll}; and {@code ShareableList.replaceAllLongs} over 1,024 slots beside a loop of
 * {@code setLong(i, getLong(i) * 2)}. The elements are 1.0 so that squaring keeps them (no denormals).
 * Run: {@code bin/jmh BulkBench -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class BulkBench {
    private static final int DOUBLES = 1_000_000;
    private static final int SLOTS = 1024;

    private SharedDoubleArray array;
    private MemorySegment data;
    private final double[] heap = new double[DOUBLES];
    private final double[] copy = new double[DOUBLES];
    private ShareableList list;

    @Setup
    public void setUp() throws IOException {
        array = SharedDoubleArray.create(DOUBLES);
        array.setAll(i -> 1.0);
        data = array.segment();
        java.util.Arrays.fill(heap, 1.0);
        list = ShareableList.create(null, LongStream.range(0, SLOTS).boxed().toList());
    }

    @TearDown
    public void tearDown() throws IOException {
        array.close();
        list.close();
        list.unlink();
    }

    /** The library's element-wise update: 16 bytes moved per element. */
    @Benchmark
    public void replaceAllSquare() {
        array.replaceAll(x -> x * x);
    }

    /** The same over {@code segment()}, int-counted (what the scenario did before replaceAll). */
    @Benchmark
    public void segmentLoopSquare() {
        MemorySegment s = data;
        for (int i = 0; i < DOUBLES; i++) {
            double x = s.getAtIndex(JAVA_DOUBLE, i);
            s.setAtIndex(JAVA_DOUBLE, i, x * x);
        }
    }

    /** The same over a Java array on the heap: the JIT's best case. */
    @Benchmark
    public void heapArraySquare() {
        double[] a = heap;
        for (int i = 0; i < a.length; i++) {
            a[i] = a[i] * a[i];
        }
    }

    /** {@code getDoubles} of all of it into a Java array and {@code setDoubles} back. */
    @Benchmark
    public void copyOutAndBack() {
        array.getDoubles(0, copy);
        array.setDoubles(0, copy);
    }

    @Benchmark
    public void setAllConstant() {
        array.setAll(i -> 1.0);
    }

    /** ShareableList: one call for 1,024 slots (flipping the low bit, so the values stay small). */
    @Benchmark
    public void shareableReplaceAllLongs1024() {
        list.replaceAllLongs(0, SLOTS, x -> x ^ 1);
    }

    /** The loop users write without the bulk method. */
    @Benchmark
    public void shareableSetLongGetLongLoop1024() {
        ShareableList l = list;
        for (int i = 0; i < SLOTS; i++) {
            l.setLong(i, l.getLong(i) ^ 1);
        }
    }
}
