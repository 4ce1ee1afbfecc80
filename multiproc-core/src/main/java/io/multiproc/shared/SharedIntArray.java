package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A fixed-length {@code int[]} in shared memory, zero-filled when created, with lock-free atomic
 * operations on each element (like {@link java.util.concurrent.atomic.AtomicIntegerArray}) and
 * {@link #segment()} for bulk work.
 *
 * <pre>{@code
 * try (SharedIntArray hist = SharedIntArray.create(10)) {
 *     ChildProcess.start(() -> hist.addAndGet(3, 5)).join();
 *     assert hist.get(3) == 5;
 * }
 * }</pre>
 *
 * <p>Indexes outside {@code [0, length())} throw {@link IndexOutOfBoundsException}.
 */
public final class SharedIntArray extends SharedNumberArray {
    private static final VarHandle VH = JAVA_INT.varHandle();

    SharedIntArray(SharedSegments.Mapping mapping) {
        super(mapping, NumberKind.INT);
    }

    /** A new zero-filled array of {@code length > 0} elements. */
    public static SharedIntArray create(int length) {
        return new SharedIntArray(create(NumberKind.INT, length, data -> { }));
    }

    /** A new array holding a copy of {@code values}. */
    public static SharedIntArray of(int... values) {
        return new SharedIntArray(create(NumberKind.INT, values.length,
                data -> java.lang.foreign.MemorySegment.copy(values, 0, data, JAVA_INT, 0, values.length)));
    }

    /** Attaches to an existing shared int array by its {@link #name()}. */
    public static SharedIntArray attach(String name) {
        return (SharedIntArray) SharedNumberArray.attach(name, NumberKind.INT);
    }

    public int get(int index) {
        ensureOpen();
        return (int) VH.getVolatile(whole, offset(index));
    }

    public void set(int index, int value) {
        ensureOpen();
        VH.setVolatile(whole, offset(index), value);
    }

    public int getAcquire(int index) {
        ensureOpen();
        return (int) VH.getAcquire(whole, offset(index));
    }

    public void setRelease(int index, int value) {
        ensureOpen();
        VH.setRelease(whole, offset(index), value);
    }

    public int incrementAndGet(int index) {
        ensureOpen();
        return (int) VH.getAndAdd(whole, offset(index), 1) + 1;
    }

    public int addAndGet(int index, int delta) {
        ensureOpen();
        return (int) VH.getAndAdd(whole, offset(index), delta) + delta;
    }

    public int getAndAdd(int index, int delta) {
        ensureOpen();
        return (int) VH.getAndAdd(whole, offset(index), delta);
    }

    public int getAndSet(int index, int value) {
        ensureOpen();
        return (int) VH.getAndSet(whole, offset(index), value);
    }

    public boolean compareAndSet(int index, int expected, int value) {
        ensureOpen();
        return VH.compareAndSet(whole, offset(index), expected, value);
    }

    /** A copy of the elements (plain reads: a snapshot only if no one writes meanwhile). */
    public int[] toArray() {
        ensureOpen();
        return data.toArray(JAVA_INT);
    }

    @Override
    public Integer getValue(int index) {
        ensureOpen();
        return get(index);
    }

    @Override
    public void setValue(int index, Number value) {
        ensureOpen();
        set(index, value.intValue());
    }
}
