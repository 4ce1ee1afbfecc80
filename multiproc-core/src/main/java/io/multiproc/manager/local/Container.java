package io.multiproc.manager.local;

import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.EmbeddedLocks;
import io.multiproc.internal.SharedSegments;
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
    /** The generation this proxy was made for (a handle names it; see {@link ContainerLife}). */
    final int generation;
    /** Drops this proxy's hold (once); set by {@link Heap} right after construction. */
    java.lang.ref.Cleaner.Cleanable release;
    /** Made by {@link Items#manage} only to build a nested container: its hold is dropped once the item is written. */
    boolean temporary;
    /**
     * Null for a registered proxy (its own hold, released by its cleaner); for a snapshot view
     * ({@link Heap#view}) the snapshot's anchor, whose reachability keeps the snapshot's holds
     * ({@link DeferredProxies}): a view kept past the loop keeps its container alive through it.
     */
    final Object anchor;
    /**
     * Set by any thread of this process once a handle of this proxy was written for another process (a
     * task, a queue item, a pipe message); volatile, read by the cleaner's thread when the proxy is
     * garbage: a container the manager made is unpinned then only if it never escaped (decision 167).
     */
    volatile boolean escaped;
    /** The thread of this process holding the lock, to refuse re-entry (a compute function using its own map). */
    private Thread holder;

    /** A registered proxy's container: its lock object holds the mapping and is closed with the proxy. */
    Container(Heap heap, long ref, ContainerKind kind, int generation) {
        this(heap, ref, kind, generation, null);
    }

    /**
     * With {@code anchor} non-null, a snapshot view's container: its lock object keeps no reference to
     * the mapping and is never closed (it dies with the view; the heap's detach unmaps, after which
     * {@link #lock} fails on the closed check before touching the lock).
     */
    Container(Heap heap, long ref, ContainerKind kind, int generation, Object anchor) {
        this.heap = heap;
        this.ref = ref;
        this.kind = kind;
        this.generation = generation;
        this.anchor = anchor;
        this.seg = heap.segment(ref);
        this.hdr = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        SharedSegments.Mapping mapping = heap.mappingOf(ref).retain();
        this.lock = EmbeddedLocks.lockAt(mapping, hdr + ContainerLayout.LOCK, IdleStrategy.blocking());
        if (anchor != null) {
            // NOTE: retained only for lockAt, which releases the mapping if the region is not a lock's;
            // the heap's own reference keeps it mapped from here on.
            mapping.release();
        }
    }

    /**
     * Allocates and initialises a container header of {@code kind} whose data is {@code data}; returns its
     * ref. Its life word is 0 until the caller adopts it ({@link Heap#adopt}).
     */
    static long allocate(Heap heap, ContainerKind kind, long data) {
        long ref = heap.allocateContainerHeader();
        MemorySegment s = heap.segment(ref);
        long h = HeapLayout.offset(ref) + BlockLayout.PAYLOAD;
        int generation = s.get(JAVA_INT, h + ContainerLayout.GENERATION);
        s.asSlice(h, ContainerLayout.SIZE).fill((byte) 0);
        s.set(JAVA_INT, h + ContainerLayout.GENERATION, generation);
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
        // NOTE: a snapshot view and a cached proxy of one container are two objects over one lock
        // (decision 132): the shared owner words tell that this thread holds it through the other.
        if (holder == Thread.currentThread() || heap.viewsMade() && EmbeddedLocks.heldByThisThread(lock)) {
            throw new IllegalStateException("recursive update: a function running under " + describe()
                    + "'s lock used the same container");
        }
        // NOTE: the uncontended path is this one CAS; a waiter re-checks the closed flag every slice
        // (a holder in the owner's process may never release: the owner's close closes its lock object).
        if (!lock.tryLock()) {
            heap.awaitLock(lock);
        }
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

    /** Publishes a new data ref with one store (the old one is retired first: the caller frees it). */
    void publishData(long data) {
        heap.retire((long) LONG.get(seg, hdr + ContainerLayout.DATA));
        LONG.setRelease(seg, hdr + ContainerLayout.DATA, data);
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

    /**
     * The serialized form of {@code proxy} (this container's); refused inside another value stored into this
     * proxy's manager ({@link Items#refuseNested}). Unless it is being stored into a container of its own
     * heap (a counted reference), marks the container escaped: another process may attach it, so a
     * container the manager made stays pinned (decision 167).
     */
    ContainerHandle handle(Object proxy) {
        if (!Items.refuseNested(this)) {
            escaped = true;
        }
        ContainerHandle h = new ContainerHandle(heap.name, ref, kind.code, generation);
        // NOTE: the proxy's unpin (its cleaner) must not run before the mark above is set
        java.lang.ref.Reference.reachabilityFence(proxy);
        return h;
    }

    /** True if {@code o} is a proxy of this container (how toString spots a container that holds itself). */
    boolean sameAs(Object o) {
        return o instanceof Proxy p && p.container().ref == ref && p.container().heap.name.equals(heap.name);
    }
}
