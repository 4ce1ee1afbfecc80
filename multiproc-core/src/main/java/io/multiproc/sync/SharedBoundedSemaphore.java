package io.multiproc.sync;

import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;

/**
 * A semaphore that may not be released above its initial permits: Python's
 * {@code multiprocessing.BoundedSemaphore}. Releasing too often throws {@link IllegalStateException}
 * (Python's ValueError) and leaves the count unchanged.
 *
 * <pre>{@code
 * try (SharedBoundedSemaphore s = SharedBoundedSemaphore.create(1)) {
 *     s.acquire(); s.release();
 *     s.release();   // IllegalStateException: released too many times
 * }
 * }</pre>
 */
public final class SharedBoundedSemaphore extends SharedSemaphore {

    SharedBoundedSemaphore(SharedSegments.Mapping mapping, IdleStrategy idle) {
        super(mapping, idle);
    }

    /** A bounded semaphore with {@code permits > 0} permits, which is also its bound. */
    public static SharedBoundedSemaphore create(int permits) {
        return create(permits, IdleStrategy.blocking());
    }

    /** A bounded semaphore with {@code permits > 0} permits whose waiters in this process use {@code idle}. */
    public static SharedBoundedSemaphore create(int permits, IdleStrategy idle) {
        java.util.Objects.requireNonNull(idle, "idle");
        if (permits <= 0) {
            throw new IllegalArgumentException("permits=" + permits + " must be > 0 for a bounded semaphore");
        }
        return new SharedBoundedSemaphore(createSegment(permits, permits, SemaphoreLayout.KIND_BOUNDED), idle);
    }

    public static SharedBoundedSemaphore attach(String name) {
        return new SharedBoundedSemaphore(SyncSegments.attach(name, "SharedBoundedSemaphore", SemaphoreLayout.MAGIC,
                SemaphoreLayout.VERSION, SemaphoreLayout.KIND_BOUNDED), IdleStrategy.blocking());
    }
}
