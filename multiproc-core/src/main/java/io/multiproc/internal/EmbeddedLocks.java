package io.multiproc.internal;

import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;
import io.multiproc.wait.IdleStrategy;

import java.lang.invoke.MethodHandles;

/**
 * Locks that live inside another object's segment, such as the one behind a shared value's
 * {@code getLock()} or a queue's producer and consumer locks: a {@link #REGION_SIZE}-byte region in the
 * lock layout of {@code io.multiproc.sync}, with every behaviour of a lock in a segment of its own
 * (dead-holder takeover, waiters bit). Not part of the public API.
 *
 * <p>Why here and not in {@code io.multiproc.sync}: the module exports {@code sync} but not this package,
 * so other modules cannot make a lock over an arbitrary region of a segment (decision 080). The lock
 * constructors stay package-private in {@code sync}; {@code sync} installs its {@link Factory} here when
 * {@link SharedLock} is initialized, and the first call here initializes it if nothing did yet.
 */
public final class EmbeddedLocks {
    /** Bytes a host reserves for a lock region (zeroed, at an 8-aligned offset). */
    public static final long REGION_SIZE = 128;

    /** Written once, by {@code SharedLock}'s class initialization; read by every call below. */
    private static volatile Factory factory;

    private EmbeddedLocks() {
    }

    /** What {@code io.multiproc.sync} provides: locks over a region, marking it as a lock's. */
    public interface Factory {
        SharedLock lockAt(SharedSegments.Mapping mapping, long offset, IdleStrategy idle);

        SharedRLock rlockAt(SharedSegments.Mapping mapping, long offset);

        boolean heldByThisThread(SharedLock lock);
    }

    /** Called once by {@code io.multiproc.sync}; a second call is a bug. */
    public static void install(Factory f) {
        if (factory != null) {
            throw new IllegalStateException("embedded lock factory already installed");
        }
        factory = f;
    }

    /**
     * A plain lock over the region at {@code offset}, waiting with {@code idle}; takes over {@code mapping}'s
     * reference (released again if this fails). Marks the region as a lock's, so that handles of it that
     * travel to other processes can be checked there.
     *
     * @throws IllegalStateException if the region is misplaced or already marked as something else
     */
    public static SharedLock lockAt(SharedSegments.Mapping mapping, long offset, IdleStrategy idle) {
        return factory().lockAt(mapping, offset, idle);
    }

    /** A reentrant lock over the region at {@code offset}, like {@link #lockAt}. */
    public static SharedRLock rlockAt(SharedSegments.Mapping mapping, long offset) {
        return factory().rlockAt(mapping, offset);
    }

    /**
     * Whether the calling thread holds {@code lock}, read from the lock's shared words: true too when the
     * thread took it through another lock object over the same region (a host that makes several
     * objects of one lock uses this to refuse re-entry instead of waiting for itself).
     */
    public static boolean heldByThisThread(SharedLock lock) {
        return factory().heldByThisThread(lock);
    }

    private static Factory factory() {
        Factory f = factory;
        if (f == null) {
            try {
                MethodHandles.lookup().ensureInitialized(SharedLock.class);
            } catch (IllegalAccessException e) {
                throw new AssertionError("SharedLock is public", e);
            }
            f = factory;
        }
        return f;
    }
}
