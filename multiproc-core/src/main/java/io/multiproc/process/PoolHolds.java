package io.multiproc.process;

import io.multiproc.internal.InFlight;
import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.internal.SharedSegments;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Keeps the shared objects a pool's tasks carry alive while those tasks are in flight, so that a caller
 * may close its handle right after submitting (as a child's task or a queue item allows): a task may
 * wait in this process, then in a worker's pipe, long after the call returned. A worker holds what it
 * attached while its program reaches it, then lets it go ({@code Releases.releaseWhenUnreachable}).
 *
 * <p>Every task, function and chunk is encoded inside an {@link InFlight} send bracket; the segments it
 * carried are recorded as held by a small segment of this pool's own ({@link PoolHoldsLayout}), made
 * on the first task that carries any, and counted here per task that carries them ({@link Carried}).
 * When the count of a name falls to zero, its hold stays for a while ({@link #IDLE_KEPT} such names, the
 * oldest dropped first), so a queue sent with every task pays one count update per task, not a registry
 * write; a fresh object per task is let go a few tasks later (decision 191). When the pool ends, its
 * segment is released, and with it every hold left; if this process dies, the registry's sweep does the same.
 *
 * <p>Thread-safe: callers encode on their own threads (and an imap's feeder on its own); tasks end on
 * reader threads.
 */
final class PoolHolds {
    private static final System.Logger LOG = System.getLogger(PoolHolds.class.getName());
    /** Names held with no task in flight that stay held, so that objects sent again pay no registry write. */
    static final int IDLE_KEPT = 16;

    private final String pool;
    /** Names recorded as held by {@link #anchor}, to the number of tasks in flight carrying each. Guarded by this. */
    private final Map<String, Integer> counts = new HashMap<>();
    /** The names in {@link #counts} at zero, oldest first. Guarded by this. */
    private final LinkedHashSet<String> idle = new LinkedHashSet<>();
    /** Null until a task carries a shared object, and again once the pool ended. Guarded by this. */
    private SharedSegments.Mapping anchor;
    /** Set once by {@link #end()}; guarded by this. */
    private boolean ended;

    PoolHolds(String pool) {
        this.pool = pool;
    }

    /**
     * What the encodes of one task (or map, or chunk) carried; {@link #release()} once it needs them no
     * more (its outcome is known). Thread-safe: the caller encodes while a reader thread may end the job.
     */
    final class Carried {
        private List<String> names;
        private boolean released;

        private synchronized boolean add(List<String> more) {
            if (released) {
                return false;
            }
            if (names == null) {
                names = new ArrayList<>(more);
            } else {
                names.addAll(more);
            }
            return true;
        }

        /** True while nothing was added (a task carrying no shared object: the usual case). */
        synchronized boolean isEmpty() {
            return names == null;
        }

        /** The task's outcome is known: its holds count no more. Idempotent. */
        void release() {
            List<String> dropped;
            synchronized (this) {
                if (released) {
                    return;
                }
                released = true;
                dropped = names;
                names = null;
            }
            if (dropped != null) {
                drop(dropped);
            }
        }
    }

    /** A new, empty record of what a task carries. */
    Carried carried() {
        return new Carried();
    }

    /**
     * Runs {@code encode} inside a send bracket and holds what it carried for {@code into}.
     *
     * @throws IllegalStateException naming an object that is closed everywhere (it cannot travel)
     */
    <T> T encode(Supplier<T> encode, Carried into) {
        InFlight flight = InFlight.here();
        int mark = flight.beginSend();
        try {
            T encoded = encode.get();
            if (flight.sentAnySince(mark)) {
                List<String> names = flight.sentSince(mark);
                hold(names);
                if (!into.add(names)) {
                    drop(names); // its job ended meanwhile (a chunk failed): this encode is not sent
                }
            }
            return encoded;
        } finally {
            flight.endSend(mark);
        }
    }

    private synchronized void hold(List<String> names) {
        // NOTE: registry writes under this monitor: a drop racing with a new hold of the same name must not
        // remove the record the hold just wrote
        String parent = anchor();
        if (parent == null) {
            return; // the pool has ended: the task is refused as it is queued
        }
        int added = 0;
        try {
            for (String name : names) {
                Integer n = counts.get(name);
                if (n == null) {
                    SegmentRegistry.addParentHold(name, parent);
                    counts.put(name, 1);
                } else {
                    if (n == 0) {
                        idle.remove(name);
                    }
                    counts.put(name, n + 1);
                }
                added++;
            }
        } catch (NoSuchFileException gone) {
            dropLocked(names.subList(0, added));
            throw new IllegalStateException("shared object '" + names.get(added) + "' is closed: it cannot be sent to a worker of "
                    + pool, gone);
        } catch (IOException e) {
            dropLocked(names.subList(0, added));
            throw new UncheckedIOException("cannot record that " + pool + " holds shared object '"
                    + names.get(added) + "': " + e.getMessage(), e);
        }
    }

    private synchronized void drop(List<String> names) {
        dropLocked(names);
    }

    private void dropLocked(List<String> names) {
        for (String name : names) {
            Integer n = counts.get(name);
            if (n == null || n == 0) {
                continue; // the pool ended meanwhile (end() forgot every count)
            }
            counts.put(name, n - 1);
            if (n == 1) {
                idle.add(name);
            }
        }
        while (idle.size() > IDLE_KEPT) {
            String oldest = idle.iterator().next();
            idle.remove(oldest);
            counts.remove(oldest);
            try {
                SegmentRegistry.dropParentHold(oldest, anchor.name());
            } catch (IOException e) {
                // NOTE: the hold stays until the pool ends, as it did before holds were counted
                LOG.log(System.Logger.Level.DEBUG, pool + ": cannot drop its hold on '" + oldest + "': " + e);
            }
        }
    }

    /** How many names this pool holds now (tests). */
    synchronized int heldCount() {
        return counts.size();
    }

    private String anchor() {
        if (ended) {
            return null;
        }
        if (anchor == null) {
            anchor = SharedSegments.create("mph_", PoolHoldsLayout.SIZE, seg -> SegmentHeader.write(seg, PoolHoldsLayout.MAGIC,
                    PoolHoldsLayout.VERSION, PoolHoldsLayout.KIND));
        }
        return anchor.name();
    }

    /** The pool has ended (its workers are gone): lets go of everything its tasks carried. Idempotent. */
    void end() {
        SharedSegments.Mapping a;
        synchronized (this) {
            ended = true;
            a = anchor;
            anchor = null;
            counts.clear();
            idle.clear();
        }
        if (a != null) {
            a.release();
        }
    }
}
