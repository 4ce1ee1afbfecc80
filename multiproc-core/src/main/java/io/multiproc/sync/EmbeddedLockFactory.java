package io.multiproc.sync;

import io.multiproc.internal.EmbeddedLocks;
import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;

import java.lang.foreign.MemorySegment;

/**
 * Makes the locks of {@link EmbeddedLocks} (regions inside another object's segment): it lives here
 * because the lock constructors and {@link LockLayout} are package-private, and is installed there once,
 * when {@link SharedLock} is initialized. Not part of the public API.
 */
final class EmbeddedLockFactory implements EmbeddedLocks.Factory {
    @Override
    public SharedLock lockAt(SharedSegments.Mapping mapping, long offset, IdleStrategy idle) {
        mark(mapping, offset, false);
        return new SharedLock(mapping, offset, true, idle);
    }

    @Override
    public SharedRLock rlockAt(SharedSegments.Mapping mapping, long offset) {
        mark(mapping, offset, true);
        return new SharedRLock(mapping, offset, true, IdleStrategy.blocking());
    }

    @Override
    public boolean heldByThisThread(SharedLock lock) {
        return lock.heldByThisThread();
    }

    private static void mark(SharedSegments.Mapping mapping, long offset, boolean reentrant) {
        try {
            String what = reentrant ? "SharedRLock" : "SharedLock";
            MemorySegment seg = mapping.segment();
            if ((offset & 7) != 0 || offset < 0 || offset > seg.byteSize() - LockLayout.REGION_SIZE) {
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
