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

    /** A plain lock over the region at {@code offset}, waiting with {@code idle}; takes over {@code mapping}'s reference. */
    public static SharedLock lockAt(SharedSegments.Mapping mapping, long offset, IdleStrategy idle) {
        return new SharedLock(mapping, offset, true, idle);
    }

    /** A reentrant lock over the 128-byte region at {@code offset}; takes over {@code mapping}'s reference. */
    public static SharedRLock rlockAt(SharedSegments.Mapping mapping, long offset) {
        return new SharedRLock(mapping, offset, true, IdleStrategy.blocking());
    }
}
