package io.multiproc.sync;

import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;

/**
 * Locks that live inside another object's segment, such as the one behind a shared value's
 * {@code getLock()}. Not part of the public API.
 */
public final class EmbeddedLocks {
    private EmbeddedLocks() {
    }

    /** A reentrant lock over the 128-byte region at {@code offset}; takes over {@code mapping}'s reference. */
    public static SharedRLock rlockAt(SharedSegments.Mapping mapping, long offset) {
        return new SharedRLock(mapping, offset, true, IdleStrategy.blocking());
    }
}
