package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.LongBuffer;
import java.util.function.LongUnaryOperator;
import java.util.function.IntToLongFunction;

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
        return (long) VH.getVolatile(whole, offset(index));
    }

    public void set(int index, long value) {
        VH.setVolatile(whole, offset(index), value);
    }

    public long getAcquire(int index) {
        return (long) VH.getAcquire(whole, offset(index));
    }

    public void setRelease(int index, long value) {
        VH.setRelease(whole, offset(index), value);
    }

    public long incrementAndGet(int index) {
        return (long) VH.getAndAdd(whole, offset(index), 1L) + 1L;
    }

    public long addAndGet(int index, long delta) {
        return (long) VH.getAndAdd(whole, offset(index), delta) + delta;
    }

    public long getAndAdd(int index, long delta) {
        return (long) VH.getAndAdd(whole, offset(index), delta);
    }

    public long getAndSet(int index, long value) {
        return (long) VH.getAndSet(whole, offset(index), value);
    }

    public boolean compareAndSet(int index, long expected, long value) {
        return VH.compareAndSet(whole, offset(index), expected, value);
    }

    /** A copy of the elements (plain reads: a snapshot only if no one writes meanwhile). */
    public long[] toArray() {
        return data.toArray(JAVA_LONG);
    }

    // ---------------------------------------------------------------- bulk

    /**
     * Copies elements {@code [from, from + dst.length)} into {@code dst}, at memory speed.
     *
     * @throws IndexOutOfBoundsException naming the values, if the range is not inside this array
     */
    public void getLongs(int from, long[] dst) {
        getLongs(from, dst, 0, dst.length);
    }

    /** Copies {@code count} elements from element {@code from} into {@code dst[dstFrom...]}. */
    public void getLongs(int from, long[] dst, int dstFrom, int count) {
        checkCopy(from, dstFrom, count, dst.length);
        MemorySegment.copy(data, JAVA_LONG, (long) from * JAVA_LONG.byteSize(), dst, dstFrom, count);
    }

    /** Stores {@code src} in elements {@code [from, from + src.length)}, at memory speed. */
    public void setLongs(int from, long[] src) {
        setLongs(from, src, 0, src.length);
    }

    /** Stores {@code count} elements of {@code src} from {@code srcFrom} in elements from {@code from} on. */
    public void setLongs(int from, long[] src, int srcFrom, int count) {
        checkCopy(from, srcFrom, count, src.length);
        MemorySegment.copy(src, srcFrom, data, JAVA_LONG, (long) from * JAVA_LONG.byteSize(), count);
    }

    /**
     * Sets every element {@code i} to {@code f.applyAsLong(i)}, like {@link java.util.Arrays#setAll}: the
     * fast way to fill an array (cheap while a fresh JVM still interprets it, at memory speed compiled).
     */
    public void setAll(IntToLongFunction f) {
        java.util.Objects.requireNonNull(f, "f");
        for (int at = 0, n; at < length; at += n) {
            n = Math.min(WINDOW, length - at);
            LongBuffer v = window(at, n).asLongBuffer();
            for (int k = 0; k < n; k++) {
                v.put(k, f.applyAsLong(at + k));
            }
        }
    }

    /** Replaces every element {@code x} with {@code op.applyAsLong(x)}: {@code replaceAll(0, length(), op)}. */
    public void replaceAll(LongUnaryOperator op) {
        replaceAll(0, length, op);
    }

    /**
     * Replaces each element {@code x} of {@code [from, to)} with {@code op.applyAsLong(x)}, in place: the fast
     * way to update many elements, for example {@code a.replaceAll(0, half, x -> x * 2)}. Plain reads and writes, element by
     * element, as a loop over a Java array would do (not atomic; publish the result with a join, a lock
     * or an event); write-through, so a partial update is visible if {@code op} throws.
     *
     * @throws IndexOutOfBoundsException naming the values, if {@code [from, to)} is not inside this array
     */
    public void replaceAll(int from, int to, LongUnaryOperator op) {
        checkRange(from, to);
        java.util.Objects.requireNonNull(op, "op");
        for (int at = from, n; at < to; at += n) {
            n = Math.min(WINDOW, to - at);
            LongBuffer v = window(at, n).asLongBuffer();
            for (int k = 0; k < n; k++) {
                v.put(k, op.applyAsLong(v.get(k)));
            }
        }
    }

    @Override
    public Long getValue(int index) {
        return get(index);
    }

    @Override
    public void setValue(int index, Number value) {
        set(index, value.longValue());
    }
}
