package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A fixed-length array of numbers in shared memory: the common supertype of {@link SharedIntArray},
 * {@link SharedLongArray} and {@link SharedDoubleArray}, and what {@link Array#of(String, int)}
 * returns. New arrays are zero-filled.
 *
 * <pre>{@code
 * SharedNumberArray a = Array.of("d", 10);   // like Python's Array('d', 10)
 * a.setValue(3, 1.5);
 * double[] copy = ((SharedDoubleArray) a).toArray();
 * }</pre>
 */
public abstract sealed class SharedNumberArray extends SharedObject
        permits SharedIntArray, SharedLongArray, SharedDoubleArray {
    /** Number of elements; fixed at creation. */
    final int length;
    /** The elements: {@code whole} from DATA_OFFSET on, exactly {@code length} elements long. */
    final MemorySegment data;

    SharedNumberArray(SharedSegments.Mapping mapping, NumberKind kind) {
        super(mapping, kind);
        this.length = SharedArrayLayout.length(whole);
        this.data = whole.asSlice(SharedArrayLayout.DATA_OFFSET, kind.bytes() * length);
    }

    public final int length() {
        return length;
    }

    /** Element {@code i}, boxed (like Python's {@code a[i]}); prefer the typed {@code get(i)} on hot paths. */
    public abstract Number getValue(int index);

    /** Sets element {@code i} from any Number, narrowing as a Java cast would. */
    public abstract void setValue(int index, Number value);

    /**
     * The elements as one segment, for bulk work: {@code length() * elementSize} bytes, packed as a C
     * array, 8-byte aligned. Plain accesses through it are not atomic with respect to other processes.
     */
    public final MemorySegment segment() {
        return data;
    }

    /**
     * Where the elements start in the segment named {@link #name()} (after multiproc's header), for
     * readers that map the segment themselves. numpy, zero-copy, for a {@code SharedDoubleArray}:
     * {@code np.ndarray((length,), dtype=np.float64, buffer=SharedMemory(name).buf, offset=dataOffset)}.
     */
    public final long dataOffset() {
        return SharedArrayLayout.DATA_OFFSET;
    }

    @Override
    final long lockOffset() {
        return SharedArrayLayout.LOCK_OFFSET;
    }

    @Override
    final boolean isArray() {
        return true;
    }

    /** Most elements one buffer view covers: a buffer holds at most 2 GiB, an array up to 16 GiB. */
    static final int WINDOW = 1 << 27;

    /**
     * Elements {@code [from, from + count)}, {@code count <= WINDOW}, as a native-order buffer for the
     * element-wise bulk operations. NOTE: a buffer view, not the segment's VarHandles, because a fresh
     * JVM interprets the first thousands of iterations of a loop: a buffer access costs ~0.6 us there
     * and a segment access ~3 us, and compiled they run at the same speed (docs/decisions/060).
     */
    final java.nio.ByteBuffer window(int from, int count) {
        return data.asSlice((long) from * kind.bytes(), (long) count * kind.bytes()).asByteBuffer()
                .order(java.nio.ByteOrder.nativeOrder());
    }

    /** Checks that {@code [from, to)} is a range of elements. */
    final void checkRange(int from, int to) {
        if (from < 0 || to > length || from > to) {
            throw new IndexOutOfBoundsException("range from=" + from + " to=" + to + " is not inside [0, length="
                    + length + ")");
        }
    }

    /**
     * Checks a bulk copy of {@code count} elements between element {@code from} and a Java array of
     * {@code arrayLength} elements at {@code arrayFrom}; the message names every value.
     */
    final void checkCopy(int from, int arrayFrom, int count, int arrayLength) {
        if (count < 0 || from < 0 || from > length - count) {
            throw new IndexOutOfBoundsException("from=" + from + " count=" + count + " is not inside the shared array of length="
                    + length);
        }
        if (arrayFrom < 0 || arrayFrom > arrayLength - count) {
            throw new IndexOutOfBoundsException("arrayFrom=" + arrayFrom + " count=" + count
                    + " is not inside the Java array of length=" + arrayLength);
        }
    }

    /** The byte offset of element {@code index} inside {@link #whole}, after a bounds check. */
    final long offset(int index) {
        return SharedArrayLayout.DATA_OFFSET + java.util.Objects.checkIndex(index, length) * kind.bytes();
    }

    static SharedSegments.Mapping create(NumberKind kind, int length, Consumer<MemorySegment> fill) {
        SharedArrayLayout.checkLength(length);
        return SharedObject.create(SharedArrayLayout.MAGIC, SharedArrayLayout.VERSION, kind,
                SharedArrayLayout.totalSize(kind, length), seg -> {
                    seg.set(JAVA_LONG, SharedArrayLayout.LENGTH_OFFSET, length);
                    fill.accept(seg.asSlice(SharedArrayLayout.DATA_OFFSET, kind.bytes() * length));
                });
    }

    static SharedNumberArray attach(String name, NumberKind kind) {
        String what = "Shared" + kind.name().charAt(0) + kind.name().substring(1).toLowerCase(Locale.ROOT) + "Array";
        SharedSegments.Mapping m = SharedObject.attach(name, what, SharedArrayLayout.MAGIC, SharedArrayLayout.VERSION, kind);
        return switch (kind) {
            case INT -> new SharedIntArray(m);
            case LONG -> new SharedLongArray(m);
            case DOUBLE -> new SharedDoubleArray(m);
        };
    }
}
