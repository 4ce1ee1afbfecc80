package io.multiproc.process;

import io.multiproc.internal.InFlight;
import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.internal.SharedSegments;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Keeps the shared objects a pool's tasks carry alive until the pool ends, so that a caller may close its
 * handle right after submitting (as a child's task or a queue item allows): a task may wait in this
 * process, then in a worker's pipe, long after the call returned. A worker that attached an object holds
 * it anyway until it exits, so holding it for the pool's life costs no lifetime a worker would not.
 *
 * <p>Every task, function and chunk is encoded inside an {@link InFlight} send bracket; the segments it
 * carried are recorded as held by a small segment of this pool's own ({@link PoolHoldsLayout}), made
 * on the first task that carries any. When the pool ends, that segment is released, and with it every
 * object it held that nobody else uses; if this process dies, the registry's sweep does the same.
 * Each object is recorded once per pool, so a task carrying the same queue every time pays one set
 * lookup after the first.
 *
 * <p>Thread-safe: callers encode on their own threads (and an imap's feeder on its own).
 */
final class PoolHolds {
    private final String pool;
    /** Names recorded as held by {@link #anchor}; added once their record is written (a racing repeat writes it again, harmlessly). */
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    /** Null until a task carries a shared object, and again once the pool ended. Guarded by this. */
    private SharedSegments.Mapping anchor;
    /** Set once by {@link #end()}; guarded by this. */
    private boolean ended;

    PoolHolds(String pool) {
        this.pool = pool;
    }

    /**
     * Runs {@code encode} inside a send bracket and holds what it carried.
     *
     * @throws IllegalStateException naming an object that is closed everywhere (it cannot travel)
     */
    <T> T encode(Supplier<T> encode) {
        InFlight flight = InFlight.here();
        int mark = flight.beginSend();
        try {
            T encoded = encode.get();
            if (flight.sentAnySince(mark)) {
                hold(flight.sentSince(mark));
            }
            return encoded;
        } finally {
            flight.endSend(mark);
        }
    }

    private void hold(List<String> names) {
        for (String name : names) {
            if (held.contains(name)) {
                continue;
            }
            String parent = anchor();
            if (parent == null) {
                return; // the pool has ended: the task is refused as it is queued
            }
            try {
                SegmentRegistry.addParentHold(name, parent);
                held.add(name);
            } catch (NoSuchFileException gone) {
                throw new IllegalStateException("shared object '" + name + "' is closed: it cannot be sent to a worker of "
                        + pool, gone);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot record that " + pool + " holds shared object '" + name + "': "
                        + e.getMessage(), e);
            }
        }
    }

    private synchronized String anchor() {
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
        }
        if (a != null) {
            a.release();
        }
    }
}
