package io.multiproc.queue;

import io.multiproc.internal.ProcessIdentity;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The takers table of a {@link JoinableQueue} ({@link QueueLayout#TAKERS}): per process, how many
 * items it took and how many {@code taskDone()} calls it made, so that {@code join()} can tell that a
 * process died holding tasks nobody will mark done (decision 237).
 *
 * <pre>{@code
 * takers.took();                     // under the consumer lock, before the head moves past the item
 * takers.done();                     // after taskDone()'s CAS of the done count
 * Takers.Verdict v = takers.look(); // a join() waiter, every QueueRing.PEER_CHECK_NANOS
 * }</pre>
 *
 * <h2>Implementation overview</h2>
 * A slot ({@link QueueLayout#TAKER_STRIDE} bytes, one cache line) holds a process token (the
 * {@code ProcessIdentity} mechanism of the lock owners and {@link Peers}), taken (the items it took)
 * and done (its {@code taskDone()} calls), both modulo 2^32; net = taken - done.
 * <ul>
 *   <li>token: CAS from 0, or from a dead process's token whose net is at most 0 (a dead process still
 *       holding tasks keeps its slot: it is what {@code join()} names), by a registering process under
 *       {@link #REGISTER} (one registration per process at a time, so two handles of one process share a
 *       slot); then done is set to taken (release), so the new owner starts at net 0.</li>
 *   <li>taken: written only by its owner, only under the queue's consumer lock (so plain read, release
 *       store), before the record's head store: a process killed in between owes one task that is still
 *       in the ring, which only makes join's verdict more careful.</li>
 *   <li>done: atomic add by its owner after the done count's CAS; or, when a process marks done a task it
 *       did not take (its own net is at most 0), CAS by that process on the slot of a dead process that
 *       still holds tasks: that is how a dead consumer's tasks are written off.</li>
 * </ul>
 * Verdict ({@link #look}): with h = the head count (items taken in any way) and d = the done count,
 * read before and after the slots and equal both times, the tasks taken and not done are t = h - d. If t
 * exceeds the sum of the live processes' positive nets, some of them can only be the dead processes'
 * (nets read after h and d are at least their value then: taken moves before the head, done after the
 * done count). A process that found no slot sets the overflow bit: its takes are in h but in no slot,
 * so from then on there is never a verdict. The caller also wants the verdict to stand for
 * {@link JoinableQueue}'s grace period with h and d unchanged, for a taker that handed its task to
 * another process just before it died.
 */
final class Takers {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final long ME = ProcessIdentity.current().token();
    /** Serializes this process's registrations, so that its handles find and share one slot. */
    private static final Object REGISTER = new Object();

    private final MemorySegment seg;
    /** This handle's slot offset, or 0 before registration, or -1 when the table was full. */
    private int mine;

    Takers(MemorySegment seg) {
        this.seg = seg;
    }

    /**
     * One more item taken by this process: called under the consumer lock before the head word moves
     * past it (the only writer of this slot's taken).
     */
    void took() {
        int at = mine;
        if (at == 0) {
            at = register();
        }
        if (at > 0) {
            // NOTE: release: a join waiter that sees the head moved past the item sees this count too.
            INT.setRelease(seg, at + QueueLayout.TAKER_TAKEN, (int) INT.get(seg, at + QueueLayout.TAKER_TAKEN) + 1);
        }
    }

    /** One {@code taskDone()} by this process, after the done count's CAS. */
    void done() {
        int at = mine;
        if (at == 0) {
            at = register();
        }
        if (at > 0 && net(at) > 0) {
            INT.getAndAdd(seg, at + QueueLayout.TAKER_DONE, 1);
            return;
        }
        // NOTE: a task this process did not take: the dead taker's, if one holds tasks, else a live one's.
        for (int i = 0; i < QueueLayout.TAKER_SLOTS; i++) {
            long slot = slot(i);
            long token = (long) LONG.getVolatile(seg, slot);
            if (token == 0 || token == ME) {
                continue;
            }
            int done = (int) INT.getVolatile(seg, slot + QueueLayout.TAKER_DONE);
            int taken = (int) INT.getVolatile(seg, slot + QueueLayout.TAKER_TAKEN);
            if (taken - done > 0 && !ProcessIdentity.isAliveRecently(token)
                    && INT.compareAndSet(seg, slot + QueueLayout.TAKER_DONE, done, done + 1)) {
                return;
            }
        }
        if (at > 0) {
            INT.getAndAdd(seg, at + QueueLayout.TAKER_DONE, 1);
        }
    }

    private int net(long at) {
        return (int) INT.getVolatile(seg, at + QueueLayout.TAKER_TAKEN) - (int) INT.getVolatile(seg, at + QueueLayout.TAKER_DONE);
    }

    /** Registers this process (once per handle); callers do it before taking the consumer lock. */
    void prepare() {
        if (mine == 0) {
            register();
        }
    }

    private int register() {
        synchronized (REGISTER) {
            int free = -1;
            for (int i = 0; i < QueueLayout.TAKER_SLOTS; i++) {
                long token = (long) LONG.getVolatile(seg, slot(i));
                if (token == ME) {
                    return mine = (int) slot(i);
                }
                if (token == 0 && free < 0) {
                    free = i;
                }
            }
            // NOTE: free slots first: judging an occupied slot's owner dead costs a /proc read.
            for (int i = Math.max(free, 0); free >= 0 && i < QueueLayout.TAKER_SLOTS; i++) {
                if (LONG.compareAndSet(seg, slot(i), 0L, ME)) {
                    return mine = (int) slot(i);
                }
            }
            for (int i = 0; i < QueueLayout.TAKER_SLOTS; i++) {
                long slot = slot(i);
                long token = (long) LONG.getVolatile(seg, slot);
                if (token != 0 && net(slot) <= 0 && !ProcessIdentity.isAliveRecently(token)
                        && LONG.compareAndSet(seg, slot, token, ME)) {
                    // NOTE: nobody else writes taken now (its owner is gone); a crediting CAS on done
                    // needs a positive net, which this slot does not have. Net 0 from here on.
                    INT.setRelease(seg, slot + QueueLayout.TAKER_DONE, (int) INT.getVolatile(seg, slot + QueueLayout.TAKER_TAKEN));
                    return mine = (int) slot;
                }
            }
            // NOTE: no slot: this process's takes are in no slot, so join() may never conclude anything.
            Peers.markOverflow(seg, OVERFLOW_BIT);
            return mine = -1;
        }
    }

    /** {@link QueueLayout#PEER_OVERFLOW} bit: a taker found no slot in this table. */
    static final int OVERFLOW_BIT = 4;

    /** A dead process that holds {@code tasks} tasks it took and nobody marked done. */
    record Dead(long pid, int tasks) {
    }

    /**
     * What a join waiter sees: {@code head} and {@code done}, the counts it read, and the dead holders if
     * the tasks taken and not done are more than the live processes can still mark done; null if the
     * counts moved during the look (no verdict either way).
     */
    record Verdict(int head, int done, List<Dead> dead) {
    }

    /** One look at the table; see the overview. {@code ring} supplies the head count. */
    Verdict look(RecordRing ring) {
        int h = RecordLayout.count(ring.headWord());
        int d = (int) INT.getVolatile(seg, QueueLayout.DONE);
        if (Peers.overflowed(seg, OVERFLOW_BIT)) {
            return new Verdict(h, d, List.of());
        }
        long live = 0;
        List<Dead> dead = new ArrayList<>();
        for (int i = 0; i < QueueLayout.TAKER_SLOTS; i++) {
            long slot = slot(i);
            long token = (long) LONG.getVolatile(seg, slot);
            if (token == 0) {
                continue;
            }
            int net = net(slot);
            if (token == ME || ProcessIdentity.isAliveRecently(token)) {
                live += Math.max(0, net);
            } else if (net > 0) {
                dead.add(new Dead(ProcessIdentity.pidOf(token), net));
            }
        }
        if (RecordLayout.count(ring.headWord()) != h || (int) INT.getVolatile(seg, QueueLayout.DONE) != d) {
            return null;
        }
        long excess = (long) (h - d) - live;
        if (excess <= 0 || dead.isEmpty()) {
            return new Verdict(h, d, List.of());
        }
        // NOTE: a dead process's net overstates its tasks when a live process that held tasks of its own
        // marked one of the dead one's done: no dead process holds more than the excess.
        dead.replaceAll(x -> new Dead(x.pid(), (int) Math.min(x.tasks(), excess)));
        return new Verdict(h, d, dead);
    }

    private static long slot(int i) {
        return QueueLayout.TAKERS + (long) QueueLayout.TAKER_STRIDE * i;
    }
}
