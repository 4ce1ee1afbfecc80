package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.IntBuffer;
import java.util.function.IntUnaryOperator;

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
        return (int) VH.getVolatile(whole, offset(index));
    }

    public void set(int index, int value) {
        VH.setVolatile(whole, offset(index), value);
    }

    public int getAcquire(int index) {
        return (int) VH.getAcquire(whole, offset(index));
    }

    public void setRelease(int index, int value) {
        VH.setRelease(whole, offset(index), value);
    }

    public int incrementAndGet(int index) {
        return (int) VH.getAndAdd(whole, offset(index), 1) + 1;
    }

    public int addAndGet(int index, int delta) {
        return (int) VH.getAndAdd(whole, offset(index), delta) + delta;
    }

    public int getAndAdd(int index, int delta) {
        return (int) VH.getAndAdd(whole, offset(index), delta);
    }

    public int getAndSet(int index, int value) {
        return (int) VH.getAndSet(whole, offset(index), value);
    }

    public boolean compareAndSet(int index, int expected, int value) {
        return VH.compareAndSet(whole, offset(index), expected, value);
    }

    /** A copy of the elements (plain reads: a snapshot only if no one writes meanwhile). */
    public int[] toArray() {
        return data.toArray(JAVA_INT);
    }

    // ---------------------------------------------------------------- bulk

    /**
     * Copies elements {@code [from, from + dst.length)} into {@code dst}, at memory speed.
     *
     * @throws IndexOutOfBoundsException naming the values, if the range is not inside this array
     */
    public void getInts(int from, int[] dst) {
        getInts(from, dst, 0, dst.length);
    }

    /** Copies {@code count} elements from element {@code from} into {@code dst[dstFrom...]}. */
    public void getInts(int from, int[] dst, int dstFrom, int count) {
        checkCopy(from, dstFrom, count, dst.length);
        MemorySegment.copy(data, JAVA_INT, (long) from * JAVA_INT.byteSize(), dst, dstFrom, count);
    }

    /** Stores {@code src} in elements {@code [from, from + src.length)}, at memory speed. */
    public void setInts(int from, int[] src) {
        setInts(from, src, 0, src.length);
    }

    /** Stores {@code count} elements of {@code src} from {@code srcFrom} in elements from {@code from} on. */
    public void setInts(int from, int[] src, int srcFrom, int count) {
        checkCopy(from, srcFrom, count, src.length);
        MemorySegment.copy(src, srcFrom, data, JAVA_INT, (long) from * JAVA_INT.byteSize(), count);
    }

    /**
     * Sets every element {@code i} to {@code f.applyAsInt(i)}, like {@link java.util.Arrays#setAll}: the
     * fast way to fill an array (cheap while a fresh JVM still interprets it, at memory speed compiled).
     */
    public void setAll(IntUnaryOperator f) {
        java.util.Objects.requireNonNull(f, "f");
        for (int at = 0, n; at < length; at += n) {
            n = Math.min(WINDOW, length - at);
            IntBuffer v = window(at, n).asIntBuffer();
            for (int k = 0; k < n; k++) {
                v.put(k, f.applyAsInt(at + k));
            }
        }
    }

    /** Replaces every element {@code x} with {@code op.applyAsInt(x)}: {@code replaceAll(0, length(), op)}. */
    public void replaceAll(IntUnaryOperator op) {
        replaceAll(0, length, op);
    }

    /**
     * Replaces each element {@code x} of {@code [from, to)} with {@code op.applyAsInt(x)}, in place: the fast
     * way to update many elements, for example {@code a.replaceAll(0, half, x -> x + 1)}. Plain reads and writes, element by
     * element, as a loop over a Java array would do (not atomic; publish the result with a join, a lock
     * or an event); write-through, so a partial update is visible if {@code op} throws.
     *
     * @throws IndexOutOfBoundsException naming the values, if {@code [from, to)} is not inside this array
     */
    public void replaceAll(int from, int to, IntUnaryOperator op) {
        checkRange(from, to);
        java.util.Objects.requireNonNull(op, "op");
        for (int at = from, n; at < to; at += n) {
            n = Math.min(WINDOW, to - at);
            IntBuffer v = window(at, n).asIntBuffer();
            for (int k = 0; k < n; k++) {
                v.put(k, op.applyAsInt(v.get(k)));
            }
        }
    }

    @Override
    public Integer getValue(int index) {
        return get(index);
    }

    @Override
    public void setValue(int index, Number value) {
        set(index, value.intValue());
    }
}
