package io.multiproc.internal;

import java.util.function.Function;

/**
 * The {@link MappedObject.Release} of any shared object, including those that are a front over a
 * mapped object of their package (a queue over its ring), for a holder that lets objects go once they are
 * unreachable (decision 169). {@code io.multiproc.queue} installs its part when {@code SharedQueue} is
 * initialized, as {@code io.multiproc.sync} installs {@link EmbeddedLocks}'s factory. Not part of the
 * public API.
 */
public final class Releases {
    /** Written once, by {@code SharedQueue}'s class initialization. */
    private static volatile Function<Object, MappedObject.Release> fronts;

    private Releases() {
    }

    /** Called once by {@code io.multiproc.queue}. */
    public static void install(Function<Object, MappedObject.Release> f) {
        fronts = f;
    }

    /** {@code object}'s release; IllegalArgumentException naming its class if it is no shared object. */
    public static MappedObject.Release of(Object object) {
        MappedObject.Release r = ofOrNull(object);
        if (r == null) {
            throw new IllegalArgumentException("object=" + object.getClass().getName() + " is not a shared object");
        }
        return r;
    }

    /** {@code object}'s release, or null if it is no shared object. */
    public static MappedObject.Release ofOrNull(Object object) {
        if (object instanceof MappedObject m) {
            return m.detachedRelease();
        }
        Function<Object, MappedObject.Release> f = fronts;
        return f == null ? null : f.apply(object);
    }

    /** Lazily started: only processes that let decoded objects go this way run its thread. */
    private static final class Unreachable {
        static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();
    }

    /**
     * Releases this process's handle of each shared object in {@code attached} (as a decode attached them)
     * once the program no longer reaches it, unless a handle of it was written where no hold keeps its
     * segment for the reader ({@link MappedObject.Release#untracked()}: a pool task's result, say).
     * Released, not closed: a pipe end dropped this way does not tell its peer it closed.
     */
    public static void releaseWhenUnreachable(java.util.List<Object> attached) {
        for (Object shared : attached) {
            MappedObject.Release r = ofOrNull(shared);
            if (r != null) {
                Unreachable.CLEANER.register(shared, () -> { // NOTE: the action must not reach the object
                    if (!r.untracked()) {
                        r.run();
                    }
                });
            }
        }
    }
}
