package io.multiproc.shared;

import io.multiproc.internal.SegmentHeader;

/**
 * Layout of the segment behind {@link SharedInt}, {@link SharedLong} and {@link SharedDouble}.
 *
 * <pre>
 *  0                64              128                 256           264
 *  +----------------+---------------+-------------------+-------------+
 *  | SegmentHeader  | (pad)         | lock area         | value       |
 *  | magic MPVALUE1 |               | reserved for      | int, long   |
 *  | version, kind  |               | getLock()         | or double   |
 *  +----------------+---------------+-------------------+-------------+
 * </pre>
 * The value sits 128 bytes from anything else that is written, so the lock's hot words never share a
 * cache line (or its adjacent-line prefetch partner) with it.
 */
final class SharedValueLayout {
    static final long MAGIC = 0x3145_554C_4156_504DL; // "MPVALUE1" read little-endian
    /** 2: the lock area follows version 2 of the lock layout (the waiters bit). */
    static final int VERSION = 2;
    static final long LOCK_OFFSET = 128;
    static final long VALUE_OFFSET = 256;
    static final long TOTAL_SIZE = VALUE_OFFSET + 128;

    static {
        assert LOCK_OFFSET >= SegmentHeader.SIZE;
    }

    private SharedValueLayout() {
    }
}
