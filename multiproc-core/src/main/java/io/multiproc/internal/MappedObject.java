package io.multiproc.internal;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Base of every high-level shared object (values, arrays, locks, queues...): one reference to its
 * segment's process-wide mapping, released once by {@link #close()}. Subclasses serialize as a small
 * handle that re-attaches in the receiving process.
 *
 * <p>Not part of the public API.
 */
public abstract class MappedObject implements AutoCloseable {
    private final SharedSegments.Mapping mapping;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The whole mapped segment; subclasses copy it into locals on hot paths. */
    protected final MemorySegment whole;

    protected MappedObject(SharedSegments.Mapping mapping) {
        this.mapping = mapping;
        this.whole = mapping.segment();
    }

    /** The segment's name in /dev/shm. */
    public final String name() {
        return mapping.name();
    }

    /**
     * The segment's name, for {@code writeReplace}: every subclass's serialized form is made with it, so
     * that a handle encoded into a task, a queue item or a pipe message holds its segment until the
     * receiver attaches ({@link InFlight}).
     */
    public final String nameInFlight() {
        String n = mapping.name();
        InFlight.noteSent(n);
        return n;
    }

    /** This object's reference to the mapping, for objects that live inside another's segment. */
    protected final SharedSegments.Mapping mapping() {
        return mapping;
    }

    /**
     * Detaches this handle. When no process uses the segment any more it is removed. Idempotent.
     * Using the object afterwards fails once this process has no other handle on the same segment.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            mapping.release();
        }
    }

    protected final boolean isClosed() {
        return closed.get();
    }
}
