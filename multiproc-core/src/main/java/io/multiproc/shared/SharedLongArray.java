package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A fixed-length {@code long[]} in shared memory, zero-filled when created, with lock-free atomic
 * operations on each element (like {@link java.util.concurrent.atomic.AtomicLongArray}) and
 * {@link #segment()} for bulk work.
 *
 * <pre>{@code
 * try (SharedLongArray hist = SharedLongArray.create(10)) {
 *     ChildProcess.start(() -> hist.addAndGet(3, 5)).join();
 *     assert hist.get(3) == 5;
 * }
 * }</pre>
 *
 * <p>Indexes outside {@code [0, length())} throw {@link IndexOutOfBoundsException}.
 */
public final class SharedLongArray extends SharedNumberArray {
    private static final VarHandle VH = JAVA_LONG.varHandle();

    SharedLongArray(SharedSegments.Mapping mapping) {
        super(mapping, NumberKind.LONG);
    }

    /** A new zero-filled array of {@code length > 0} elements. */
    public static SharedLongArray create(int length) {
        return new SharedLongArray(create(NumberKind.LONG, length, data -> { }));
    }

    /** A new array holding a copy of {@code values}. */
    public static SharedLongArray of(long... values) {
        return new SharedLongArray(create(NumberKind.LONG, values.length,
                data -> java.lang.foreign.MemorySegment.copy(values, 0, data, JAVA_LONG, 0, values.length)));
    }

    /** Attaches to an existing shared long array by its {@link #name()}. */
    public static SharedLongArray attach(String name) {
        return (SharedLongArray) SharedNumberArray.attach(name, NumberKind.LONG);
    }

    public long get(int index) {
        ensureOpen();
        return (long) VH.getVolatile(whole, offset(index));
    }

    public void set(int index, long value) {
        ensureOpen();
        VH.setVolatile(whole, offset(index), value);
    }

    public long getAcquire(int index) {
        ensureOpen();
        return (long) VH.getAcquire(whole, offset(index));
    }

    public void setRelease(int index, long value) {
        ensureOpen();
        VH.setRelease(whole, offset(index), value);
    }

    public long incrementAndGet(int index) {
        ensureOpen();
        return (long) VH.getAndAdd(whole, offset(index), 1L) + 1L;
    }

    public long addAndGet(int index, long delta) {
        ensureOpen();
        return (long) VH.getAndAdd(whole, offset(index), delta) + delta;
    }

    public long getAndAdd(int index, long delta) {
        ensureOpen();
        return (long) VH.getAndAdd(whole, offset(index), delta);
    }

    public long getAndSet(int index, long value) {
        ensureOpen();
        return (long) VH.getAndSet(whole, offset(index), value);
    }

    public boolean compareAndSet(int index, long expected, long value) {
        ensureOpen();
        return VH.compareAndSet(whole, offset(index), expected, value);
    }

    /** A copy of the elements (plain reads: a snapshot only if no one writes meanwhile). */
    public long[] toArray() {
        ensureOpen();
        return data.toArray(JAVA_LONG);
    }

    @Override
    public Long getValue(int index) {
        ensureOpen();
        return get(index);
    }

    @Override
    public void setValue(int index, Number value) {
        ensureOpen();
        set(index, value.longValue());
    }
}
