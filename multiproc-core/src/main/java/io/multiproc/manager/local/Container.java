package io.multiproc.manager.local;

import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.EmbeddedLocks;
import io.multiproc.sync.SharedLock;
import io.multiproc.wait.IdleStrategy;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What every proxy holds: its container's place in the heap, its lock, and its handle. One per
 * container per process (made with the proxy by {@link Heap#proxy}); any number of threads may use it.
 */
final class Container {
    static final VarHandle LONG = JAVA_LONG.varHandle();
    static final VarHandle INT = JAVA_INT.varHandle();

    final Heap heap;
    final long ref;
    final ContainerKind kind;
    /** The segment holding the header, and the header payload's offset in it. */
    final MemorySegment seg;
    final long hdr;
    final SharedLock lock;
    /** The thread of this process holding the lock, to refuse re-entry (a compute function using its own map). */
    private Thread holder;

    Container(Heap heap, long ref, ContainerKind kind) {
        this.heap = heap;
        this.ref = ref;
        this.kind = kind;
        this.seg = heap.segment(ref);
        this.hdr = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        this.lock = EmbeddedLocks.lockAt(heap.mappingOf(ref).retain(), hdr + ContainerLayout.LOCK, IdleStrategy.blocking());
    }

    /** Allocates and initialises a container header of {@code kind} whose data is {@code data}; returns its ref. */
    static long allocate(Heap heap, ContainerKind kind, long data) {
        long ref = heap.allocate(ContainerLayout.SIZE);
        MemorySegment s = heap.segment(ref);
        long h = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        s.asSlice(h, ContainerLayout.SIZE).fill((byte) 0);
        ProcessIdentity me = ProcessIdentity.current();
        s.set(JAVA_INT, h, ContainerLayout.MAGIC);
        s.set(JAVA_INT, h + ContainerLayout.KIND, kind.code);
        s.set(JAVA_LONG, h + ContainerLayout.CREATOR_PID, me.pid());
        s.set(JAVA_LONG, h + ContainerLayout.CREATOR_START, me.startTicks());
        // NOTE: release: the header is complete before the ref can be published by any later store.
        LONG.setRelease(s, h + ContainerLayout.DATA, data);
        return ref;
    }

    /** Takes the container's lock; a holder that finds the previous one died repairs derived fields first. */
    void lock() {
        heap.checkOpen();
        if (holder == Thread.currentThread()) {
            throw new IllegalStateException("recursive update: a function running under " + describe()
                    + "'s lock used the same container");
        }
        lock.lock();
        holder = Thread.currentThread();
        if (lock.previousOwnerDied()) {
            repair();
        }
        if (heap.isDetached()) { // closed while this thread waited
            unlock();
            throw heap.closed();
        }
    }

    void unlock() {
        holder = null;
        lock.unlock();
    }

    /** The data ref (array, table or item); call under the lock. */
    long data() {
        return (long) LONG.getAcquire(seg, hdr + ContainerLayout.DATA);
    }

    /** Publishes a new data ref with one store. */
    void publishData(long data) {
        LONG.setRelease(seg, hdr + ContainerLayout.DATA, data);
    }

    void addReference(long delta) {
        LONG.getAndAdd(seg, hdr + ContainerLayout.REFERENCES, delta);
    }

    /**
     * Recomputes derived fields after a holder died mid-operation: a table's counts. A list's size and
     * a value's item are published by single stores, so they need nothing; leaked blocks stay leaked.
     */
    private void repair() {
        if (kind == ContainerKind.DICT || kind == ContainerKind.SET || kind == ContainerKind.NAMESPACE) {
            Table.recount(this);
        }
    }

    String describe() {
        return "managed " + kind.label + " (manager '" + heap.name + "', ref=" + ref + ")";
    }

    /** The proxy's serialized form. */
    ContainerHandle handle() {
        return new ContainerHandle(heap.name, ref, kind.code);
    }
}
