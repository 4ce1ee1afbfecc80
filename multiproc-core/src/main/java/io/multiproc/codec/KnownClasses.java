package io.multiproc.codec;

import java.util.List;

/**
 * multiproc's well-known classes: class refs 1 to {@link #COUNT} of the built-in format name them by
 * index instead of by name, so that a shared object travels as little more than its segment name.
 * Part of the format: append only, never reorder or remove (a removed class keeps its slot).
 *
 * <p>Static-only. A handle record missing here still works, named by its class name.
 */
final class KnownClasses {
    private static final List<String> NAMES = List.of(
            "io.multiproc.shared.SharedObject$Handle",
            "io.multiproc.shared.NumberKind",
            "io.multiproc.sync.AbstractSharedLock$Handle",
            "io.multiproc.sync.SharedSemaphore$Handle",
            "io.multiproc.sync.SharedEvent$Handle",
            "io.multiproc.sync.SharedCondition$Handle",
            "io.multiproc.sync.SharedBarrier$Handle",
            "io.multiproc.manager.local.ContainerHandle");
    static final int COUNT = NAMES.size();
    /** Resolved on first use; a race resolves the same class twice, harmlessly. */
    private static final Class<?>[] CLASSES = new Class<?>[COUNT];

    private KnownClasses() {
    }

    /** The index of {@code type} in this table, or -1. */
    static int indexOf(Class<?> type) {
        int i = NAMES.indexOf(type.getName());
        return i >= 0 && type.getClassLoader() == KnownClasses.class.getClassLoader() ? i : -1;
    }

    static Class<?> get(int index) {
        Class<?> c = CLASSES[index];
        if (c == null) {
            try {
                c = Class.forName(NAMES.get(index), false, KnownClasses.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw Failures.decodeFailed("well-known class index=" + index, e);
            }
            CLASSES[index] = c;
        }
        return c;
    }
}
