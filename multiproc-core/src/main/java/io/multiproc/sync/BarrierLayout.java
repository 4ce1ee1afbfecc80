package io.multiproc.sync;

/**
 * Layout of a {@link SharedBarrier} segment.
 *
 * <pre>
 *  0               64       128                 136       140        144     148        152          156   256
 *  +---------------+--------+-------------------+---------+----------+-------+----------+------------+-----+
 *  | SegmentHeader | (pad)  | state: generation | parties | deaths   | seq   | sleepers | lastBroken |     |
 *  | magic MPBBARR1|        | << 32 | arrived   | int     | int      | futex | int      | int        |     |
 *  +---------------+--------+-------------------+---------+----------+-------+----------+------------+-----+
 *  256: outcome ring, OUTCOMES longs: entry (generation << 2 | NONE/TRIPPED/BROKEN) at generation % OUTCOMES
 *  768: user table, USERS longs: the process token of a process using the barrier, or 0 for a free entry
 *  1792: tripper ring, OUTCOMES pairs of longs: (generation, process token of its last arrival) at generation % OUTCOMES
 *  2816: action length (int), 2824: the action, in the default codec's bytes (at most MAX_ACTION_BYTES)
 * </pre>
 * state: CAS by arriving parties. The last arrival's CAS makes arrived == parties: the generation is
 * complete and its last party runs the action; arrivals wait meanwhile, and abort(), reset() and breaks of
 * the next pass set arrived to parties + 1 (the next pass starts broken) or + 2 (it starts whole), the last
 * one winning. Once the outcome is set, the last party (or whoever finds it dead) writes the next
 * generation's entry if it starts broken, then CASes the state to the next generation, 0 arrived; reset()
 * of an incomplete generation CASes it to the next one (version 7: version 6 moved to the next generation
 * before the action, so a slow action's outcome could land on the entry of a generation 64 passes on).
 * outcome: CAS from a stale entry to TRIPPED (last arriver) or BROKEN (a timeout, interrupt, abort, reset
 * or dead party); waiters of a generation leave when its entry says so, and the barrier
 * is broken while the current generation's entry says BROKEN (version 3; version 2 kept a barrier-wide
 * flag at 140, which a waiter giving up after a reset set again for the new generation).
 * users: one entry per process with a handle open, CAS 0 -> token by that process when it opens its
 * first handle, CAS token -> 0 by it when it closes its last one (or exits normally), and CAS dead
 * token -> 0 by whichever process finds the owner dead, which then breaks the current generation: the
 * CAS makes each death count once (version 4; version 3 learnt deaths from the segment registry's
 * holder records, which routine cleanup deletes, so a death could go unnoticed).
 * deaths: how many user deaths were found, getAndAdd (volatile) by the process whose CAS removed the
 * dead entry; read by every waiter, which breaks its own generation when it changed since it arrived
 * (version 5: a waiter of an earlier generation, whose last party died running the action, never
 * learnt of a death that a waiter of the next generation found first).
 * lastBroken: the latest generation ever broken (-1: none), raised (CAS, wrapping as int) before the
 * entry that breaks it is written: a waiter that finds its entry taken by a generation 64 or more on
 * (it was not scheduled meanwhile) takes its pass as tripped if lastBroken is before it, else broken.
 * trippers: generation g's pair is written only by g's last arrival, after its arrival CAS: the
 * generation first set to Long.MIN_VALUE (no generation), then the token, then g (all volatile); a reader
 * that reads g, the token and g again has g's tripper. One pair per generation, so the trippers of two
 * generations (one still writing while the next pass completes) never share one (version 6; version 5
 * had one pair for all, which two such trippers could tear). Waiters of a generation whose every party
 * arrived break it only if its tripper died (any death, while the tripper is unknown).
 */
final class BarrierLayout {
    static final long MAGIC = 0x3152_5241_4242_504DL; // "MPBBARR1" read little-endian
    /** 7: no arrival while an action runs, lastBroken (6: the tripper ring; 5: the deaths word; 4: the user table; 3: deaths from registry records; 2: a barrier-wide flag; 1: the action in JDK serialization). */
    static final int VERSION = 7;
    static final int KIND = 1;
    static final long STATE = 128;
    static final long PARTIES = 136;
    static final long DEATHS = 140;
    static final long SEQ = 144;
    static final long SLEEPERS = 148;
    static final long LAST_BROKEN = 152;
    static final long OUTCOMES_OFFSET = 256;
    static final int OUTCOMES = 64;
    static final long USERS_OFFSET = OUTCOMES_OFFSET + OUTCOMES * 8L;
    /** Processes that may use one barrier at once; one more fails to attach. */
    static final int USERS = 128;
    static final long TRIPPERS_OFFSET = USERS_OFFSET + USERS * 8L;
    static final long ACTION_LENGTH = TRIPPERS_OFFSET + OUTCOMES * 16L;
    static final long ACTION = ACTION_LENGTH + 8;
    static final int MAX_ACTION_BYTES = 64 * 1024;

    static final int NONE = 0;
    static final int TRIPPED = 1;
    static final int BROKEN = 2;

    private BarrierLayout() {
    }

    static long userSlot(int i) {
        return USERS_OFFSET + 8L * i;
    }

    /** The generation word of {@code generation}'s tripper pair; its token is 8 bytes on. */
    static long tripperSlot(int generation) {
        return TRIPPERS_OFFSET + 16L * Math.floorMod(generation, OUTCOMES);
    }

    static long outcomeSlot(int generation) {
        return OUTCOMES_OFFSET + 8L * Math.floorMod(generation, OUTCOMES);
    }
}
