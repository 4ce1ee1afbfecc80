package io.multiproc.sync;

/**
 * Layout of the segment of a lock handle's {@link SharedCondition}s (decision 231): every condition made
 * from one lock handle is an id in this one segment, and a waiter's slot names the condition it waits on.
 *
 * <pre>
 *  0                64        128            136              256 + 128*k (k &lt; WORDS)      1280 ... 5376
 *  +----------------+---------+--------------+----------------+--------------+---------+--- ... ---+
 *  | SegmentHeader  | (pad)   | next ticket  | next condition | seq (futex)  | sleepers| slots     |
 *  | magic MPCONDV1 |         | long         | id, long       | int          | int     |           |
 *  +----------------+---------+--------------+----------------+--------------+---------+--- ... ---+
 *  1280 + 32*i: slot i of SLOTS
 *  +---------------------------+----------------+----------------+----------------+
 *  | word: state << 62 | owner | ticket         | owner thread   | condition id   |
 *  | long (owner: a process    | long           | long           | long           |
 *  | token, below 2^62)        |                |                |                |
 *  +---------------------------+----------------+----------------+----------------+
 * </pre>
 * word: the state and the owning process in one long, so that every state but FREE names its owner:
 * 0 (FREE) -> CLAIMED|owner (CAS by a waiter) -> WAITING|owner (volatile write after ticket, thread and
 * condition) -> SIGNALED|owner (CAS by a signaller) -> 0 (the waiter, when it leaves). A waiter that times
 * out CASes WAITING|owner -> 0 itself. A slot in any state whose owner process died is CAS-ed to 0 by
 * whoever meets it, and a SIGNALED one's signal is passed on to its condition.
 * <p>Waiters of condition {@code id} sleep on wait word {@code id % WORDS}: conditions of one lock mostly
 * wake only their own sleepers, and any number of conditions costs the same few words.
 * Each wait word's 128 bytes hold its futex sequence (int), its sleeper count (int) and, at +8, the count of
 * its conditions' waiters ({@link #waiting}), which lets a signal with no one waiting skip the slot scan.
 */
final class ConditionLayout {
    static final long MAGIC = 0x3156_444E_4F43_504DL; // "MPCONDV1" read little-endian
    /** 3: one segment for every condition of a lock handle, slots name their condition (2: one per condition). */
    static final int VERSION = 3;
    static final int KIND = 1;
    static final long NEXT_TICKET = 128;
    static final long NEXT_CONDITION = 136;
    static final long WORDS_OFFSET = 256;
    /** Wait words; a power of two. */
    static final int WORDS = 8;
    static final long WORD_STRIDE = 128;
    static final long SLOTS_OFFSET = WORDS_OFFSET + WORDS * WORD_STRIDE;
    static final int SLOTS = 128;
    static final long SLOT_SIZE = 32;
    static final long SLOT_WORD = 0;
    static final long SLOT_TICKET = 8;
    static final long SLOT_THREAD = 16;
    static final long SLOT_CONDITION = 24;
    static final long SEGMENT_SIZE = SLOTS_OFFSET + SLOTS * SLOT_SIZE;

    static final int FREE = 0;
    static final int CLAIMED = 1;
    static final int WAITING = 2;
    static final int SIGNALED = 3;

    private ConditionLayout() {
    }

    /** Bits of a slot word below the state: the owner's process token. */
    static final long OWNER_MASK = (1L << 62) - 1;

    /** Offset of the futex sequence of the wait word of condition {@code id}; its sleeper count follows at +4. */
    static long seq(long id) {
        return WORDS_OFFSET + (id & (WORDS - 1)) * WORD_STRIDE;
    }

    static long sleepers(long id) {
        return seq(id) + 4;
    }

    /**
     * Offset of the count of slots of wait word {@code id}'s conditions that are WAITING or SIGNALED (a long):
     * raised by a waiter, holding the lock, before its slot turns WAITING; lowered by whoever frees such a slot,
     * after the free. So a signaller holding the lock that reads 0 knows no one waits on those conditions
     * (a process killed between a free and its lowering leaves it high: signals scan, as before).
     */
    static long waiting(long id) {
        return seq(id) + 8;
    }

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
