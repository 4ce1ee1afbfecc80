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
 * process's {@link ProcessIdentity#token()} (pid and start time in one long), with bit 63
 * ({@link LockLayout#WAITERS}) set when a waiter may be asleep.
 * <ul>
 *   <li>Acquire: CAS 0 to my token; no system call. Contended: the {@link Waiting} loop with the
 *       object's {@link IdleStrategy}; sleepers register in the region's {@link WaitWord} and, right
 *       before sleeping, set the waiters bit on the owner word they saw (a CAS; if the word changed,
 *       they re-check instead of sleeping). A waiter that acquires while others are registered takes
 *       the lock with the waiters bit set, so its release wakes the next one.</li>
 *   <li>Release: getAndSet of 0 (a full fence; {@link SharedLock} also learns whether it was locked);
 *       only if the old word had the waiters bit, wake one sleeper. So a holder that keeps re-taking
 *       the lock while a woken waiter is still on its way pays one system call per sleep of that
 *       waiter, not one per release (Drepper's "Futexes Are Tricky", mutex 2, with a waiters bit).</li>
 *   <li>Dead holder: a waiter that finds the lock held checks, on its first try and then at least every
 *       {@link WaitWord#MAX_SLEEP_NANOS} while it waits, whether the owner token's process still runs
 *       (/proc, pid and start time). If not, it CASes the dead token to its own: exactly one waiter
 *       wins, and {@link #previousOwnerDied()} tells it once. A holder seen alive in the last 5 ms is
 *       not looked up again ({@link ProcessIdentity#isAliveRecently}: /proc costs ~10 µs), so taking
 *       over happens within about 30 ms of the death. Threads dying inside a live process are not detected (as with java.util.concurrent).</li>
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
    /** The waiters bit of the owner word (see {@link LockLayout#WAITERS}). */
    static final long WAITERS = LockLayout.WAITERS;
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

    /**
     * The acquire attempt of this lock kind: true if the calling thread now holds it.
     *
     * @param contended the caller has been waiting (see {@link #casOwner(boolean, boolean)})
     */
    abstract boolean tryAcquire(boolean checkLiveness, boolean contended);

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

    /**
     * CAS free (or a dead holder) to this process; on success records the thread. A contended
     * acquirer (one that has been waiting) keeps the waiters bit set while others are registered.
     */
    final boolean casOwner(boolean checkLiveness, boolean contended) {
        // NOTE: a waiter reads before it CASes (test-and-test-and-set): a failing CAS still takes the
        // cache line from the holder, and a waiter spinning on CAS slows every lock and unlock it waits for.
        long owner = contended ? (long) LONG.getVolatile(whole, base + OWNER) : 0L;
        if (owner == 0) {
            long mine = contended && word.sleepers() > 0 ? ME | WAITERS : ME;
            if (LONG.compareAndSet(whole, base + OWNER, 0L, mine)) {
                onAcquired(false);
                return true;
            }
        }
        if (checkLiveness) {
            owner = (long) LONG.getVolatile(whole, base + OWNER);
            long token = owner & ~WAITERS;
            if (token != 0 && token != ME && !ProcessIdentity.isAliveRecently(token)
                    && LONG.compareAndSet(whole, base + OWNER, owner, ME | (owner & WAITERS))) {
                onAcquired(true);
                return true;
            }
        }
        return false;
    }

    /**
     * Before a waiter sleeps: set the waiters bit on the owner word, so that the release wakes it.
     * False when the lock was freed (or changed hands) meanwhile: then the waiter retries instead.
     */
    private boolean announceSleeper() {
        long owner = (long) LONG.getVolatile(whole, base + OWNER);
        if (owner == 0) {
            return false;
        }
        return (owner & WAITERS) != 0 || LONG.compareAndSet(whole, base + OWNER, owner, owner | WAITERS);
    }

    /** After freeing the owner word: wake one sleeper if the old word said one may be asleep. */
    final void wakeAfterRelease(long oldOwner) {
        if ((oldOwner & WAITERS) != 0) {
            word.wake(1);
        }
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
        // NOTE: getAndSet is a full fence: the plain writes above are published with the release, and
        // the sleeper check in wake() stays after it.
        wakeAfterRelease((long) LONG.getAndSet(whole, base + OWNER, 0L));
    }

    final boolean heldByThisThread() {
        return ((long) LONG.getVolatile(whole, base + OWNER) & ~WAITERS) == ME
                && (long) LONG.get(whole, base + OWNER_THREAD) == Thread.currentThread().threadId();
    }

    /** One blocking acquisition; the waiter re-checks the holder's liveness now and then. */
    final boolean acquire(long deadline, boolean interruptible) throws InterruptedException {
        if (tryAcquire(false, false)) {
            return true;
        }
        long[] lastCheck = {System.nanoTime() - LIVENESS_CHECK_NANOS};
        return Waiting.await(word, idle, () -> {
            long now = System.nanoTime();
            boolean check = now - lastCheck[0] >= LIVENESS_CHECK_NANOS;
            if (check) {
                lastCheck[0] = now;
            }
            return tryAcquire(check, true);
        }, this::announceSleeper, deadline, interruptible);
    }

    @Override
    public void lock() {
        ensureOpen();
        try {
            acquire(Waiting.FOREVER, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        ensureOpen();
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        acquire(Waiting.FOREVER, true);
    }

    /** Takes the lock if it is free (or its holder died); never waits. */
    @Override
    public boolean tryLock() {
        ensureOpen();
        return tryAcquire(true, false);
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        ensureOpen();
        Objects.requireNonNull(unit, "unit");
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (time <= 0) {
            return tryAcquire(true, false);
        }
        return acquire(Waiting.deadline(unit.toNanos(time)), true);
    }

    /** {@link #tryLock(long, TimeUnit)} with a Duration; a negative timeout throws. */
    public boolean tryLock(Duration timeout) throws InterruptedException {
        ensureOpen();
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout=" + timeout + " must be >= 0");
        }
        return tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** True while some thread of some process holds the lock. */
    public boolean isLocked() {
        ensureOpen();
        return (long) LONG.getVolatile(whole, base + OWNER) != 0;
    }

    /** The pid of the holding process, or 0 when free. */
    public long ownerPid() {
        ensureOpen();
        return ProcessIdentity.pidOf((long) LONG.getVolatile(whole, base + OWNER) & ~WAITERS);
    }

    /**
     * True once after this object's latest acquisition took the lock over from a holder that died:
     * whatever it guarded may be half-updated. Reading it clears it.
     */
    public boolean previousOwnerDied() {
        ensureOpen();
        if (tookOver) {
            tookOver = false;
            return true;
        }
        return false;
    }

    /** A condition bound to this lock, usable across processes (Python's Condition). */
    @Override
    public SharedCondition newCondition() {
        ensureOpen();
        return SharedCondition.create(this);
    }

    @Override
    public void close() {
        super.close();
    }

    final IllegalMonitorStateException notHeld(String what) {
        long owner = (long) LONG.getVolatile(whole, base + OWNER);
        return new IllegalMonitorStateException(what + " '" + name() + "' is not held by this thread"
                + (owner == 0 ? " (it is not locked)" : " (holder pid " + ProcessIdentity.pidOf(owner & ~WAITERS) + ")"));
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        long owner = (long) LONG.getVolatile(whole, base + OWNER);
        return getClass().getSimpleName() + "[name=" + name() + (owner == 0 ? ", unlocked" : ", locked by pid " + ProcessIdentity.pidOf(owner & ~WAITERS)) + "]";
    }

    @Serial
    final Object writeReplace() {
        return new Handle(nameInFlight(), base, reentrant(), embedded);
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
