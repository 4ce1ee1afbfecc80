package io.multiproc.sync;

import io.multiproc.codec.SharedHandle;
import io.multiproc.internal.MappedObject;
import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.SegmentHeader;
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
 * ({@link LockLayout#WAITERS}) set when a waiter may be asleep and bit 62 ({@link LockLayout#TAKING})
 * set while a process takes the lock over from a dead holder.
 * <ul>
 *   <li>Acquire: CAS 0 to my token; no system call. Contended: the {@link Waiting} loop with the
 *       object's {@link IdleStrategy}; sleepers register in the region's {@link WaitWord} and, right
 *       before sleeping, set the waiters bit on the owner word they saw (a CAS; if the word changed,
 *       they re-check instead of sleeping). A waiter that acquires while other sleepers are registered
 *       (not counting itself) takes the lock with the waiters bit set, so its release wakes the next
 *       one. The contended path allocates nothing after a handle's first wait (which makes its wait
 *       word): its state is one {@link Waiter} per handle.</li>
 *   <li>Release: getAndSet of 0 (a full fence; {@link SharedLock} also learns whether it was locked);
 *       only if the old word had the waiters bit, wake one sleeper. So a holder that keeps re-taking
 *       the lock while a woken waiter is still on its way pays one system call per sleep of that
 *       waiter, not one per release (Drepper's "Futexes Are Tricky", mutex 2, with a waiters bit). A
 *       woken waiter that leaves without the lock (timeout, interrupt) passes the wake-up on
 *       ({@link Waiting}): the next sleeper re-checks and announces itself again.</li>
 *   <li>Dead holder: a waiter that finds the lock held checks, on its first try and then after every
 *       sleep while it waits (20 ms, doubling while idle up to {@link WaitWord#MAX_SLEEP_NANOS}), whether the owner token's process still runs
 *       (/proc, pid and start time). If not, it CASes the dead token to its own with the taking bit:
 *       exactly one waiter wins. It then writes its thread and hold count and clears the taking bit
 *       (CAS, keeping the waiters bit); {@link #previousOwnerDied()} tells it once. A holder seen alive
 *       in the last 5 ms is not looked up again ({@link ProcessIdentity#isAliveRecently}: /proc costs
 *       ~10 µs), so taking over happens within about 30 ms of the death (up to about 90 ms for a waiter that has
 *       slept for a while). A stopped process (SIGSTOP) is
 *       alive. Threads dying inside a live process are not detected (as with java.util.concurrent).</li>
 *   <li>Owner thread and hold count are written by the holder after its CAS and read only by threads of
 *       the holder's process (to recognise re-entry); the holder clears them before releasing. Plain
 *       accesses: the CAS that takes the lock and the getAndSet that frees it order them against every
 *       other holder's, and the only thread that acts on seeing its own id there is the one that wrote
 *       it (a thread always sees its own latest write). Invariant: while the owner word is exactly my
 *       token, the thread word is 0 or the id of the thread of my process that holds the lock. A
 *       takeover leaves the dead holder's thread id there until the taker overwrites it, and thread ids
 *       coincide across JVMs (every main thread has the same one); the taking bit keeps the word from
 *       being my token until then, so no other thread of my process mistakes the lock for its own.
 *       Opaque accesses cost an RLock lock+unlock ~9 ns.</li>
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
    /** The taking bit of the owner word (see {@link LockLayout#TAKING}). */
    static final long TAKING = LockLayout.TAKING;
    /** The token part of the owner word. */
    static final long TOKEN = LockLayout.TOKEN;
    /** Attempts of {@link #tryAcquire(boolean, int)}: the first one, not waiting yet. */
    static final int FIRST = 0;
    /** An attempt of a waiter that is not registered as a sleeper. */
    static final int WAITER = 1;
    /** An attempt of a waiter registered as a sleeper (it counts itself in the sleepers). */
    static final int SLEEPER = 2;
    /** Checking a holder's liveness reads /proc: at most this often while spinning. */
    private static final long LIVENESS_CHECK_NANOS = 5_000_000L;

    /** Offset of the lock region in {@link #whole}. */
    final transient long base;
    /**
     * The lock's wait word, made on its first contended use ({@link #word()}): a lock nobody contends never
     * needs one, and a manager's reader makes a lock object per nested container it iterates. Racy
     * single-check, any thread of this process: every thread makes an equal one over the same shared words,
     * and the fields its constructor sets are final.
     */
    private transient WaitWord word;
    final transient IdleStrategy idle;
    /** True when the region lives in another object's segment (a value's getLock()). */
    final transient boolean embedded;
    /** Set by the thread that took the lock over from a dead holder; read and cleared by previousOwnerDied(). */
    private transient volatile boolean tookOver;
    /**
     * Conditions made from (or received with) this handle and still reachable, closed with it; null until
     * the first one. Weak: a program that makes a condition per wait must not keep them all (decision 231).
     * Guarded by {@link #waiter}, a private object every handle has anyway: a manager's reader makes a lock
     * object per nested container it iterates, and an identity set made eagerly was 350 of the 830
     * bytes each of those cost.
     */
    private transient java.util.Set<SharedCondition> conditions;
    /**
     * This handle's reference to the segment of the conditions made from it, kept apart from the handle so
     * that {@link #releaseMore()} can give it back; null until the first condition. Guarded by {@link #waiter}.
     */
    private transient ConditionTable conditionTable;
    /** The contended path's state and callbacks, made once so that waiting allocates nothing; also the monitor of {@link #conditions}. */
    private final transient Waiter waiter = new Waiter();

    AbstractSharedLock(SharedSegments.Mapping mapping, long base, boolean embedded, IdleStrategy idle) {
        super(mapping);
        this.base = base;
        this.embedded = embedded;
        this.idle = Objects.requireNonNull(idle, "idle");
    }

    /**
     * The acquire attempt of this lock kind: true if the calling thread now holds it.
     *
     * @param attempt {@link #FIRST}, {@link #WAITER} or {@link #SLEEPER} (see {@link #casOwner(boolean, int)})
     */
    abstract boolean tryAcquire(boolean checkLiveness, int attempt);

    /** Releases completely, returning what {@link #reacquire(int)} needs to restore (conditions). */
    abstract int releaseFully();

    abstract void reacquire(int holds);

    abstract boolean reentrant();

    /** CAS free to this process; on success records the thread. */
    final boolean casFree() {
        if (LONG.compareAndSet(whole, base + OWNER, 0L, ME)) {
            onAcquired();
            return true;
        }
        return false;
    }

    /**
     * CAS free (or a dead holder) to this process; on success records the thread. A waiter (an
     * attempt after the first) keeps the waiters bit set while other sleepers are registered.
     */
    final boolean casOwner(boolean checkLiveness, int attempt) {
        // NOTE: a waiter reads before it CASes (test-and-test-and-set): a failing CAS still takes the
        // cache line from the holder, and a waiter spinning on CAS slows every lock and unlock it waits for.
        long owner = attempt != FIRST ? (long) LONG.getVolatile(whole, base + OWNER) : 0L;
        if (owner == 0) {
            // A registered sleeper counts itself: only others make its release wake someone.
            long mine = attempt != FIRST && word().sleepers() > (attempt == SLEEPER ? 1 : 0) ? ME | WAITERS : ME;
            if (LONG.compareAndSet(whole, base + OWNER, 0L, mine)) {
                onAcquired();
                return true;
            }
        }
        return checkLiveness && takeOverIfDead();
    }

    /** If the holder's process is dead, takes the lock over (exactly one taker wins). */
    private boolean takeOverIfDead() {
        long owner = (long) LONG.getVolatile(whole, base + OWNER);
        long token = owner & TOKEN;
        if (token == 0 || token == ME || ProcessIdentity.isAliveRecently(token)
                || !LONG.compareAndSet(whole, base + OWNER, owner, ME | TAKING | (owner & WAITERS))) {
            return false;
        }
        if (SyncFaults.ENABLED) {
            SyncFaults.at(SyncFaults.Point.TAKEOVER_CLAIMED);
        }
        onAcquired();
        // NOTE: the thread word is mine before the taking bit goes (a CAS: release), so a thread of this
        // process that sees exactly my token also sees my thread id, never the dead holder's.
        for (;;) {
            long w = (long) LONG.getVolatile(whole, base + OWNER);
            if ((w & (TOKEN | TAKING)) != (ME | TAKING)) {
                break; // a plain lock may be unlocked by anyone, even now
            }
            if (LONG.compareAndSet(whole, base + OWNER, w, w & ~TAKING)) {
                break;
            }
        }
        tookOver = true;
        return true;
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
            word().wake(1);
        }
    }

    private void onAcquired() {
        LONG.set(whole, base + OWNER_THREAD, Thread.currentThread().threadId());
        INT.set(whole, base + HOLDS, 1);
        // NOTE: the flag tells of the latest acquisition only: a takeover nobody read must not be reported
        // to the next one, which found the lock free (a takeover sets it again after this). Read first:
        // the uncontended path then costs a load, not a volatile store.
        if (tookOver) {
            tookOver = false;
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

    /** This lock's wait word (made on first use); package-private for tests that count its sleepers. */
    WaitWord word() {
        WaitWord w = word;
        if (w == null) {
            w = new WaitWord(whole, base + LockLayout.SEQ, base + LockLayout.SLEEPERS);
            word = w;
        }
        return w;
    }

    /** Whether this handle was closed, for a condition waiter that must not take the lock back then. */
    final boolean closed() {
        return isClosed();
    }

    final boolean heldByThisThread() {
        // NOTE: exactly my token (the waiters bit aside): with the taking bit set, the thread word may
        // still be the dead holder's, whose thread id may be the calling thread's.
        return ((long) LONG.getVolatile(whole, base + OWNER) & ~WAITERS) == ME
                && (long) LONG.get(whole, base + OWNER_THREAD) == Thread.currentThread().threadId();
    }

    /** One blocking acquisition; the waiter re-checks the holder's liveness now and then. */
    final boolean acquire(long deadline, boolean interruptible) throws InterruptedException {
        if (tryAcquire(false, FIRST)) {
            return true;
        }
        boolean got = Waiting.await(word(), idle, waiter, waiter, deadline, interruptible);
        if (got && isClosed()) {
            // NOTE: taken just as another thread closed this handle: its unlock() would throw, and the lock
            // would stay this live process's for good; give it back and fail as a closed handle does
            releaseOwner();
            throw closedException();
        }
        return got;
    }

    /**
     * The contended path's callbacks: one per handle, shared by the threads of this process that wait
     * on it, so that waiting allocates nothing (no lambda, no captured state per acquisition).
     */
    private final class Waiter implements Waiting.Ready, Waiting.BeforeSleep {
        /**
         * When a waiter of this process last checked the holder's liveness ({@link System#nanoTime()}).
         * Plain, racy between this process's waiting threads: a lost update costs one more check.
         */
        private long lastLivenessCheck = System.nanoTime() - LIVENESS_CHECK_NANOS;

        // NOTE: a handle another thread closed fails its waiters (volatile read: the flag is another
        // thread's write); another handle of this process may keep the segment mapped, and a waiter that
        // took the lock through the closed one could never unlock it.
        @Override
        public boolean ready() {
            if (isClosed()) {
                throw closedException();
            }
            return tryAcquire(livenessCheckDue(), WAITER);
        }

        @Override
        public boolean readyAsSleeper() {
            if (isClosed()) {
                throw closedException();
            }
            return tryAcquire(livenessCheckDue(), SLEEPER);
        }

        private boolean livenessCheckDue() {
            long now = System.nanoTime();
            if (now - lastLivenessCheck >= LIVENESS_CHECK_NANOS) {
                lastLivenessCheck = now;
                return true;
            }
            return false;
        }

        @Override
        public boolean announce() {
            return announceSleeper();
        }
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
        return tryAcquire(true, FIRST);
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        ensureOpen();
        Objects.requireNonNull(unit, "unit");
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (time <= 0) {
            return tryAcquire(true, FIRST);
        }
        return acquire(Waiting.deadline(unit.toNanos(time)), true);
    }

    /** {@link #tryLock(long, TimeUnit)} with a Duration; a negative timeout throws. */
    public boolean tryLock(Duration timeout) throws InterruptedException {
        ensureOpen();
        long nanos = Waiting.nanos(timeout);
        return tryLock(nanos, TimeUnit.NANOSECONDS);
    }

    /** True while some thread of some process holds the lock. */
    public boolean isLocked() {
        ensureOpen();
        return (long) LONG.getVolatile(whole, base + OWNER) != 0;
    }

    /** The pid of the holding process, or 0 when free. */
    public long ownerPid() {
        ensureOpen();
        return ProcessIdentity.pidOf((long) LONG.getVolatile(whole, base + OWNER) & TOKEN);
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

    /**
     * A condition bound to this lock, usable across processes (Python's Condition). It lives no longer
     * than this handle: closing the lock closes it (it may be closed earlier). The conditions made from one
     * handle share one segment, and one the program drops unclosed is let go, so making a condition per
     * wait does not grow /dev/shm (decision 231).
     */
    @Override
    public SharedCondition newCondition() {
        ensureOpen();
        return SharedCondition.create(this);
    }

    /**
     * The segment every condition made from this handle lives in (made at the first), with one more
     * reference to it for the new condition.
     */
    final SharedSegments.Mapping conditionTable() {
        synchronized (waiter) {
            if (isClosed()) {
                throw closedException();
            }
            return tableHolder().retainForCondition();
        }
    }

    private ConditionTable tableHolder() {
        synchronized (waiter) {
            if (conditionTable == null) {
                conditionTable = new ConditionTable();
            }
            return conditionTable;
        }
    }

    /** A handle let go unreachable (a manager's lock, decision 169) gives back its conditions' segment too. */
    @Override
    protected Runnable releaseMore() {
        return tableHolder()::release;
    }

    /** The segment of one lock handle's conditions, made at the first; apart from the handle (see {@link #releaseMore()}). */
    private static final class ConditionTable {
        private SharedSegments.Mapping mapping; // guarded by this

        synchronized SharedSegments.Mapping retainForCondition() {
            if (mapping == null) {
                mapping = SharedCondition.createTable();
            }
            return mapping.retain();
        }

        /** Gives back the handle's reference; the conditions still open keep their own. */
        synchronized void release() {
            if (mapping != null) {
                mapping.release();
                mapping = null;
            }
        }
    }

    /** Ties {@code c}'s lifetime to this handle's. */
    final void adopt(SharedCondition c) {
        synchronized (waiter) {
            if (isClosed()) {
                c.close();
                throw new IllegalStateException(getClass().getSimpleName() + " '" + name() + "' is closed");
            }
            if (conditions == null) {
                // NOTE: identity: SharedCondition keeps Object's equals and hashCode
                conditions = java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>());
            }
            conditions.add(c);
        }
    }

    final void forget(SharedCondition c) {
        synchronized (waiter) {
            if (conditions != null) {
                conditions.remove(c);
            }
        }
    }

    /** Detaches this handle and closes the conditions made from it (their segments go with their last user). */
    @Override
    public void close() {
        SharedCondition[] mine;
        ConditionTable table;
        synchronized (waiter) {
            if (isClosed()) {
                return;
            }
            super.close();
            table = conditionTable;
            conditionTable = null;
            if (conditions == null) {
                mine = new SharedCondition[0];
            } else {
                mine = conditions.toArray(SharedCondition[]::new);
                conditions.clear();
            }
        }
        try {
            for (SharedCondition c : mine) {
                c.close();
            }
        } finally {
            if (table != null) {
                table.release();
            }
        }
    }

    final IllegalMonitorStateException notHeld(String what) {
        long owner = (long) LONG.getVolatile(whole, base + OWNER);
        return new IllegalMonitorStateException(what + " '" + name() + "' is not held by this thread"
                + (owner == 0 ? " (it is not locked)" : " (holder pid " + ProcessIdentity.pidOf(owner & TOKEN) + ")"));
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        long owner = (long) LONG.getVolatile(whole, base + OWNER);
        return getClass().getSimpleName() + "[name=" + name() + (owner == 0 ? ", unlocked" : ", locked by pid " + ProcessIdentity.pidOf(owner & TOKEN)) + "]";
    }

    @Serial
    final Object writeReplace() {
        return new Handle(nameInFlight(), base, reentrant(), whole.get(JAVA_LONG, SegmentHeader.MAGIC_OFFSET),
                whole.get(JAVA_INT, SegmentHeader.VERSION_OFFSET), whole.get(JAVA_INT, SegmentHeader.KIND_OFFSET));
    }

    /**
     * Serialized form: the segment, the header its structure has (a lock's own, or its host's: a
     * value, an array, a queue), the region offset and the kind. readResolve attaches checking all of
     * it, like every other attach: the header, then a marked lock region of this kind at {@code base}.
     */
    record Handle(String name, long base, boolean reentrant, long magic, int version, int kind)
            implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            String what = reentrant ? "SharedRLock" : "SharedLock";
            try {
                SharedSegments.Mapping m = SyncSegments.attach(name, what, magic, version, kind,
                        seg -> LockLayout.checkRegion(seg, name, what, base, reentrant));
                boolean embedded = magic != LockLayout.MAGIC;
                return reentrant ? new SharedRLock(m, base, embedded, IdleStrategy.blocking())
                        : new SharedLock(m, base, embedded, IdleStrategy.blocking());
            } catch (RuntimeException e) {
                throw SyncSegments.cannotResolve(what, name, e);
            }
        }
    }
}
