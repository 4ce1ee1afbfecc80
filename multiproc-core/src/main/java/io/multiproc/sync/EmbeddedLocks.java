package io.multiproc.sync;

import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;

/**
 * Locks that live inside another object's segment, such as the one behind a shared value's
 * {@code getLock()} or a queue's producer and consumer locks: a {@link #REGION_SIZE}-byte region in
 * {@link LockLayout}, with every behaviour of a lock in a segment of its own (dead-holder takeover,
 * waiters bit). Not part of the public API.
 */
public final class EmbeddedLocks {
    /** Bytes of the region a lock takes in its host segment (8-aligned offset). */
    public static final long REGION_SIZE = LockLayout.REGION_SIZE;

    private EmbeddedLocks() {
    }

    /**
     * A plain lock over the region at {@code offset}, waiting with {@code idle}; takes over {@code mapping}'s
     * reference (released again if this fails). Marks the region as a lock's, so that handles of it that
     * travel to other processes can be checked there.
     *
     * @throws IllegalStateException if the region is misplaced or already marked as something else
     */
    public static SharedLock lockAt(SharedSegments.Mapping mapping, long offset, IdleStrategy idle) {
        mark(mapping, offset, false);
        return new SharedLock(mapping, offset, true, idle);
    }

    /** A reentrant lock over the region at {@code offset}, like {@link #lockAt}. */
    public static SharedRLock rlockAt(SharedSegments.Mapping mapping, long offset) {
        mark(mapping, offset, true);
        return new SharedRLock(mapping, offset, true, IdleStrategy.blocking());
    }

    private static void mark(SharedSegments.Mapping mapping, long offset, boolean reentrant) {
        try {
            String what = reentrant ? "SharedRLock" : "SharedLock";
            java.lang.foreign.MemorySegment seg = mapping.segment();
            if ((offset & 7) != 0 || offset < 0 || offset > seg.byteSize() - REGION_SIZE) {
                throw new IllegalStateException("segment '" + mapping.name() + "' cannot hold a " + what + " at offset="
                        + offset + " (size=" + seg.byteSize() + ")");
            }
            LockLayout.markRegion(seg, mapping.name(), offset, reentrant);
        } catch (RuntimeException e) {
            mapping.release();
            throw e;
        }
    }
}
