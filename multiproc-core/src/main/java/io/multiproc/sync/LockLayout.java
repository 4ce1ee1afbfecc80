package io.multiproc.sync;

import io.multiproc.internal.SegmentHeader;

/**
 * Layout of a lock: a 128-byte region, either in a segment of its own (at {@link #REGION_OFFSET}) or in
 * the lock area of a shared value or array (their {@code getLock()}). Offsets are relative to the region.
 *
 * <pre>
 *  region +0        +8            +16        +20     +24        +28
 *  +----------------+-------------+----------+-------+----------+--------+---- ... 128
 *  | owner          | owner thread| holds    | seq   | sleepers | (pad)  |
 *  | long: process  | long: Java  | int:     | int:  | int      |        |
 *  | token, 0 free, | thread id   | RLock    | futex |          |        |
 *  | bit 63 waiters,|             |          |       |          |        |
 *  | bit 62 taking  |             |          |       |          |        |
 *  +----------------+-------------+----------+-------+----------+--------+---- ... 128
 * </pre>
 * owner: CAS by acquirers (0 to their {@code ProcessIdentity.token()}, or a dead owner's token to
 * theirs with {@link #TAKING}, cleared by a second CAS once the thread word is theirs), CAS by a waiter
 * about to sleep (sets {@link #WAITERS}), getAndSet of 0 by the releaser.
 * owner thread and holds: plain writes by the holder only, after its CAS and before its release; read
 * only by threads of the holder's process. seq/sleepers: the {@code WaitWord}.
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
    static final long REGION_SIZE = 128;

    static {
        assert REGION_OFFSET >= SegmentHeader.SIZE;
    }

    private LockLayout() {
    }
}
