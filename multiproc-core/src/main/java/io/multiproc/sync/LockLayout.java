package io.multiproc.sync;

import io.multiproc.internal.SegmentHeader;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Layout of a lock: a 128-byte region, either in a segment of its own (at {@link #REGION_OFFSET}) or in
 * the lock area of a shared value or array (their {@code getLock()}). Offsets are relative to the region.
 *
 * <pre>
 *  region +0        +8            +16        +20     +24        +28      +32         +40
 *  +----------------+-------------+----------+-------+----------+--------+-----------+-- ... 128
 *  | owner          | owner thread| holds    | seq   | sleepers | (pad)  | mark      |
 *  | long: process  | long: Java  | int:     | int:  | int      |        | long:     |
 *  | token, 0 free, | thread id   | RLock    | futex |          |        | MARK_LOCK |
 *  | bit 63 waiters,|             |          |       |          |        | or        |
 *  | bit 62 taking  |             |          |       |          |        | MARK_RLOCK|
 *  +----------------+-------------+----------+-------+----------+--------+-----------+-- ... 128
 * </pre>
 * owner: CAS by acquirers (0 to their {@code ProcessIdentity.token()}, or a dead owner's token to
 * theirs with {@link #TAKING}, cleared by a second CAS once the thread word is theirs), CAS by a waiter
 * about to sleep (sets {@link #WAITERS}), getAndSet of 0 by the releaser.
 * owner thread and holds: plain writes by the holder only, after its CAS and before its release; read
 * only by threads of the holder's process. seq/sleepers: the {@code WaitWord}.
 * mark: says the region is a lock of this kind, so that a handle naming a segment and an offset is
 * checked before anything there is changed. Written by the creator of a lock segment, or CAS-ed from 0
 * by the first {@code EmbeddedLocks.lockAt/rlockAt} over a region in a host's segment (a host reserves
 * {@link #REGION_SIZE} zeroed bytes).
 */
final class LockLayout {
    static final long MAGIC = 0x3143_4F4C_5043_504DL; // "MPCPLOC1" read little-endian
    /** 2: the owner word carries the waiters bit. 3: and the taking bit. */
    static final int VERSION = 3;
    static final int KIND_LOCK = 1;
    static final int KIND_RLOCK = 2;
    /** Where the region starts in a lock's own segment. */
    static final long REGION_OFFSET = 128;
    static final long SEGMENT_SIZE = REGION_OFFSET + 128;

    static final long OWNER = 0;
    /**
     * Bit 63 of the owner word: a waiter may be asleep, so the releaser must wake one. The rest of the
     * word is the holder's token ({@code pid << 32 | start ticks}); pids stay below 2^22, so a token
     * never has this bit.
     */
    static final long WAITERS = 1L << 63;
    /**
     * Bit 62 of the owner word: the process whose token is in the word has just taken the lock over from
     * a dead holder and has not yet written its thread into {@link #OWNER_THREAD}, which still holds the
     * dead holder's thread id. While it is set no thread recognises the lock as its own.
     */
    static final long TAKING = 1L << 62;
    /** The token part of the owner word. */
    static final long TOKEN = ~(WAITERS | TAKING);
    static final long OWNER_THREAD = 8;
    static final long HOLDS = 16;
    static final long SEQ = 20;
    static final long SLEEPERS = 24;
    static final long MARK = 32;
    static final long MARK_LOCK = 0x314B_434F_4C47_524DL; // "MRGLOCK1" read little-endian
    static final long MARK_RLOCK = 0x324B_434F_4C47_524DL; // "MRGLOCK2" read little-endian
    static final long REGION_SIZE = io.multiproc.internal.EmbeddedLocks.REGION_SIZE;
    private static final VarHandle LONG = JAVA_LONG.varHandle();

    static {
        assert REGION_OFFSET >= SegmentHeader.SIZE;
    }

    private LockLayout() {
    }

    static long mark(boolean reentrant) {
        return reentrant ? MARK_RLOCK : MARK_LOCK;
    }

    /**
     * Checks that segment {@code name} has a lock region of the given kind at {@code base}: 8-aligned,
     * after the header, inside the segment, and marked.
     *
     * @throws IllegalStateException naming the base and what was found
     */
    static void checkRegion(MemorySegment seg, String name, String what, long base, boolean reentrant) {
        long size = Math.min(seg.byteSize(), seg.get(JAVA_LONG, SegmentHeader.TOTAL_SIZE_OFFSET));
        if ((base & 7) != 0 || base < SegmentHeader.SIZE || base > size - REGION_SIZE) {
            throw new IllegalStateException("segment '" + name + "' has no " + what + " at base=" + base
                    + ": a lock region is 8-aligned, after the " + SegmentHeader.SIZE + "-byte header and inside size=" + size);
        }
        long found = (long) LONG.getVolatile(seg, base + MARK);
        if (found != mark(reentrant)) {
            throw new IllegalStateException("segment '" + name + "' has no " + what + " at base=" + base + ": mark=0x"
                    + Long.toHexString(found) + ", expected 0x" + Long.toHexString(mark(reentrant)));
        }
    }

    /** Marks the region at {@code base} as a lock of this kind, unless it is already; fails if it is anything else. */
    static void markRegion(MemorySegment seg, String name, long base, boolean reentrant) {
        long mark = mark(reentrant);
        // NOTE: read before the CAS: every proxy of a container makes a lock over its region, and a CAS
        // that finds the mark already there still takes the cache line exclusively from other processes.
        long found = (long) LONG.getVolatile(seg, base + MARK);
        if (found == mark) {
            return;
        }
        found = (long) LONG.compareAndExchange(seg, base + MARK, 0L, mark);
        if (found != 0 && found != mark) {
            throw new IllegalStateException("segment '" + name + "' at base=" + base + " holds mark=0x" + Long.toHexString(found)
                    + ", not a " + (reentrant ? "SharedRLock" : "SharedLock") + " region");
        }
    }
}
