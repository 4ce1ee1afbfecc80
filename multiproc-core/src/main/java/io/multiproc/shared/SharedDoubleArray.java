package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.DoubleBuffer;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntToDoubleFunction;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/**
 * A fixed-length {@code double[]} in shared memory, zero-filled when created, laid out like a C (and
 * numpy float64) array, with atomic operations on each element and {@link #segment()} for bulk work.
 *
 * <pre>{@code
 * try (SharedDoubleArray a = SharedDoubleArray.create(1_000_000)) {
 *     a.setAll(i -> i * 0.5);                 // bulk: one call instead of a loop
 *     ChildProcess.start(() -> a.replaceAll(x -> x * x)).join();
 *     System.out.println(a.get(10));          // 25.0
 *     MemorySegment s = a.segment();          // the 8,000,000 data bytes, for other bulk work
 * }
 * }</pre>
 *
 * <p>Python reads it without copying: {@code np.ndarray((a.length(),), dtype=np.float64,
 * buffer=SharedMemory(name=a.name()).buf, offset=a.dataOffset())}.
 *
 * <p>{@link #addAndGet(int, double)} is a compare-and-set loop; {@link #compareAndSet} compares bit
 * patterns. Indexes outside {@code [0, length())} throw {@link IndexOutOfBoundsException}.
 */
public final class SharedDoubleArray extends SharedNumberArray {
    private static final VarHandle VH = JAVA_DOUBLE.varHandle();

    SharedDoubleArray(SharedSegments.Mapping mapping) {
        super(mapping, NumberKind.DOUBLE);
    }

    /** A new zero-filled array of {@code length > 0} elements. */
    public static SharedDoubleArray create(int length) {
        return new SharedDoubleArray(create(NumberKind.DOUBLE, length, data -> { }));
    }

    /** A new array holding a copy of {@code values}. */
    public static SharedDoubleArray of(double... values) {
        return new SharedDoubleArray(create(NumberKind.DOUBLE, values.length,
                data -> MemorySegment.copy(values, 0, data, JAVA_DOUBLE, 0, values.length)));
    }

    /** Attaches to an existing shared double array by its {@link #name()}. */
    public static SharedDoubleArray attach(String name) {
        return (SharedDoubleArray) SharedNumberArray.attach(name, NumberKind.DOUBLE);
    }

    public double get(int index) {
        return (double) VH.getVolatile(whole, offset(index));
    }

    public void set(int index, double value) {
        VH.setVolatile(whole, offset(index), value);
    }

    public double getAcquire(int index) {
        return (double) VH.getAcquire(whole, offset(index));
    }

    public void setRelease(int index, double value) {
        VH.setRelease(whole, offset(index), value);
    }

    public double addAndGet(int index, double delta) {
        return SharedDouble.addAndGet(whole, offset(index), delta);
    }

    public double getAndSet(int index, double value) {
        return (double) VH.getAndSet(whole, offset(index), value);
    }

    public boolean compareAndSet(int index, double expected, double value) {
        return VH.compareAndSet(whole, offset(index), expected, value);
    }

    /** A copy of the elements (plain reads: a snapshot only if no one writes meanwhile). */
    public double[] toArray() {
        return data.toArray(JAVA_DOUBLE);
    }

    // ---------------------------------------------------------------- bulk

    /**
     * Copies elements {@code [from, from + dst.length)} into {@code dst}, at memory speed.
     *
     * @throws IndexOutOfBoundsException naming the values, if the range is not inside this array
     */
    public void getDoubles(int from, double[] dst) {
        getDoubles(from, dst, 0, dst.length);
    }

    /** Copies {@code count} elements from element {@code from} into {@code dst[dstFrom...]}. */
    public void getDoubles(int from, double[] dst, int dstFrom, int count) {
        checkCopy(from, dstFrom, count, dst.length);
        MemorySegment.copy(data, JAVA_DOUBLE, (long) from * JAVA_DOUBLE.byteSize(), dst, dstFrom, count);
    }

    /** Stores {@code src} in elements {@code [from, from + src.length)}, at memory speed. */
    public void setDoubles(int from, double[] src) {
        setDoubles(from, src, 0, src.length);
    }

    /** Stores {@code count} elements of {@code src} from {@code srcFrom} in elements from {@code from} on. */
    public void setDoubles(int from, double[] src, int srcFrom, int count) {
        checkCopy(from, srcFrom, count, src.length);
        MemorySegment.copy(src, srcFrom, data, JAVA_DOUBLE, (long) from * JAVA_DOUBLE.byteSize(), count);
    }

    /**
     * Sets every element {@code i} to {@code f.applyAsDouble(i)}, like {@link java.util.Arrays#setAll}: the
     * fast way to fill an array (cheap while a fresh JVM still interprets it, at memory speed compiled).
     */
    public void setAll(IntToDoubleFunction f) {
        java.util.Objects.requireNonNull(f, "f");
        for (int at = 0, n; at < length; at += n) {
            n = Math.min(WINDOW, length - at);
            DoubleBuffer v = window(at, n).asDoubleBuffer();
            for (int k = 0; k < n; k++) {
                v.put(k, f.applyAsDouble(at + k));
            }
        }
    }

    /** Replaces every element {@code x} with {@code op.applyAsDouble(x)}: {@code replaceAll(0, length(), op)}. */
    public void replaceAll(DoubleUnaryOperator op) {
        replaceAll(0, length, op);
    }

    /**
     * Replaces each element {@code x} of {@code [from, to)} with {@code op.applyAsDouble(x)}, in place: the fast
     * way to update many elements, for example {@code a.replaceAll(0, half, x -> x * x)}. Plain reads and writes, element by
     * element, as a loop over a Java array would do (not atomic; publish the result with a join, a lock
     * or an event); write-through, so a partial update is visible if {@code op} throws.
     *
     * @throws IndexOutOfBoundsException naming the values, if {@code [from, to)} is not inside this array
     */
    public void replaceAll(int from, int to, DoubleUnaryOperator op) {
        checkRange(from, to);
        java.util.Objects.requireNonNull(op, "op");
        for (int at = from, n; at < to; at += n) {
            n = Math.min(WINDOW, to - at);
            DoubleBuffer v = window(at, n).asDoubleBuffer();
            for (int k = 0; k < n; k++) {
                v.put(k, op.applyAsDouble(v.get(k)));
            }
        }
    }

    @Override
    public Double getValue(int index) {
        return get(index);
    }

    @Override
    public void setValue(int index, Number value) {
        set(index, value.doubleValue());
    }
}
