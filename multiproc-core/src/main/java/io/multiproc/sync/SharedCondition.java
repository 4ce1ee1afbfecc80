package io.multiproc.sync;

import io.multiproc.codec.SharedHandle;
import io.multiproc.internal.MappedObject;
import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.WaitWord;
import io.multiproc.wait.Waiting;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Date;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

import static io.multiproc.sync.ConditionLayout.CLAIMED;
import static io.multiproc.sync.ConditionLayout.FREE;
import static io.multiproc.sync.ConditionLayout.SIGNALED;
import static io.multiproc.sync.ConditionLayout.SLOTS;
import static io.multiproc.sync.ConditionLayout.SLOT_OWNER;
import static io.multiproc.sync.ConditionLayout.SLOT_STATE;
import static io.multiproc.sync.ConditionLayout.SLOT_THREAD;
import static io.multiproc.sync.ConditionLayout.SLOT_TICKET;
import static io.multiproc.sync.ConditionLayout.WAITING;
import static io.multiproc.sync.ConditionLayout.slot;
import static java.lang.foreign.ValueLayout.JAVA_INT;
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
 * A table of {@link ConditionLayout#SLOTS} waiter slots. {@code await} claims a free slot, stamps it
 * with a ticket (FIFO order), its process token and thread, marks it WAITING, releases the lock fully,
 * waits (the {@link Waiting} loop on one {@link WaitWord}) until its slot is SIGNALED, frees the slot and
 * re-acquires the lock with its old hold count. {@code signal} (lock held) marks the oldest WAITING slot
 * of a live process SIGNALED and wakes the sleepers, which re-check their own slot.
 * <p>Dead waiters: slots whose process died are freed by whoever meets them, so they neither fill the
 * table nor receive a signal. A signal that reached a waiter which then died before taking it is passed
 * on: live waiters look for such slots every few milliseconds while they wait and signal the next
 * waiter instead. So no signal is swallowed by a dead process.
 * <p>At most {@link ConditionLayout#SLOTS} threads may wait at once; one more gets IllegalStateException.
 * Waiting honours interrupts and deadlines like {@code java.util.concurrent}; a signal that races with
 * a timeout counts as a signal.
 */
public final class SharedCondition extends MappedObject implements Condition, Serializable {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final long RESCUE_NANOS = 5_000_000L;
    private static final long ME = ProcessIdentity.current().token();

    private final transient AbstractSharedLock lock;
    private final transient WaitWord word;
    private final transient IdleStrategy idle;

    /** True when this handle was received (decoded), so the lock handle decoded with it is ours to close. */
    private final transient boolean ownsLock;

    private SharedCondition(SharedSegments.Mapping mapping, AbstractSharedLock lock, boolean ownsLock) {
        super(mapping);
        this.lock = Objects.requireNonNull(lock, "lock");
        this.ownsLock = ownsLock;
        this.idle = lock.idle;
        this.word = new WaitWord(whole, ConditionLayout.SEQ, ConditionLayout.SLEEPERS);
    }

    static SharedCondition create(AbstractSharedLock lock) {
        return new SharedCondition(SyncSegments.create(ConditionLayout.MAGIC, ConditionLayout.VERSION, ConditionLayout.KIND,
                ConditionLayout.SEGMENT_SIZE, seg -> { }), lock, false);
    }

    /**
     * Detaches this handle. A condition received from another process (decoded with its lock) also
     * closes that lock handle; one made by {@code newCondition()} leaves the caller's lock alone.
     */
    @Override
    public void close() {
        super.close();
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
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout=" + timeout + " must be >= 0");
        }
        return doAwait(Waiting.deadline(timeout.toNanos()), true);
    }

    @Override
    public boolean awaitUntil(Date deadline) throws InterruptedException {
        ensureOpen();
        return await(deadline.getTime() - System.currentTimeMillis(), TimeUnit.MILLISECONDS);
    }

    private boolean doAwait(long deadline, boolean interruptible) throws InterruptedException {
        if (!lock.heldByThisThread()) {
            throw new IllegalMonitorStateException("await on SharedCondition '" + name() + "' without holding its lock '"
                    + lock.name() + "'");
        }
        if (interruptible && Thread.interrupted()) {
            throw new InterruptedException();
        }
        long slot = claimSlot();
        int holds = lock.releaseFully();
        boolean signaled;
        InterruptedException interrupted = null;
        try {
            long[] lastRescue = {System.nanoTime()};
            signaled = Waiting.await(word, idle, () -> {
                if ((int) INT.getVolatile(whole, slot + SLOT_STATE) == SIGNALED) {
                    return true;
                }
                long now = System.nanoTime();
                if (now - lastRescue[0] >= RESCUE_NANOS) {
                    lastRescue[0] = now;
                    passOnSignalsOfDeadWaiters();
                }
                return false;
            }, deadline, interruptible);
        } catch (InterruptedException e) {
            interrupted = e;
            signaled = false;
        }
        if (!signaled && !INT.compareAndSet(whole, slot + SLOT_STATE, WAITING, FREE)) {
            signaled = true; // a signal raced with the timeout or interrupt: take it
        }
        if (signaled) {
            INT.setVolatile(whole, slot + SLOT_STATE, FREE);
        }
        lock.reacquire(holds);
        if (interrupted != null) {
            if (signaled) {
                Thread.currentThread().interrupt();
            } else {
                throw interrupted;
            }
        }
        return signaled;
    }

    private long claimSlot() {
        for (int i = 0; i < SLOTS; i++) {
            long s = slot(i);
            int state = (int) INT.getVolatile(whole, s + SLOT_STATE);
            if (state != FREE && state != CLAIMED && !ProcessIdentity.isAliveRecently((long) LONG.getVolatile(whole, s + SLOT_OWNER))) {
                INT.compareAndSet(whole, s + SLOT_STATE, state, FREE); // a dead waiter's slot
                state = FREE;
            }
            if (state == FREE && INT.compareAndSet(whole, s + SLOT_STATE, FREE, CLAIMED)) {
                LONG.setOpaque(whole, s + SLOT_TICKET, (long) LONG.getAndAdd(whole, ConditionLayout.NEXT_TICKET, 1L));
                LONG.setOpaque(whole, s + SLOT_OWNER, ME);
                LONG.setOpaque(whole, s + SLOT_THREAD, Thread.currentThread().threadId());
                INT.setVolatile(whole, s + SLOT_STATE, WAITING); // NOTE: publishes ticket and owner
                return s;
            }
        }
        throw new IllegalStateException("SharedCondition '" + name() + "' already has " + SLOTS + " waiters");
    }

    /** Wakes the longest-waiting live waiter. */
    @Override
    public void signal() {
        ensureOpen();
        requireLock("signal");
        signalOne();
    }

    /** Wakes every waiter. */
    @Override
    public void signalAll() {
        ensureOpen();
        requireLock("signalAll");
        boolean any = false;
        for (int i = 0; i < SLOTS; i++) {
            long s = slot(i);
            if ((int) INT.getVolatile(whole, s + SLOT_STATE) == WAITING && liveOrFreed(s)) {
                any |= INT.compareAndSet(whole, s + SLOT_STATE, WAITING, SIGNALED);
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

    private boolean signalOne() {
        for (;;) {
            long oldest = -1;
            long oldestTicket = Long.MAX_VALUE;
            for (int i = 0; i < SLOTS; i++) {
                long s = slot(i);
                if ((int) INT.getVolatile(whole, s + SLOT_STATE) == WAITING) {
                    long ticket = (long) LONG.getOpaque(whole, s + SLOT_TICKET);
                    if (ticket < oldestTicket && liveOrFreed(s)) {
                        oldest = s;
                        oldestTicket = ticket;
                    }
                }
            }
            if (oldest < 0) {
                return false;
            }
            if (INT.compareAndSet(whole, oldest + SLOT_STATE, WAITING, SIGNALED)) {
                word.wakeAll(); // sleepers re-check their own slot; only the signalled one leaves
                return true;
            }
            // that waiter timed out meanwhile: pick again
        }
    }

    /** True if the slot's process lives; otherwise frees the slot (a dead waiter) and returns false. */
    private boolean liveOrFreed(long s) {
        long owner = (long) LONG.getVolatile(whole, s + SLOT_OWNER);
        if (owner == ME || ProcessIdentity.isAliveRecently(owner)) {
            return true;
        }
        int state = (int) INT.getVolatile(whole, s + SLOT_STATE);
        if ((state == WAITING || state == SIGNALED) && INT.compareAndSet(whole, s + SLOT_STATE, state, FREE)) {
            if (state == SIGNALED) {
                signalOne(); // the dead waiter had a signal it never took: pass it on
            }
        }
        return false;
    }

    private void passOnSignalsOfDeadWaiters() {
        for (int i = 0; i < SLOTS; i++) {
            long s = slot(i);
            if ((int) INT.getVolatile(whole, s + SLOT_STATE) == SIGNALED) {
                liveOrFreed(s);
            }
        }
    }

    /** Threads waiting now (in all processes), for diagnostics and tests. */
    public int waiters() {
        ensureOpen();
        int n = 0;
        for (int i = 0; i < SLOTS; i++) {
            if ((int) INT.getVolatile(whole, slot(i) + SLOT_STATE) == WAITING) {
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
        return new Handle(nameInFlight(), lock);
    }

    record Handle(String name, AbstractSharedLock lock) implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            try {
                return new SharedCondition(SyncSegments.attach(name, "SharedCondition", ConditionLayout.MAGIC,
                        ConditionLayout.VERSION, ConditionLayout.KIND), lock, true);
            } catch (RuntimeException e) {
                throw SyncSegments.cannotResolve("SharedCondition", name, e);
            }
        }
    }
}
