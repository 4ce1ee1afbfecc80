package io.multiproc.sync;

import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;

import static io.multiproc.sync.LockLayout.OWNER;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A lock in shared memory that works across processes and threads: Python's
 * {@code multiprocessing.Lock}, as a {@link java.util.concurrent.locks.Lock}. Not reentrant; any thread
 * of any process may unlock it (as in Python). When the holding process dies, the next acquirer takes
 * the lock within about 30 ms (90 ms at most) and {@link #previousOwnerDied()} tells it so.
 *
 * <pre>{@code
 * try (SharedLock lock = SharedLock.create(); SharedLong balance = SharedLong.create(100)) {
 *     ChildProcess.start(() -> {
 *         lock.lock();
 *         try { balance.set(balance.get() - 30); } finally { lock.unlock(); }
 *     }).join();
 *     if (lock.tryLock(Duration.ofSeconds(1))) { ... lock.unlock(); }
 * }
 * }</pre>
 *
 * <p>Uncontended lock and unlock are one atomic instruction each and no system call. Unlocking a lock
 * that is not locked throws {@link IllegalMonitorStateException} (Python's RuntimeError).
 */
public final class SharedLock extends AbstractSharedLock {
    static {
        // the one way other packages of the library make locks inside their own segments
        io.multiproc.internal.EmbeddedLocks.install(new EmbeddedLockFactory());
    }

    SharedLock(SharedSegments.Mapping mapping, long base, boolean embedded, IdleStrategy idle) {
        super(mapping, base, embedded, idle);
    }

    /** A new unlocked lock that waits with the default {@link IdleStrategy#blocking()}. */
    public static SharedLock create() {
        return create(IdleStrategy.blocking());
    }

    /** A new unlocked lock whose waiters in this process use {@code idle}. */
    public static SharedLock create(IdleStrategy idle) {
        java.util.Objects.requireNonNull(idle, "idle"); // NOTE: before the segment exists, or a refused call leaks it
        return new SharedLock(SyncSegments.create(LockLayout.MAGIC, LockLayout.VERSION, LockLayout.KIND_LOCK,
                LockLayout.SEGMENT_SIZE, seg -> seg.set(JAVA_LONG, LockLayout.REGION_OFFSET + LockLayout.MARK,
                        LockLayout.MARK_LOCK)), LockLayout.REGION_OFFSET, false, idle);
    }

    /** Attaches to an existing lock by its {@link #name()}. */
    public static SharedLock attach(String name) {
        return new SharedLock(SyncSegments.attach(name, "SharedLock", LockLayout.MAGIC, LockLayout.VERSION,
                LockLayout.KIND_LOCK), LockLayout.REGION_OFFSET, false, IdleStrategy.blocking());
    }

    @Override
    boolean tryAcquire(boolean checkLiveness, int attempt) {
        return casOwner(checkLiveness, attempt);
    }

    /**
     * Releases the lock, whoever holds it (Python's semantics).
     *
     * @throws IllegalMonitorStateException if it is not locked (nothing changes)
     */
    @Override
    public void unlock() {
        ensureOpen();
        LONG.set(whole, base + LockLayout.OWNER_THREAD, 0L);
        // NOTE: getAndSet is a full fence, so the sleeper check in wake() stays after the release.
        long previous = (long) LONG.getAndSet(whole, base + OWNER, 0L);
        if (previous == 0) {
            throw new IllegalMonitorStateException("SharedLock '" + name() + "' is not locked");
        }
        wakeAfterRelease(previous);
    }

    @Override
    int releaseFully() {
        unlock();
        return 1;
    }

    @Override
    void reacquire(int holds) {
        lock();
    }

    @Override
    boolean reentrant() {
        return false;
    }
}
