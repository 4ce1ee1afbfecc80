package io.multiproc.shared;

import io.multiproc.codec.SharedHandle;
import io.multiproc.internal.MappedObject;
import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SharedSegments;
import io.multiproc.internal.EmbeddedLocks;
import io.multiproc.sync.SharedRLock;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;

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
public abstract sealed class SharedObject extends MappedObject implements Serializable
        permits SharedNumber, SharedNumberArray {
    final transient NumberKind kind;

    SharedObject(SharedSegments.Mapping mapping, NumberKind kind) {
        super(mapping);
        this.kind = kind;
    }

    /**
     * Created on first use by {@link #getLock()}; closed with this object. Written under this object's
     * monitor, as {@link #close()} reads it: a lock is either made before the close (which closes it) or
     * not at all.
     */
    private transient volatile SharedRLock lock;

    /**
     * A reentrant lock living in this object's own segment, for compound updates that must not
     * interleave with other processes' (like Python's {@code get_lock()}). Every handle on the same
     * object, in any process, sees the same lock. Single atomic operations need no lock.
     *
     * <pre>{@code
     * SharedRLock l = balance.getLock();
     * l.lock();
     * try { if (balance.get() >= 30) balance.set(balance.get() - 30); } finally { l.unlock(); }
     * }</pre>
     */
    public final SharedRLock getLock() {
        ensureOpen();
        SharedRLock l = lock;
        if (l == null) {
            synchronized (this) {
                l = lock;
                if (l == null) {
                    // NOTE: checked again under the monitor close() takes: a close() that ran since
                    // ensureOpen() released this handle's mapping, and a lock made now would hold the
                    // segment with nobody left to close it
                    ensureOpen();
                    l = EmbeddedLocks.rlockAt(mapping().retain(), lockOffset());
                    lock = l;
                }
            }
        }
        return l;
    }

    /** Also closes the object's {@link #getLock()} handle, if one was made. */
    @Override
    public void close() {
        synchronized (this) { // with getLock(): see lock
            SharedRLock l = lock;
            if (l != null) {
                l.close();
            }
            super.close();
        }
    }

    /** Offset of the 128-byte lock area in this object's segment. */
    abstract long lockOffset();

    abstract boolean isArray();

    @Serial
    final Object writeReplace() {
        return new Handle(kind, isArray(), nameInFlight());
    }

    @Override
    public String toString() {
        return isClosed() ? closedString() : getClass().getSimpleName() + "[name=" + name() + "]";
    }

    /** The serialized form: the kind and the segment name; readResolve attaches in the receiver. */
    record Handle(NumberKind kind, boolean array, String name) implements Serializable, SharedHandle {
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
