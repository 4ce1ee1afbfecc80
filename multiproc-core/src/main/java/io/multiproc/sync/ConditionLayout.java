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
 *  +--------+--------+----------------+----------------+----------------+
 *  | state  | (pad)  | ticket         | owner token    | owner thread   |
 *  | int    |        | long           | long           | long           |
 *  +--------+--------+----------------+----------------+----------------+
 * </pre>
 * state: FREE -> CLAIMED (CAS by a waiter) -> WAITING (volatile write after ticket and owner) ->
 * SIGNALED (CAS by a signaller holding the lock) -> FREE (the waiter, when it leaves). A waiter that
 * times out CASes WAITING -> FREE itself. Slots whose owner process died are reset to FREE by anyone.
 */
final class ConditionLayout {
    static final long MAGIC = 0x3156_444E_4F43_504DL; // "MPCONDV1" read little-endian
    static final int VERSION = 1;
    static final int KIND = 1;
    static final long NEXT_TICKET = 128;
    static final long SEQ = 136;
    static final long SLEEPERS = 140;
    static final long SLOTS_OFFSET = 256;
    static final int SLOTS = 64;
    static final long SLOT_SIZE = 32;
    static final long SLOT_STATE = 0;
    static final long SLOT_TICKET = 8;
    static final long SLOT_OWNER = 16;
    static final long SLOT_THREAD = 24;
    static final long SEGMENT_SIZE = SLOTS_OFFSET + SLOTS * SLOT_SIZE;

    static final int FREE = 0;
    static final int CLAIMED = 1;
    static final int WAITING = 2;
    static final int SIGNALED = 3;

    private ConditionLayout() {
    }

    static long slot(int i) {
        return SLOTS_OFFSET + i * SLOT_SIZE;
    }
}
