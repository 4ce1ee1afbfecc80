package io.multiproc.internal;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The header that starts every multiproc shared-memory structure. Each structure's own layout
 * descriptor places its fields after {@link #SIZE}.
 *
 * <pre>
 *  0         8         12        16                24            32              40          64
 *  +---------+---------+---------+-----------------+-------------+---------------+-----------+
 *  | magic   | version | kind    | total size      | creator pid | creator start | reserved  |
 *  | long    | int     | int     | long (bytes)    | long        | long (ticks)  |           |
 *  +---------+---------+---------+-----------------+-------------+---------------+-----------+
 * </pre>
 * Written once by the creator before the segment's name is handed to anyone; read-only afterwards,
 * so plain accesses suffice (the name reaches other processes through a happens-before edge: a pipe,
 * a file, or a volatile write).
 *
 * <p>Not part of the public API.
 */
public final class SegmentHeader {
    public static final long MAGIC_OFFSET = 0;
    public static final long VERSION_OFFSET = 8;
    public static final long KIND_OFFSET = 12;
    public static final long TOTAL_SIZE_OFFSET = 16;
    public static final long CREATOR_PID_OFFSET = 24;
    public static final long CREATOR_START_OFFSET = 32;
    /** Bytes the header takes; structures start their own fields here. */
    public static final long SIZE = 64;

    private SegmentHeader() {
    }

    public static void write(MemorySegment seg, long magic, int version, int kind) {
        ProcessIdentity me = ProcessIdentity.current();
        seg.set(JAVA_LONG, MAGIC_OFFSET, magic);
        seg.set(JAVA_INT, VERSION_OFFSET, version);
        seg.set(JAVA_INT, KIND_OFFSET, kind);
        seg.set(JAVA_LONG, TOTAL_SIZE_OFFSET, seg.byteSize());
        seg.set(JAVA_LONG, CREATOR_PID_OFFSET, me.pid());
        seg.set(JAVA_LONG, CREATOR_START_OFFSET, me.startTicks());
    }

    /**
     * Checks that {@code seg} (named {@code name}) holds the expected structure.
     *
     * @param what the structure's name for messages, such as "SharedLong"
     * @throws IllegalStateException naming what was found instead
     */
    public static void check(MemorySegment seg, String name, String what, long magic, int version, int kind) {
        if (seg.byteSize() < SIZE) {
            throw new IllegalStateException("segment '" + name + "' is not a " + what + ": size=" + seg.byteSize()
                    + " is smaller than a multiproc header");
        }
        long foundMagic = seg.get(JAVA_LONG, MAGIC_OFFSET);
        int foundVersion = seg.get(JAVA_INT, VERSION_OFFSET);
        int foundKind = seg.get(JAVA_INT, KIND_OFFSET);
        if (foundMagic != magic) {
            throw new IllegalStateException("segment '" + name + "' is not a " + what + ": magic=0x"
                    + Long.toHexString(foundMagic) + ", expected 0x" + Long.toHexString(magic));
        }
        if (foundVersion != version) {
            throw new IllegalStateException("segment '" + name + "' has layout version=" + foundVersion
                    + " but this multiproc reads version " + version + " of " + what);
        }
        if (foundKind != kind) {
            throw new IllegalStateException("segment '" + name + "' is not a " + what + ": kind=" + foundKind
                    + ", expected " + kind);
        }
        long total = seg.get(JAVA_LONG, TOTAL_SIZE_OFFSET);
        if (total > seg.byteSize()) {
            throw new IllegalStateException("segment '" + name + "' is truncated: header says size=" + total
                    + " but only " + seg.byteSize() + " bytes are mapped");
        }
    }

    public static ProcessIdentity creator(MemorySegment seg) {
        return new ProcessIdentity(seg.get(JAVA_LONG, CREATOR_PID_OFFSET), seg.get(JAVA_LONG, CREATOR_START_OFFSET));
    }
}
