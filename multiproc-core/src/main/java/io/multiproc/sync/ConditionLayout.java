package io.multiproc.sync;

/**
 * Layout of a {@link SharedCondition} segment: a table of waiter slots.
 *
 * <pre>
 *  0                64        128            136     140        144 ... 256
 *  +----------------+---------+--------------+-------+----------+--- ... ---+
 *  | SegmentHeader  | (pad)   | next ticket  | seq   | sleepers |           |
 *  | magic MPCONDV1 |         | long         | futex | int      |           |
 *  +----------------+---------+--------------+-------+----------+--- ... ---+
 *  256 + 32*i: slot i of SLOTS
 *  +---------------------------+----------------+----------------+----------------+
 *  | word: state << 62 | owner | ticket         | owner thread   | (pad)          |
 *  | long (owner: a process    | long           | long           |                |
 *  | token, below 2^62)        |                |                |                |
 *  +---------------------------+----------------+----------------+----------------+
 * </pre>
 * word: the state and the owning process in one long, so that every state but FREE names its owner:
 * 0 (FREE) -> CLAIMED|owner (CAS by a waiter) -> WAITING|owner (volatile write after ticket and thread)
 * -> SIGNALED|owner (CAS by a signaller) -> 0 (the waiter, when it leaves). A waiter that times out
 * CASes WAITING|owner -> 0 itself. A slot in any state whose owner process died is CAS-ed to 0 by
 * whoever meets it, and a SIGNALED one's signal is passed on.
 */
final class ConditionLayout {
    static final long MAGIC = 0x3156_444E_4F43_504DL; // "MPCONDV1" read little-endian
    /** 2: state and owner share the slot's first word (1: a separate state int). */
    static final int VERSION = 2;
    static final int KIND = 1;
    static final long NEXT_TICKET = 128;
    static final long SEQ = 136;
    static final long SLEEPERS = 140;
    static final long SLOTS_OFFSET = 256;
    static final int SLOTS = 64;
    static final long SLOT_SIZE = 32;
    static final long SLOT_WORD = 0;
    static final long SLOT_TICKET = 8;
    static final long SLOT_THREAD = 16;
    static final long SEGMENT_SIZE = SLOTS_OFFSET + SLOTS * SLOT_SIZE;

    static final int FREE = 0;
    static final int CLAIMED = 1;
    static final int WAITING = 2;
    static final int SIGNALED = 3;

    private ConditionLayout() {
    }

    /** Bits of a slot word below the state: the owner's process token. */
    static final long OWNER_MASK = (1L << 62) - 1;

    static long slot(int i) {
        return SLOTS_OFFSET + i * SLOT_SIZE;
    }

    /** A slot word: {@code state} (2 bits) over the owner's token. */
    static long word(int state, long owner) {
        return (long) state << 62 | owner;
    }

    static int state(long word) {
        return (int) (word >>> 62);
    }

    static long owner(long word) {
        return word & OWNER_MASK;
    }
}
