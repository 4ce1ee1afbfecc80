package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/**
 * A fixed-length {@code double[]} in shared memory, zero-filled when created, laid out like a C (and
 * numpy float64) array, with atomic operations on each element and {@link #segment()} for bulk work.
 *
 * <pre>{@code
 * try (SharedDoubleArray a = SharedDoubleArray.create(1_000_000)) {
 *     MemorySegment s = a.segment();          // the 8,000,000 data bytes
 *     for (long i = 0; i < a.length(); i++) s.setAtIndex(JAVA_DOUBLE, i, i * 0.5);
 *     ChildProcess.start(() -> System.out.println(a.get(10))).join();   // 5.0
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
        ensureOpen();
        return (double) VH.getVolatile(whole, offset(index));
    }

    public void set(int index, double value) {
        ensureOpen();
        VH.setVolatile(whole, offset(index), value);
    }

    public double getAcquire(int index) {
        ensureOpen();
        return (double) VH.getAcquire(whole, offset(index));
    }

    public void setRelease(int index, double value) {
        ensureOpen();
        VH.setRelease(whole, offset(index), value);
    }

    public double addAndGet(int index, double delta) {
        ensureOpen();
        return SharedDouble.addAndGet(whole, offset(index), delta);
    }

    public double getAndSet(int index, double value) {
        ensureOpen();
        return (double) VH.getAndSet(whole, offset(index), value);
    }

    public boolean compareAndSet(int index, double expected, double value) {
        ensureOpen();
        return VH.compareAndSet(whole, offset(index), expected, value);
    }

    /** A copy of the elements (plain reads: a snapshot only if no one writes meanwhile). */
    public double[] toArray() {
        ensureOpen();
        return data.toArray(JAVA_DOUBLE);
    }

    @Override
    public Double getValue(int index) {
        ensureOpen();
        return get(index);
    }

    @Override
    public void setValue(int index, Number value) {
        ensureOpen();
        set(index, value.doubleValue());
    }
}
