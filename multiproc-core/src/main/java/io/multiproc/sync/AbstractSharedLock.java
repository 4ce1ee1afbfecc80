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
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

import static io.multiproc.sync.LockLayout.HOLDS;
import static io.multiproc.sync.LockLayout.OWNER;
import static io.multiproc.sync.LockLayout.OWNER_THREAD;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What {@link SharedLock} and {@link SharedRLock} share: acquisition, waiting, and taking over a lock
 * whose holder died.
 *
 * <h2>Implementation overview</h2>
 * The lock is the {@code owner} word of a {@link LockLayout} region: 0 when free, else the holding
 * process's {@link ProcessIdentity#token()} (pid and start time in one long).
 * <ul>
 *   <li>Acquire: CAS 0 to my token; no system call. Contended: the {@link Waiting} loop with the
 *       object's {@link IdleStrategy}; sleepers register in the region's {@link WaitWord}.</li>
 *   <li>Release: getAndSet of 0 (a full fence; {@link SharedLock} also learns whether it was locked),
 *       then wake one sleeper if one is registered. NOTE: not a release store: the read of the sleeper
 *       count after it must not move before it (a lost wake-up otherwise).</li>
 *   <li>Dead holder: a waiter that finds the lock held checks, on its first try and then at least every
 *       {@link WaitWord#MAX_SLEEP_NANOS} while it waits, whether the owner token's process still runs
 *       (/proc, pid and start time). If not, it CASes the dead token to its own: exactly one waiter
 *       wins, and {@link #previousOwnerDied()} tells it once. Taking over happens within about 25 ms of
 *       the death. Threads dying inside a live process are not detected (as with java.util.concurrent).</li>
 *   <li>Owner thread and hold count are written by the holder after its CAS and read only by threads of
 *       the holder's process (to recognise re-entry); the holder clears them before releasing. Plain
 *       accesses: the CAS that takes the lock and the getAndSet that frees it order them against every
 *       other holder's, and the only thread that acts on seeing its own id there is the one that wrote
 *       it (a thread always sees its own latest write). Opaque accesses cost an RLock lock+unlock ~9 ns.</li>
 * </ul>
 */
public abstract sealed class AbstractSharedLock extends MappedObject implements Lock, Serializable
        permits SharedLock, SharedRLock {
    static final VarHandle LONG = JAVA_LONG.varHandle();
    static final VarHandle INT = JAVA_INT.varHandle();
    /** This process's owner token. */
    static final long ME = ProcessIdentity.current().token();
    /** Checking a holder's liveness reads /proc: at most this often while spinning. */
    private static final long LIVENESS_CHECK_NANOS = 5_000_000L;

    /** Offset of the lock region in {@link #whole}. */
    final transient long base;
    final transient WaitWord word;
    final transient IdleStrategy idle;
    /** True when the region lives in another object's segment (a value's getLock()). */
    final transient boolean embedded;
    /** Set by the thread that took the lock over from a dead holder; read and cleared by previousOwnerDied(). */
    private transient volatile boolean tookOver;

    AbstractSharedLock(SharedSegments.Mapping mapping, long base, boolean embedded, IdleStrategy idle) {
        super(mapping);
        this.base = base;
        this.embedded = embedded;
        this.idle = Objects.requireNonNull(idle, "idle");
        this.word = new WaitWord(whole, base + LockLayout.SEQ, base + LockLayout.SLEEPERS);
    }

    /** The acquire attempt of this lock kind: true if the calling thread now holds it. */
    abstract boolean tryAcquire(boolean checkLiveness);

    /** Releases completely, returning what {@link #reacquire(int)} needs to restore (conditions). */
    abstract int releaseFully();

    abstract void reacquire(int holds);

    abstract boolean reentrant();

    /** CAS free to this process; on success records the thread. */
    final boolean casFree() {
        if (LONG.compareAndSet(whole, base + OWNER, 0L, ME)) {
            onAcquired(false);
            return true;
        }
        return false;
    }

    /** CAS free (or a dead holder) to this process; on success records the thread. */
    final boolean casOwner(boolean checkLiveness) {
        if (casFree()) {
            return true;
        }
        if (checkLiveness) {
            long owner = (long) LONG.getVolatile(whole, base + OWNER);
            if (owner != 0 && owner != ME && !ProcessIdentity.isAlive(owner)
                    && LONG.compareAndSet(whole, base + OWNER, owner, ME)) {
                onAcquired(true);
                return true;
            }
        }
        return false;
    }

    private void onAcquired(boolean fromDeadOwner) {
        LONG.set(whole, base + OWNER_THREAD, Thread.currentThread().threadId());
        INT.set(whole, base + HOLDS, 1);
        if (fromDeadOwner) {
            tookOver = true;
        }
    }

    /** Clears the holder's fields (plain writes, published by the getAndSet) and frees the lock; then wakes one sleeper if any. */
    final void releaseOwner() {
        LONG.set(whole, base + OWNER_THREAD, 0L);
        INT.set(whole, base + HOLDS, 0);
        // NOTE: getAndSet is a full fence, so the sleeper check in wake() stays after the release.
        LONG.getAndSet(whole, base + OWNER, 0L);
        word.wake(1);
    }

    final boolean heldByThisThread() {
        return (long) LONG.getVolatile(whole, base + OWNER) == ME
                && (long) LONG.get(whole, base + OWNER_THREAD) == Thread.currentThread().threadId();
    }

    /** One blocking acquisition; the waiter re-checks the holder's liveness now and then. */
    final boolean acquire(long deadline, boolean interruptible) throws InterruptedException {
        if (tryAcquire(false)) {
            return true;
        }
        long[] lastCheck = {System.nanoTime() - LIVENESS_CHECK_NANOS};
        return Waiting.await(word, idle, () -> {
            long now = System.nanoTime();
            boolean check = now - lastCheck[0] >= LIVENESS_CHECK_NANOS;
            if (check) {
                lastCheck[0] = now;
            }
            return tryAcquire(check);
        }, deadline, interruptible);
    }

    @Override
    public void lock() {
        try {
            acquire(Waiting.FOREVER, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        acquire(Waiting.FOREVER, true);
    }

    /** Takes the lock if it is free (or its holder died); never waits. */
    @Override
    public boolean tryLock() {
        return tryAcquire(true);
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (time <= 0) {
            return tryAcquire(true);
        }
        return acquire(Waiting.deadline(unit.toNanos(time)), true);
    }

    /** {@link #tryLock(long, TimeUnit)} with a Duration; a negative timeout throws. */
    public boolean tryLock(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout=" + timeout + " must be >= 0");
        }
        return tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** True while some thread of some process holds the lock. */
    public boolean isLocked() {
        return (long) LONG.getVolatile(whole, base + OWNER) != 0;
    }

    /** The pid of the holding process, or 0 when free. */
    public long ownerPid() {
        return ProcessIdentity.pidOf((long) LONG.getVolatile(whole, base + OWNER));
    }

    /**
     * True once after this object's latest acquisition took the lock over from a holder that died:
     * whatever it guarded may be half-updated. Reading it clears it.
     */
    public boolean previousOwnerDied() {
        if (tookOver) {
            tookOver = false;
            return true;
        }
        return false;
    }

    /** A condition bound to this lock, usable across processes (Python's Condition). */
    @Override
    public SharedCondition newCondition() {
        return SharedCondition.create(this);
    }

    @Override
    public void close() {
        super.close();
    }

    final IllegalMonitorStateException notHeld(String what) {
        long owner = (long) LONG.getVolatile(whole, base + OWNER);
        return new IllegalMonitorStateException(what + " '" + name() + "' is not held by this thread"
                + (owner == 0 ? " (it is not locked)" : " (holder pid " + ProcessIdentity.pidOf(owner) + ")"));
    }

    @Override
    public String toString() {
        long owner = (long) LONG.getVolatile(whole, base + OWNER);
        return getClass().getSimpleName() + "[name=" + name() + (owner == 0 ? ", unlocked" : ", locked by pid " + ProcessIdentity.pidOf(owner)) + "]";
    }

    @Serial
    final Object writeReplace() {
        return new Handle(name(), base, reentrant(), embedded);
    }

    /** Serialized form: the segment, the region offset and the kind; readResolve attaches. */
    record Handle(String name, long base, boolean reentrant, boolean embedded) implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            String what = reentrant ? "SharedRLock" : "SharedLock";
            try {
                SharedSegments.Mapping m = embedded ? SyncSegments.attachAny(name, what)
                        : SyncSegments.attach(name, what, LockLayout.MAGIC, LockLayout.VERSION,
                        reentrant ? LockLayout.KIND_RLOCK : LockLayout.KIND_LOCK);
                return reentrant ? new SharedRLock(m, base, embedded, IdleStrategy.blocking())
                        : new SharedLock(m, base, embedded, IdleStrategy.blocking());
            } catch (RuntimeException e) {
                throw SyncSegments.cannotResolve(what, name, e);
            }
        }
    }
}
