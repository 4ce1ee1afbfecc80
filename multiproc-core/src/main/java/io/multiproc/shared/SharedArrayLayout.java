package io.multiproc.shared;

import io.multiproc.internal.SegmentHeader;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Layout of the segment behind {@link SharedIntArray}, {@link SharedLongArray} and
 * {@link SharedDoubleArray}.
 *
 * <pre>
 *  0                64         72        128                 256
 *  +----------------+----------+---------+-------------------+------------------------------+
 *  | SegmentHeader  | length   | (pad)   | lock area         | elements, packed, 8-aligned  |
 *  | magic MPARRAY1 | long     |         | reserved for      | (int: 4 bytes, long and      |
 *  | version, kind  |          |         | getLock()         |  double: 8 bytes each)       |
 *  +----------------+----------+---------+-------------------+------------------------------+
 * </pre>
 * Elements are packed like a C array (and a numpy array over the same bytes): element {@code i} of
 * a double array is at {@code DATA_OFFSET + 8 * i}.
 */
final class SharedArrayLayout {
    static final long MAGIC = 0x3159_4152_5241_504DL; // "MPARRAY1" read little-endian
    /** 2: the lock area follows version 2 of the lock layout (the waiters bit). */
    static final int VERSION = 2;
    static final long LENGTH_OFFSET = SegmentHeader.SIZE;
    static final long LOCK_OFFSET = 128;
    static final long DATA_OFFSET = 256;
    /** Largest length: the data must fit in a segment whose size is a long; kept to int indexes. */
    static final int MAX_LENGTH = Integer.MAX_VALUE - 8;

    private SharedArrayLayout() {
    }

    static long totalSize(NumberKind kind, int length) {
        return DATA_OFFSET + Math.max(8, kind.bytes() * length);
    }

    static void checkLength(int length) {
        if (length <= 0) {
            throw new IllegalArgumentException("length=" + length + " must be > 0");
        }
        if (length > MAX_LENGTH) {
            throw new IllegalArgumentException("length=" + length + " must be <= " + MAX_LENGTH);
        }
    }

    static int length(MemorySegment seg) {
        return (int) seg.get(JAVA_LONG, LENGTH_OFFSET);
    }
}
