package io.multiproc.internal;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Base of every high-level shared object (values, arrays, locks, queues...): one reference to its
 * segment's process-wide mapping, released once by {@link #close()}. Subclasses serialize as a small
 * handle that re-attaches in the receiving process.
 *
 * <p>Not part of the public API.
 */
public abstract class MappedObject implements AutoCloseable {
    private final SharedSegments.Mapping mapping;
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Set by any thread of this process, once, when a handle of this object was written outside an
     * in-flight bracket ({@link InFlight}): no hold keeps the segment for that handle's reader, so a holder
     * that lets unreachable objects go must keep this one (see {@link Release}).
     */
    private final AtomicBoolean untracked = new AtomicBoolean();
    /** The whole mapped segment; subclasses copy it into locals on hot paths. */
    protected final MemorySegment whole;

    protected MappedObject(SharedSegments.Mapping mapping) {
        this.mapping = mapping;
        this.whole = mapping.segment();
    }

    /** The segment's name in /dev/shm. */
    public final String name() {
        return mapping.name();
    }

    /**
     * The segment's name, for {@code writeReplace}: every subclass's serialized form is made with it, so
     * that a handle encoded into a task, a queue item or a pipe message holds its segment until the
     * receiver attaches ({@link InFlight}).
     */
    public final String nameInFlight() {
        String n = mapping.name();
        if (!InFlight.noteSent(n) && !untracked.getPlain()) {
            untracked.set(true);
        }
        return n;
    }

    /**
     * What {@link #close()} releases, as an object that does not reach this one: for a holder that lets
     * this object go once the program no longer reaches it (a Manager's {@code queue()}, {@code lock()}...,
     * decision 169), from a {@link java.lang.ref.Cleaner} action.
     */
    final Release detachedRelease() {
        return new Release(closed, untracked, mapping, releaseMore());
    }

    /**
     * What this object's {@link #close()} does besides releasing its mapping, for {@link Releases#of}; must not
     * reach this object (its own mappings of other regions, static bookkeeping). Null: nothing.
     */
    protected Runnable releaseMore() {
        return null;
    }

    /**
     * A shared object's release, apart from the object. Handles that went to another process inside a
     * task, a queue item or a pipe message are held by the carrier until attached ({@link InFlight}), so
     * releasing this process's mapping then takes nothing from the receiver (a managed container's item is
     * written in such a bracket too, and held by the manager); a handle written anywhere else (the program's
     * own stream) is held by nothing: {@link #untracked()} says so.
     */
    public static final class Release {
        private final AtomicBoolean closed;
        private final AtomicBoolean untracked;
        private final SharedSegments.Mapping mapping;
        private final Runnable more;

        Release(AtomicBoolean closed, AtomicBoolean untracked, SharedSegments.Mapping mapping, Runnable more) {
            this.closed = closed;
            this.untracked = untracked;
            this.mapping = mapping;
            this.more = more;
        }

        /** True if a handle of the object was written where no hold keeps its segment for the reader. */
        public boolean untracked() {
            return untracked.get();
        }

        /** The segment's name (for messages). */
        public String name() {
            return mapping.name();
        }

        /** Releases what the object's close would, unless it was closed already; idempotent. */
        public void run() {
            if (closed.compareAndSet(false, true)) {
                try {
                    if (more != null) {
                        more.run();
                    }
                } finally {
                    mapping.release();
                }
            }
        }
    }

    /** This object's reference to the mapping, for objects that live inside another's segment. */
    protected final SharedSegments.Mapping mapping() {
        return mapping;
    }

    /**
     * Detaches this handle. When no process uses the segment any more it is removed. Idempotent.
     * Using the object afterwards fails once this process has no other handle on the same segment.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            mapping.release();
        }
    }

    /**
     * A pin on the mapping for a wait, so that a {@link #close()} by another thread of this process cannot
     * unmap the segment under the waiter (it wakes, sees the handle closed and leaves); release it in a
     * finally block.
     *
     * @throws IllegalStateException ({@link #closedException()}) if this handle is closed
     */
    protected final SharedSegments.Mapping pinOpen() {
        SharedSegments.Mapping pin;
        try {
            pin = mapping.retain();
        } catch (IllegalStateException unmapped) {
            throw closedException();
        }
        if (isClosed()) {
            pin.release();
            throw closedException();
        }
        return pin;
    }

    /**
     * {@link #close()} for an object whose threads may be waiting on it in this process: runs
     * {@code beforeClose} (its last use of the segment), closes, then {@code wakeWaiters}, all while a pin
     * keeps the segment mapped, so that the woken waiters see the closed flag (their own pins keep the
     * mapping until they leave) and fail instead of waiting for ever.
     *
     * @return false if this handle was already closed (nothing ran)
     */
    protected final boolean closeWaking(Runnable beforeClose, Runnable wakeWaiters) {
        if (isClosed()) {
            return false;
        }
        SharedSegments.Mapping pin;
        try {
            pin = mapping.retain();
        } catch (IllegalStateException alreadyClosed) {
            return false; // another thread closed this handle meanwhile
        }
        try {
            beforeClose.run();
            if (closed.compareAndSet(false, true)) {
                mapping.release();
            }
            // NOTE: after the closed flag, so that the waiters, woken, see it
            wakeWaiters.run();
        } finally {
            pin.release();
        }
        return true;
    }

    protected final boolean isClosed() {
        return closed.get();
    }

    /**
     * Throws {@link #closedException()} if {@link #close()} was called on this handle. Public methods
     * call it first, so that use after close names the object (the JDK's own message, once the mapping
     * is gone, is a bare "Already closed") and fails the same whether or not another handle in this
     * process still maps the segment. One plain read of a flag no other process writes.
     */
    protected final void ensureOpen() {
        if (closed.getPlain()) {
            throw closedException();
        }
    }

    /** What {@code toString()} shows after close, when the shared state can no longer be read. */
    protected final String closedString() {
        return getClass().getSimpleName() + "[name=" + name() + ", closed]";
    }

    /** "SharedLong 'mpv_...' is closed": the one message for use after close. */
    protected final IllegalStateException closedException() {
        return new IllegalStateException(getClass().getSimpleName() + " '" + name() + "' is closed");
    }
}
