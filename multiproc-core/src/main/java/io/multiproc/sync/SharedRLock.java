package io.multiproc.sync;

import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;

import static io.multiproc.sync.LockLayout.HOLDS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A reentrant lock in shared memory: Python's {@code multiprocessing.RLock}, as a
 * {@link java.util.concurrent.locks.Lock}. The holding thread may lock it again; only that thread may
 * unlock it ({@link IllegalMonitorStateException} otherwise), as many times as it locked it. When the
 * holding process dies, the next acquirer takes it over and {@link #previousOwnerDied()} says so.
 *
 * <pre>{@code
 * try (SharedRLock rlock = SharedRLock.create()) {
 *     rlock.lock();
 *     rlock.lock();                 // nested
 *     rlock.getHoldCount();         // 2
 *     rlock.unlock(); rlock.unlock();
 *     SharedCondition ready = rlock.newCondition();
 * }
 * }</pre>
 */
public final class SharedRLock extends AbstractSharedLock {

    SharedRLock(SharedSegments.Mapping mapping, long base, boolean embedded, IdleStrategy idle) {
        super(mapping, base, embedded, idle);
    }

    /** A new unlocked reentrant lock that waits with the default {@link IdleStrategy#blocking()}. */
    public static SharedRLock create() {
        return create(IdleStrategy.blocking());
    }

    /** A new unlocked reentrant lock whose waiters in this process use {@code idle}. */
    public static SharedRLock create(IdleStrategy idle) {
        java.util.Objects.requireNonNull(idle, "idle"); // NOTE: before the segment exists, or a refused call leaks it
        return new SharedRLock(SyncSegments.create(LockLayout.MAGIC, LockLayout.VERSION, LockLayout.KIND_RLOCK,
                LockLayout.SEGMENT_SIZE, seg -> seg.set(JAVA_LONG, LockLayout.REGION_OFFSET + LockLayout.MARK,
                        LockLayout.MARK_RLOCK)), LockLayout.REGION_OFFSET, false, idle);
    }

    /** Attaches to an existing reentrant lock by its {@link #name()}. */
    public static SharedRLock attach(String name) {
        return new SharedRLock(SyncSegments.attach(name, "SharedRLock", LockLayout.MAGIC, LockLayout.VERSION,
                LockLayout.KIND_RLOCK), LockLayout.REGION_OFFSET, false, IdleStrategy.blocking());
    }

    @Override
    boolean tryAcquire(boolean checkLiveness, int attempt) {
        // NOTE: the CAS first: a free lock is the common case, and a thread that holds the lock sees its
        // own token there, so the CAS fails and the re-entry check below runs. Only on the first attempt:
        // a waiter takes the lock through casOwner, which keeps the waiters bit while others sleep.
        if (attempt == FIRST && casFree()) {
            return true;
        }
        if (heldByThisThread()) {
            int holds = (int) INT.get(whole, base + HOLDS);
            if (holds == Integer.MAX_VALUE) {
                throw new Error("SharedRLock '" + name() + "': maximum lock count exceeded");
            }
            INT.set(whole, base + HOLDS, holds + 1);
            return true;
        }
        return casOwner(checkLiveness, attempt);
    }

    /**
     * Undoes one {@code lock()} of the calling thread; the last one frees the lock.
     *
     * @throws IllegalMonitorStateException if the calling thread does not hold it
     */
    @Override
    public void unlock() {
        ensureOpen();
        if (!heldByThisThread()) {
            throw notHeld("SharedRLock");
        }
        int holds = (int) INT.get(whole, base + HOLDS);
        if (holds > 1) {
            INT.set(whole, base + HOLDS, holds - 1);
        } else {
            releaseOwner();
        }
    }

    /** How many times the calling thread holds this lock (0 if it does not). */
    public int getHoldCount() {
        ensureOpen();
        return heldByThisThread() ? (int) INT.get(whole, base + HOLDS) : 0;
    }

    public boolean isHeldByCurrentThread() {
        ensureOpen();
        return heldByThisThread();
    }

    @Override
    int releaseFully() {
        if (!heldByThisThread()) {
            throw notHeld("SharedRLock");
        }
        int holds = (int) INT.get(whole, base + HOLDS);
        releaseOwner();
        return holds;
    }

    @Override
    void reacquire(int holds) {
        lock();
        INT.set(whole, base + HOLDS, holds);
    }

    @Override
    boolean reentrant() {
        return true;
    }
}
