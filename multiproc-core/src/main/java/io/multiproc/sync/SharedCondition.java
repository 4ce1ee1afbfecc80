package io.multiproc.sync;

import io.multiproc.codec.SharedHandle;
import io.multiproc.internal.MappedObject;
import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.Releases;
import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.WaitWord;
import io.multiproc.wait.Waiting;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.Date;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

import static io.multiproc.sync.ConditionLayout.CLAIMED;
import static io.multiproc.sync.ConditionLayout.SIGNALED;
import static io.multiproc.sync.ConditionLayout.SLOTS;
import static io.multiproc.sync.ConditionLayout.SLOT_CONDITION;
import static io.multiproc.sync.ConditionLayout.SLOT_THREAD;
import static io.multiproc.sync.ConditionLayout.SLOT_TICKET;
import static io.multiproc.sync.ConditionLayout.SLOT_WORD;
import static io.multiproc.sync.ConditionLayout.WAITING;
import static io.multiproc.sync.ConditionLayout.owner;
import static io.multiproc.sync.ConditionLayout.slot;
import static io.multiproc.sync.ConditionLayout.state;
import static io.multiproc.sync.ConditionLayout.word;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A condition variable across processes, bound to a {@link SharedRLock} or {@link SharedLock}:
 * Python's {@code multiprocessing.Condition}, as a {@link Condition}.
 *
 * <pre>{@code
 * SharedRLock lock = SharedRLock.create();
 * SharedCondition changed = lock.newCondition();
 * SharedLong items = SharedLong.create(0);
 * ChildProcess.start(() -> {
 *     lock.lock();
 *     try { while (items.get() == 0) changed.await(); } finally { lock.unlock(); }
 * });
 * lock.lock();
 * try { items.set(1); changed.signal(); } finally { lock.unlock(); }
 * }</pre>
 *
 * <h2>Implementation overview</h2>
 Every condition made from one lock handle is an id in one segment (decision 231): a table of
 * {@link ConditionLayout#SLOTS} waiter slots, each one long word holding its state and its owner's
 * process token (so no state but FREE is ever without an owner), and the id of the condition its waiter
 * waits on. {@code await} claims a free slot (CAS 0 to CLAIMED and its token), stamps it with a ticket
 * (FIFO order), its thread and its condition, marks it WAITING, releases the lock fully, waits (the
 * {@link Waiting} loop on its condition's {@link WaitWord}) until its slot is SIGNALED, frees the slot
 * and re-acquires the lock with its old hold count. {@code signal} (lock held) marks the oldest WAITING
 * slot of its condition of a live process SIGNALED and wakes that condition's sleepers, which re-check
 * their own slot. Slots are claimed only with the lock held, and signals are sent with it held, so a
 * slot a signaller picked is not claimed again for another condition before its CAS; only the rescue of
 * a dead waiter's signal runs without the lock, and it checks the slot's condition after its CAS.
 * <p>Dead waiters. Invariant: a slot whose owner process died is freed by whoever meets it, whatever
 * its state, and if it was SIGNALED its signal is passed on to the oldest live waiter. Who meets it:
 * {@code await} frees every dead slot it passes while looking for a free one (so slots left CLAIMED
 * or WAITING by the dead never fill the table), {@code signal} and {@code signalAll} skip and free dead
 * WAITING slots, and live waiters look for dead SIGNALED slots every few milliseconds while they wait.
 * So no signal is swallowed by a dead process, and the table holds {@link ConditionLayout#SLOTS} live
 * waiters. A stopped process (SIGSTOP) is alive.
 * <p>Lifetime: a condition made by {@code lock.newCondition()} is closed with that lock handle (and
 * may be closed before it), and one this process no longer reaches gives its reference to the segment
 * back by itself (a {@link java.lang.ref.Cleaner}; not one whose handle was written where no hold keeps
 * the segment); so however many are made, a lock handle's conditions cost one segment, removed when the
 * handle and the conditions still reached are closed. A condition received from another process closes
 * the lock handle it came with; one dropped unclosed is let go once garbage too, and so is that lock
 * handle once the program no longer reaches it (decision 241). A wait pins the mapping: closing the handle wakes its waiters in this process, which free their
 * slots (passing on a signal they got), take the lock back unless its handle was closed, and throw
 * IllegalStateException; the last of them unmaps.
 * <p>At most {@link ConditionLayout#SLOTS} threads may wait at once on the conditions of one lock handle
 * (those made from it, and received copies of them); one more gets IllegalStateException.
 * Waiting honours interrupts and deadlines like {@code java.util.concurrent}; a signal that races with
 * a timeout counts as a signal.
 */
public final class SharedCondition extends MappedObject implements Condition, Serializable {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final long RESCUE_NANOS = 5_000_000L;
    private static final long ME = ProcessIdentity.current().token();

    private final transient AbstractSharedLock lock;
    private final transient WaitWord word;
    /** This condition's id in its segment: what its waiters' slots carry. */
    private final transient long id;
    private final transient IdleStrategy idle;

    /** True when this handle was received (decoded), so the lock handle decoded with it is ours to close. */
    private final transient boolean ownsLock;

    private SharedCondition(SharedSegments.Mapping mapping, long id, AbstractSharedLock lock, boolean ownsLock) {
        super(mapping);
        this.lock = Objects.requireNonNull(lock, "lock");
        this.ownsLock = ownsLock;
        this.idle = lock.idle;
        this.id = id;
        this.word = wordOf(id);
    }

    /** A new segment for the conditions of one lock handle. */
    static SharedSegments.Mapping createTable() {
        return SyncSegments.create(ConditionLayout.MAGIC, ConditionLayout.VERSION, ConditionLayout.KIND,
                ConditionLayout.SEGMENT_SIZE, seg -> { });
    }

    static SharedCondition create(AbstractSharedLock lock) {
        SharedSegments.Mapping table = lock.conditionTable();
        long id = (long) LONG.getAndAdd(table.segment(), ConditionLayout.NEXT_CONDITION, 1L);
        SharedCondition c = new SharedCondition(table, id, lock, false);
        lock.adopt(c);
        // NOTE: the lock tracks it weakly: one made per wait and dropped must not stay reachable from a
        // lock that lives long, nor keep its reference to the segment after the lock is closed
        Releases.releaseWhenUnreachable(java.util.List.of(c));
        return c;
    }

    private WaitWord wordOf(long condition) {
        return new WaitWord(whole, ConditionLayout.seq(condition), ConditionLayout.sleepers(condition));
    }

    /** The wait word of {@code condition}'s sleepers: this one's own, or (rarely: a dead waiter's signal) another's. */
    private WaitWord wordFor(long condition) {
        return ConditionLayout.seq(condition) == ConditionLayout.seq(id) ? word : wordOf(condition);
    }

    /**
     * Detaches this handle. Closing its lock handle does this too. A condition received from another
     * process (decoded with its lock) also closes that lock handle; one made by {@code newCondition()}
     * leaves the caller's lock alone.
     */
    @Override
    public void close() {
        // NOTE: this process's waiters on this handle, woken, see it closed (their pins keep the segment
        // mapped until they have freed their slots)
        if (!closeWaking(() -> { }, word::wakeAll)) {
            return;
        }
        lock.forget(this);
        if (ownsLock) {
            lock.close();
        }
    }

    /** The lock this condition belongs to. */
    public AbstractSharedLock lock() {
        return lock;
    }

    @Override
    public void await() throws InterruptedException {
        ensureOpen();
        doAwait(Waiting.FOREVER, true);
    }

    @Override
    public void awaitUninterruptibly() {
        ensureOpen();
        try {
            doAwait(Waiting.FOREVER, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
    }

    @Override
    public long awaitNanos(long nanosTimeout) throws InterruptedException {
        ensureOpen();
        long deadline = Waiting.deadline(nanosTimeout);
        doAwait(deadline, true);
        return deadline - System.nanoTime();
    }

    @Override
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        ensureOpen();
        return doAwait(Waiting.deadline(unit.toNanos(time)), true);
    }

    /**
     * Waits at most {@code timeout} for a signal.
     *
     * @return false if the time ran out first
     */
    public boolean await(Duration timeout) throws InterruptedException {
        ensureOpen();
        long nanos = Waiting.nanos(timeout);
        return doAwait(Waiting.deadline(nanos), true);
    }

    @Override
    public boolean awaitUntil(Date deadline) throws InterruptedException {
        ensureOpen();
        long at = deadline.getTime();
        long now = System.currentTimeMillis();
        // NOTE: saturating: a deadline near Long.MIN_VALUE would otherwise wrap to a wait of ~292 million years
        long millis = at < 0 && at - now > 0 ? Long.MIN_VALUE : at - now;
        return await(millis, TimeUnit.MILLISECONDS);
    }

    private boolean doAwait(long deadline, boolean interruptible) throws InterruptedException {
        if (!lock.heldByThisThread()) {
            throw new IllegalMonitorStateException("await on SharedCondition '" + name() + "' without holding its lock '"
                    + lock.name() + "'");
        }
        if (interruptible && Thread.interrupted()) {
            throw new InterruptedException();
        }
        // NOTE: the wait pins the mapping, so that a close() by another thread of this process cannot
        // unmap the slot table before this waiter has freed its slot (else the slot stays WAITING under
        // a live owner and signals from any process go to it, waking no one).
        SharedSegments.Mapping pin = pinOpen();
        try {
            return awaitPinned(deadline, interruptible);
        } finally {
            pin.release();
            // NOTE: a condition (and the lock handle that came with it) dropped by the program is closed by
            // a Cleaner once unreachable (decisions 231, 241); a waiter's own frame must keep both reachable
            // until it has its lock back, or the JIT may let them go mid-wait and the close fail the wait.
            Reference.reachabilityFence(this);
            Reference.reachabilityFence(lock);
        }
    }

    /**
     * Waits in a slot with the lock released. However the wait ends (signal, timeout, interrupt, this
     * handle closed, an exception), the slot is freed and the lock held again (unless its handle was
     * closed) before this returns or throws; a signal this waiter will not act on is passed on.
     */
    private boolean awaitPinned(long deadline, boolean interruptible) throws InterruptedException {
        long slot = claimSlot();
        int holds = lock.releaseFully();
        Throwable failure = null;
        try {
            long[] lastRescue = {System.nanoTime()};
            Waiting.await(word, idle, () -> {
                if (state((long) LONG.getVolatile(whole, slot + SLOT_WORD)) == SIGNALED || isClosed()) {
                    return true;
                }
                long now = System.nanoTime();
                if (now - lastRescue[0] >= RESCUE_NANOS) {
                    lastRescue[0] = now;
                    passOnSignalsOfDeadWaiters();
                }
                return false;
            }, deadline, interruptible);
        } catch (InterruptedException | RuntimeException | Error e) {
            failure = e;
        }
        if (failure == null && isClosed()) {
            failure = closedException();
        }
        // NOTE: only signallers change a WAITING slot of a live owner (to SIGNALED): if the CAS fails,
        // a signal came, also one that raced with the timeout, the interrupt or the close.
        boolean signaled = !LONG.compareAndSet(whole, slot + SLOT_WORD, word(WAITING, ME), 0L);
        if (signaled) {
            LONG.setVolatile(whole, slot + SLOT_WORD, 0L);
        }
        leftWaiting(id);
        if (signaled && failure != null && !(failure instanceof InterruptedException)) {
            signaled = false;
            signalOne(id); // this waiter leaves with an exception: the signal goes to another
        }
        reacquire(holds, failure);
        if (failure instanceof InterruptedException interrupted) {
            if (!signaled) {
                throw interrupted;
            }
            Thread.currentThread().interrupt(); // signalled as well: report the signal, keep the interrupt
        } else if (failure instanceof RuntimeException e) {
            throw e;
        } else if (failure instanceof Error e) {
            throw e;
        }
        return signaled;
    }

    /**
     * Takes the lock back with its old hold count, so that the caller's {@code finally unlock()} frees
     * its own hold; not when the lock handle was closed (no one could unlock it then, and it would stay
     * this process's until exit). A failure to take it is added to the wait's own.
     */
    private void reacquire(int holds, Throwable failure) {
        if (failure != null && lock.closed()) {
            return;
        }
        try {
            lock.reacquire(holds);
        } catch (RuntimeException | Error e) {
            if (failure == null) {
                throw e;
            }
            failure.addSuppressed(e);
        }
    }

    /**
     * Claims a free slot for the calling thread (lock held), freeing the dead processes' slots it passes
     * on the way; signals those held are passed on once this waiter's own slot is WAITING.
     */
    private long claimSlot() {
        int passOn = 0;
        long mine = -1;
        for (int i = 0; i < SLOTS && mine < 0; i++) {
            long s = slot(i);
            long w = (long) LONG.getVolatile(whole, s + SLOT_WORD);
            if (w != 0 && owner(w) != ME && !ProcessIdentity.isAliveRecently(owner(w))) {
                long condition = (long) LONG.getOpaque(whole, s + SLOT_CONDITION); // NOTE: the dead write no more
                if (LONG.compareAndSet(whole, s + SLOT_WORD, w, 0L)) { // a dead waiter's slot, in any state
                    if (state(w) == WAITING || state(w) == SIGNALED) {
                        leftWaiting(condition);
                    }
                    if (state(w) == SIGNALED && condition == id) {
                        passOn++;
                    } else if (state(w) == SIGNALED) {
                        signalOne(condition);
                    }
                    w = 0;
                }
            }
            if (w == 0 && LONG.compareAndSet(whole, s + SLOT_WORD, 0L, word(CLAIMED, ME))) {
                mine = s;
            }
        }
        if (mine < 0) {
            for (; passOn > 0; passOn--) {
                signalOne(id);
            }
            throw new IllegalStateException("SharedCondition '" + name() + "' already has " + SLOTS
                    + " waiters on the conditions of its lock");
        }
        if (SyncFaults.ENABLED) {
            SyncFaults.at(SyncFaults.Point.CONDITION_SLOT_CLAIMED);
        }
        LONG.setOpaque(whole, mine + SLOT_TICKET, (long) LONG.getAndAdd(whole, ConditionLayout.NEXT_TICKET, 1L));
        LONG.setOpaque(whole, mine + SLOT_THREAD, Thread.currentThread().threadId());
        LONG.setOpaque(whole, mine + SLOT_CONDITION, id);
        LONG.getAndAdd(whole, ConditionLayout.waiting(id), 1L); // NOTE: before WAITING: a free lowers it after
        LONG.setVolatile(whole, mine + SLOT_WORD, word(WAITING, ME)); // NOTE: publishes ticket, thread and condition
        for (; passOn > 0; passOn--) {
            signalOne(id); // NOTE: after this waiter's slot is WAITING: if no one else waits, it takes the signal itself
        }
        return mine;
    }

    /** Wakes the longest-waiting live waiter. */
    @Override
    public void signal() {
        ensureOpen();
        requireLock("signal");
        signalOne(id);
    }

    /** Wakes every waiter. */
    @Override
    public void signalAll() {
        ensureOpen();
        requireLock("signalAll");
        if (noOneWaits(id)) {
            return;
        }
        boolean any = false;
        for (int i = 0; i < SLOTS; i++) {
            long s = slot(i);
            long w = (long) LONG.getVolatile(whole, s + SLOT_WORD);
            if (state(w) == WAITING && (long) LONG.getOpaque(whole, s + SLOT_CONDITION) == id && liveOrFreed(s, w)) {
                any |= LONG.compareAndSet(whole, s + SLOT_WORD, w, word(SIGNALED, owner(w)));
            }
        }
        if (any) {
            word.wakeAll();
        }
    }

    private void requireLock(String what) {
        if (!lock.heldByThisThread()) {
            throw new IllegalMonitorStateException(what + " on SharedCondition '" + name() + "' without holding its lock '"
                    + lock.name() + "'");
        }
    }

    /** Wakes the longest-waiting live waiter of {@code condition} (this one's, or a dead waiter's). */
    private boolean signalOne(long condition) {
        if (noOneWaits(condition)) {
            return false;
        }
        for (;;) {
            long oldest = -1;
            long oldestWord = 0;
            long oldestTicket = Long.MAX_VALUE;
            for (int i = 0; i < SLOTS; i++) {
                long s = slot(i);
                long w = (long) LONG.getVolatile(whole, s + SLOT_WORD);
                if (state(w) == WAITING && (long) LONG.getOpaque(whole, s + SLOT_CONDITION) == condition) {
                    long ticket = (long) LONG.getOpaque(whole, s + SLOT_TICKET);
                    if (ticket < oldestTicket && liveOrFreed(s, w)) {
                        oldest = s;
                        oldestWord = w;
                        oldestTicket = ticket;
                    }
                }
            }
            if (oldest < 0) {
                return false;
            }
            if (LONG.compareAndSet(whole, oldest + SLOT_WORD, oldestWord, word(SIGNALED, owner(oldestWord)))) {
                WaitWord sleepers = wordFor(condition);
                sleepers.wakeAll(); // sleepers re-check their own slot; only the signalled one leaves
                // NOTE: the CAS read the WAITING word written after the slot's condition: a slot freed and
                // claimed for another condition meanwhile (possible only for a rescue, which runs without
                // the lock) got a spurious wake-up, and this condition's signal is sent again (if the claim
                // came after the CAS, one more waiter of this condition wakes: spurious, as Condition allows)
                if ((long) LONG.getOpaque(whole, oldest + SLOT_CONDITION) == condition) {
                    return true;
                }
                wordFor((long) LONG.getOpaque(whole, oldest + SLOT_CONDITION)).wakeAll();
                continue;
            }
            // that waiter timed out meanwhile: pick again
        }
    }

    /**
     * True if the owner of slot {@code s} (whose word was {@code w}) lives; otherwise frees the slot (a
     * dead waiter), passes on the signal it held if any, and returns false.
     */
    private boolean liveOrFreed(long s, long w) {
        long owner = owner(w);
        if (owner == ME || ProcessIdentity.isAliveRecently(owner)) {
            return true;
        }
        long condition = (long) LONG.getOpaque(whole, s + SLOT_CONDITION); // NOTE: before the slot is freed
        if (LONG.compareAndSet(whole, s + SLOT_WORD, w, 0L)) {
            if (state(w) == WAITING || state(w) == SIGNALED) {
                leftWaiting(condition);
            }
            if (state(w) == SIGNALED) {
                signalOne(condition); // the dead waiter had a signal it never took: pass it on
            }
        }
        return false;
    }

    /**
     * True if no slot of {@code condition}'s wait word is WAITING or SIGNALED: then a signal has no one to
     * wake, without scanning {@link ConditionLayout#SLOTS} slots (see {@link ConditionLayout#waiting}).
     */
    private boolean noOneWaits(long condition) {
        return (long) LONG.getVolatile(whole, ConditionLayout.waiting(condition)) == 0;
    }

    /** Lowers the count a waiter of {@code condition} raised, after its slot was freed. */
    private void leftWaiting(long condition) {
        LONG.getAndAdd(whole, ConditionLayout.waiting(condition), -1L);
    }

    private void passOnSignalsOfDeadWaiters() {
        for (int i = 0; i < SLOTS; i++) {
            long s = slot(i);
            long w = (long) LONG.getVolatile(whole, s + SLOT_WORD);
            if (state(w) == SIGNALED) {
                liveOrFreed(s, w);
            }
        }
    }

    /** Threads waiting on this condition now (in all processes), for diagnostics and tests. */
    public int waiters() {
        ensureOpen();
        int n = 0;
        for (int i = 0; i < SLOTS; i++) {
            if (state((long) LONG.getVolatile(whole, slot(i) + SLOT_WORD)) == WAITING
                    && (long) LONG.getOpaque(whole, slot(i) + SLOT_CONDITION) == id) {
                n++;
            }
        }
        return n;
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        return "SharedCondition[name=" + name() + ", lock=" + lock.name() + ", waiters=" + waiters() + "]";
    }

    @Serial
    Object writeReplace() {
        return new Handle(nameInFlight(), id, lock);
    }

    record Handle(String name, long id, AbstractSharedLock lock) implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            try {
                SharedCondition c = new SharedCondition(SyncSegments.attach(name, "SharedCondition", ConditionLayout.MAGIC,
                        ConditionLayout.VERSION, ConditionLayout.KIND), id, lock, true);
                lock.adopt(c);
                // NOTE: a received condition is let go once garbage, as a made one is (decision 241): a process
                // receiving one per request kept every sender's segments until it exited. Only this process's
                // references go (no id is ever given back: ids are a counter), and the lock handle decoded with
                // it goes on its own, once the program no longer reaches it either (it may keep c.lock()).
                Releases.releaseWhenUnreachable(java.util.List.of(c, lock));
                return c;
            } catch (RuntimeException e) {
                throw SyncSegments.cannotResolve("SharedCondition", name, e);
            }
        }
    }
}
