package io.multiproc.queue;

import io.multiproc.internal.ProcessIdentity;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.WaitWord;
import io.multiproc.wait.Waiting;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The right to write a ring's tail (producer lock) or its head (consumer lock): one long in shared
 * memory, 0 when free, else the holding process's {@link ProcessIdentity#token()}. Not reentrant;
 * held only for the few accesses of one record, never while waiting for anything else.
 *
 * <p>A waiter that finds the lock held checks, on its first slow round and then every
 * {@link #LIVENESS_CHECK_NANOS}, whether the holder's process still runs; if not it CASes the dead
 * token to its own and {@link #lock()} returns true, so the caller can reclaim what the dead holder
 * left (the same scheme as {@code io.multiproc.sync} locks, decision 005).
 */
final class RingLock {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    static final long ME = ProcessIdentity.current().token();
    private static final long LIVENESS_CHECK_NANOS = 5_000_000L;

    private final MemorySegment segment;
    private final long owner;
    private final WaitWord word;
    private final IdleStrategy idle;

    RingLock(MemorySegment segment, long owner, WaitWord word, IdleStrategy idle) {
        this.segment = segment;
        this.owner = owner;
        this.word = word;
        this.idle = idle;
    }

    /**
     * Takes the lock, waiting while a live process holds it. Not interruptible (holders never wait
     * while holding it); the interrupt status is kept.
     *
     * @return true if it was taken over from a process that died holding it
     */
    boolean lock() {
        // NOTE: the CAS acquires: what the previous holder (any process) wrote before its release store
        // is visible from here on.
        if (LONG.compareAndSet(segment, owner, 0L, ME)) {
            return false;
        }
        return lockSlow();
    }

    private boolean lockSlow() {
        boolean[] tookOver = {false};
        long[] lastCheck = {System.nanoTime() - LIVENESS_CHECK_NANOS};
        try {
            Waiting.await(word, idle, () -> {
                if (LONG.compareAndSet(segment, owner, 0L, ME)) {
                    return true;
                }
                long now = System.nanoTime();
                if (now - lastCheck[0] < LIVENESS_CHECK_NANOS) {
                    return false;
                }
                lastCheck[0] = now;
                long holder = (long) LONG.getVolatile(segment, owner);
                // NOTE: only one waiter's CAS from the dead token wins; the dead holder wrote nothing
                // that a reader trusts (its tail or head store never happened, or happened in full).
                if (holder != 0 && holder != ME && !ProcessIdentity.isAliveRecently(holder)
                        && LONG.compareAndSet(segment, owner, holder, ME)) {
                    tookOver[0] = true;
                    return true;
                }
                return false;
            }, Waiting.FOREVER, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
        return tookOver[0];
    }

    /**
     * Frees the lock (a release store: everything written under it is visible to the next holder).
     * The caller must then issue {@code VarHandle.fullFence()} and call {@link #wakeWaiter()}; the fence
     * keeps the sleeper check after the release (a lost wake-up otherwise) and may serve other stores too.
     */
    void release() {
        LONG.setRelease(segment, owner, 0L);
    }

    /** After {@link #release()} and a full fence: wakes one waiter if one sleeps. */
    void wakeWaiter() {
        word.wake(1);
    }

    /** The holder's token, 0 when free (diagnostics). */
    long holder() {
        return (long) LONG.getVolatile(segment, owner);
    }
}
