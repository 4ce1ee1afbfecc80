package io.multiproc.manager.local;

import io.multiproc.internal.MappedObject;
import io.multiproc.internal.Releases;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Shared objects (queues, locks...) held weakly for a manager in this process: once the program no longer
 * reaches one, a {@link java.lang.ref.Cleaner} releases this process's handle (never touching the object),
 * unless a handle of it was written where no hold keeps the segment for its reader
 * ({@link MappedObject.Release#untracked()}); what is left when the manager closes is ended then.
 *
 * <p>Two uses: what a manager made ({@code m.queue()}..., decision 169: its close closes the reachable
 * ones, so their users see them closed), and the handles this process decoded from the manager's items
 * ({@code d.get("lock")}, decision 171: their segments are held by the manager's root, so releasing a
 * handle takes nothing from anyone; its close releases the reachable ones without closing them, so a pipe
 * end read back from a dict does not tell its peer the end closed).
 *
 * <p>Thread-safe: any thread adds, the cleaner's thread removes, the closing thread takes what is left.
 */
final class WeakHandles {
    /** Guarded by itself. */
    private final Set<Held> held = Collections.synchronizedSet(new LinkedHashSet<>());
    private final boolean closeReachable;

    /** With {@code closeReachable}, {@link #takeAll()}'s actions close a still reachable object, else release it. */
    WeakHandles(boolean closeReachable) {
        this.closeReachable = closeReachable;
    }

    /** Holds {@code object}, a shared object; IllegalArgumentException naming its class if it is none. */
    <T> T add(T object) {
        return add(object, Releases.of(object));
    }

    /** Holds {@code object}, whose release ({@link Releases#of}) the caller already has. */
    <T> T add(T object, MappedObject.Release release) {
        Held h = new Held(new WeakReference<>(object), release, closeReachable);
        held.add(h);
        Set<Held> all = held;
        Heap.CLEANER.register(object, () -> { // NOTE: the action must not reach the object
            if (!h.release.untracked()) {
                all.remove(h);
                h.release.run();
            }
        });
        return object;
    }

    int size() {
        return held.size();
    }

    /** Removes everything held and returns what ends each, for the manager's close. */
    List<AutoCloseable> takeAll() {
        synchronized (held) {
            List<AutoCloseable> all = new ArrayList<>(held);
            held.clear();
            return all;
        }
    }

    /** One object: ended by the manager's close (closed or released) while reachable, else released. */
    private record Held(WeakReference<Object> object, MappedObject.Release release, boolean closeReachable)
            implements AutoCloseable {
        @Override
        public void close() throws Exception {
            Object o = object.get();
            if (o instanceof AutoCloseable c && closeReachable) {
                c.close();
            } else {
                release.run();
            }
        }

        @Override
        public boolean equals(Object other) {
            return this == other;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }

        @Override
        public String toString() {
            return "shared object '" + release.name() + "'";
        }
    }
}
