package io.multiproc.queue;

import io.multiproc.internal.ProcessIdentity;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One peer table of a queue with peer tracking ({@link QueueLayout#PRODUCERS} or
 * {@link QueueLayout#CONSUMERS}): the processes that put (or took) at least once, so that a waiter can
 * tell that every one of them died and nothing can ever end its wait.
 *
 * <pre>{@code
 * Peers producers = new Peers(seg, QueueLayout.PRODUCERS, 1);
 * producers.register();                 // at this process's first put
 * if (producers.allDead()) { ... }      // a waiting take: nobody is left to put
 * }</pre>
 *
 * <p>Slots hold {@code ProcessIdentity} tokens: CAS from 0 (or from a dead process's token) to this
 * process's token; never cleared by their owner (a process that closes its handle may still hold
 * another). A process that finds no slot sets its overflow bit: from then on the table never says
 * "all dead" (conservative: waiters fall back to waiting). Liveness: {@link ProcessIdentity#isAliveRecently}.
 */
final class Peers {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final long ME = ProcessIdentity.current().token();

    private final MemorySegment seg;
    private final long table;
    private final int overflowBit;
    /** This handle already registered this process (plain: a repeat costs one table scan). */
    private boolean registered;

    Peers(MemorySegment seg, long table, int overflowBit) {
        this.seg = seg;
        this.table = table;
        this.overflowBit = overflowBit;
    }

    /** Records this process in the table, once per handle. */
    void register() {
        if (registered) {
            return;
        }
        registered = true;
        long dead = -1;
        for (int i = 0; i < QueueLayout.PEER_SLOTS; i++) {
            long token = (long) LONG.getVolatile(seg, slot(i));
            if (token == ME) {
                return;
            }
            if (token == 0 && LONG.compareAndSet(seg, slot(i), 0L, ME)) {
                return;
            }
            if (dead < 0 && token != 0 && !ProcessIdentity.isAliveRecently(token)) {
                dead = i;
            }
        }
        if (dead >= 0) {
            long token = (long) LONG.getVolatile(seg, slot((int) dead));
            if (!ProcessIdentity.isAliveRecently(token) && LONG.compareAndSet(seg, slot((int) dead), token, ME)) {
                return;
            }
        }
        // NOTE: no slot: this process is not tracked, so nobody may conclude that all peers died.
        markOverflow(seg, overflowBit);
    }

    /**
     * Sets {@code bit} of {@link QueueLayout#PEER_OVERFLOW} (CAS, any process): a process found no slot in
     * that bit's table, which from then on may never conclude that its processes died.
     */
    static void markOverflow(MemorySegment seg, int bit) {
        for (;;) {
            int flags = (int) INT.getVolatile(seg, QueueLayout.PEER_OVERFLOW);
            if ((flags & bit) != 0 || INT.compareAndSet(seg, QueueLayout.PEER_OVERFLOW, flags, flags | bit)) {
                return;
            }
        }
    }

    /** True once {@code bit} of {@link QueueLayout#PEER_OVERFLOW} is set ({@link #markOverflow}). */
    static boolean overflowed(MemorySegment seg, int bit) {
        return ((int) INT.getVolatile(seg, QueueLayout.PEER_OVERFLOW) & bit) != 0;
    }

    /**
     * The pids of the registered processes if there is at least one and every one of them died; else
     * an empty list (none registered yet, one is alive, or some process could not register).
     */
    List<Long> deadIfAllDead() {
        if (overflowed(seg, overflowBit)) {
            return List.of();
        }
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < QueueLayout.PEER_SLOTS; i++) {
            long token = (long) LONG.getVolatile(seg, slot(i));
            if (token == 0) {
                continue;
            }
            if (token == ME || ProcessIdentity.isAliveRecently(token)) {
                return List.of();
            }
            pids.add(ProcessIdentity.pidOf(token));
        }
        return pids;
    }

    private long slot(int i) {
        return table + 8L * i;
    }
}
