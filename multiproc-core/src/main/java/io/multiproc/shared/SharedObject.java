package io.multiproc.shared;

import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SharedSegments;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What every shared value and array is: a handle on a named segment in /dev/shm.
 *
 * <p>Serializing one (for example by capturing it in a lambda given to a child process) sends only its
 * kind and segment name; the receiving process re-attaches to the same memory. The segment lives while
 * some process uses it: {@link #close()} in the last live user, or the death of the last users,
 * removes it.
 *
 * <pre>{@code
 * try (SharedLong hits = SharedLong.create(0)) {
 *     ChildProcess.start(() -> hits.incrementAndGet()).join();
 *     System.out.println(hits.get());   // 1
 * }
 * }</pre>
 */
public abstract sealed class SharedObject implements AutoCloseable, Serializable
        permits SharedNumber, SharedNumberArray {
    private final transient SharedSegments.Mapping mapping;
    private final transient AtomicBoolean closed = new AtomicBoolean();
    /** The whole mapped segment; subclasses read it into a final field of their own for hot paths. */
    final transient MemorySegment whole;
    final transient NumberKind kind;

    SharedObject(SharedSegments.Mapping mapping, NumberKind kind) {
        this.mapping = mapping;
        this.whole = mapping.segment();
        this.kind = kind;
    }

    /** The segment's name in /dev/shm. */
    public final String name() {
        return mapping.name();
    }

    /**
     * Detaches this handle. When no process uses the segment any more it is removed. Idempotent.
     * Using the object afterwards fails once this process has no other handle on the same segment.
     */
    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            mapping.release();
        }
    }

    abstract boolean isArray();

    @Serial
    final Object writeReplace() {
        return new Handle(kind, isArray(), name());
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[name=" + name() + "]";
    }

    /** The serialized form: the kind and the segment name; readResolve attaches in the receiver. */
    record Handle(NumberKind kind, boolean array, String name) implements Serializable {
        @Serial
        Object readResolve() throws ObjectStreamException {
            try {
                return array ? SharedNumberArray.attach(name, kind) : SharedNumber.attach(name, kind);
            } catch (UncheckedIOException | IllegalStateException e) {
                InvalidObjectException ioe = new InvalidObjectException("cannot attach shared " + kind + (array ? " array" : "")
                        + " '" + name + "': " + e.getMessage());
                ioe.initCause(e);
                throw ioe;
            }
        }
    }

    /** Creates a segment of {@code size} bytes with a header for this kind; {@code init} fills the rest. */
    static SharedSegments.Mapping create(long magic, int version, NumberKind kind, long size,
                                         java.util.function.Consumer<MemorySegment> init) {
        return SharedSegments.create("mp_", size, seg -> {
            init.accept(seg);
            SegmentHeader.write(seg, magic, version, kind.code);
        });
    }

    /** Attaches to {@code name}, checking that it holds {@code what}; fails naming what is there instead. */
    static SharedSegments.Mapping attach(String name, String what, long magic, int version, NumberKind kind) {
        try {
            return SharedSegments.attach(name, seg -> SegmentHeader.check(seg, name, what, magic, version, kind.code));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot attach " + what + " '" + name + "': " + e.getMessage(), e);
        }
    }
}
