package io.multiproc.manager.local;

import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.internal.SharedSegments;
import io.multiproc.internal.EmbeddedLocks;
import io.multiproc.sync.SharedLock;
import io.multiproc.wait.IdleStrategy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

import static io.multiproc.manager.local.BlockLayout.CLASS;
import static io.multiproc.manager.local.BlockLayout.NEXT_FREE;
import static io.multiproc.manager.local.HeapLayout.*;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One process's view of a manager's shared heap: the mapped segments, the allocator, and the proxies
 * this process made for its containers (one per container).
 *
 * <h2>Implementation overview</h2>
 * Blocks come from per-size-class free lists (power-of-two classes, {@link BlockLayout}) or are carved
 * from the newest segment's {@code top}; all of that runs under the heap's alloc lock (an embedded
 * {@link SharedLock} in the root). When the newest segment is full the holder creates the next one
 * (twice the size, or enough for the block), initialises its header, and only then publishes it by
 * raising the segment count (the generation word, release). Other processes map a segment the first
 * time they meet a ref into it (acquire read of the count), so growth costs them nothing until then.
 * <p>Crash consistency: every allocator step publishes with one store (the free list head, or
 * {@code top}), so a holder killed mid-step leaks at most one block and leaves the lists intact; the
 * next holder needs no repair. Container operations allocate their new bytes first, publish them with
 * one store under the container's lock, and free the old ones afterwards.
 * <p>Lifetime: the root segment is held in the registry by the owner only and the other segments by the
 * root, so the owner's close or death removes all of them; attached processes map without holding.
 * An attached process unmaps the heap when its last Manager object of it closed and it reaches no proxy
 * of it ({@link #tryLeave}, giving its process table row back), and drops its view of a manager that
 * was closed or whose owner died on its next operation or its next attach of any manager
 * ({@link #attach}), so a long-lived worker never pins a destroyed manager's memory.
 * Within the heap, a container lives while something refers to it or a process holds a proxy of it
 * ({@link ContainerLife}). This process keeps one proxy per container in a weak cache: making it takes
 * a hold (one shared write per proxy object, none per call or per {@code get} that finds it cached),
 * and a {@link Cleaner} drops the hold once the proxy is unreachable here. This process's holds and
 * the blocks it allocates carry its row in the process table ({@link Holds}), so that a sweep can undo
 * what a dead process left ({@link Reclaimer}).
 */
final class Heap {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    /** Each manager this process has open, by name. */
    private static final ConcurrentHashMap<String, Heap> OPEN = new ConcurrentHashMap<>();

    final String name;
    final boolean owner;
    /**
     * Made inside {@link SharedSegments#privately} (the spares' warm-up of the manager's hot paths): its
     * segments are anonymous memfd mappings of this process, never named in /dev/shm nor registered,
     * and the heap is not in {@link #OPEN}, so nothing can attach to it and nothing is left to remove.
     */
    private final boolean isPrivate;
    private final MemorySegment root;
    private final SharedLock allocLock;
    private final List<SharedSegments.Mapping> mappings = new ArrayList<>(); // guarded by this
    private volatile MemorySegment[] segments;
    /** Drops the holds of proxies this process no longer reaches. */
    static final Cleaner CLEANER = Cleaner.create();
    /** This process's proxy of each container it met, by ref (so each has one lock object here), held weakly. */
    private final ConcurrentHashMap<Long, ProxyRef> proxies = new ConcurrentHashMap<>();
    /** This process's row in the process table: set once, before the heap is shared with other threads. */
    private Holds holds;
    private volatile boolean detached;
    /**
     * Set once, under the holds' monitor, when this process leaves the heap ({@link #tryLeave}): from then
     * on nothing registers a proxy here, and {@link #attach} maps the manager afresh.
     */
    private volatile boolean left;
    /** Open Manager objects of this process over this heap (see {@link #openManager}); guarded by the holds' monitor. */
    private int managers;
    /** Set when the last open Manager object closed, cleared by the next one; guarded by the holds' monitor. */
    private boolean unused;
    /** Proxies from a Manager factory whose cleaner action ({@link #unpin}) has not run yet; guarded by the holds' monitor. */
    private int pins;
    /** This process's block cache (chunks carved without the alloc lock, and blocks it freed). */
    private final LocalBlocks local = new LocalBlocks(this);

    private Heap(String name, boolean owner, boolean isPrivate, SharedSegments.Mapping rootMapping) {
        this.name = name;
        this.owner = owner;
        this.isPrivate = isPrivate;
        this.root = rootMapping.segment();
        this.mappings.add(rootMapping);
        this.segments = new MemorySegment[] {root};
        this.allocLock = EmbeddedLocks.lockAt(rootMapping.retain(), ALLOC_LOCK, IdleStrategy.blocking());
    }

    // ---- opening and closing -------------------------------------------------------------------------

    static Heap create(String name) {
        validate(name);
        java.util.function.Consumer<MemorySegment> init = seg -> {
            FaultPoints.at(FaultPoints.Point.START_BEFORE_HEADER);
            SegmentHeader.write(seg, MAGIC, VERSION, KIND_ROOT);
            seg.set(JAVA_LONG, TOP, ROOT_FIRST_BLOCK);
            seg.set(JAVA_INT, SEGMENT_COUNT, 1);
            // NOTE: the root's last init store, release: an attach by name that reads it non-zero (acquire,
            // headerUnwritten) sees the whole header; before, the heap is still starting
            LONG.setRelease(seg, OWNER_TOKEN, ProcessIdentity.current().token());
        };
        Heap h;
        if (SharedSegments.creatingPrivately()) {
            h = new Heap(name, true, true, SharedSegments.create(rootName(name), PRIVATE_ROOT_SIZE, init));
        } else {
            SharedSegments.Mapping m;
            try {
                m = SharedSegments.createNamed(rootName(name), ROOT_SIZE, init);
            } catch (FileAlreadyExistsException e) {
                throw new IllegalStateException("a manager named '" + name + "' already exists", e);
            }
            h = new Heap(name, true, false, m);
        }
        try {
            FaultPoints.at(FaultPoints.Point.START_BEFORE_PROCESS_TABLE);
            LONG.setRelease(h.root, PROCESS_TABLE, Holds.createTable(h));
            h.holds = Holds.claim(h);
        } catch (RuntimeException e) {
            h.destroy();
            throw e;
        }
        if (h.isPrivate) {
            return h; // only this thread knows it: not attachable by name, nobody else's leftovers to sweep
        }
        OPEN.put(name, h);
        Reclaimer.watch(h);
        return h;
    }

    /**
     * This process's view of the live manager {@code name}, mapping it on first use. A view of a manager
     * that was closed or whose owner died is dropped here, never handed out: a new manager of the same
     * name may exist by now, and a long-lived process (a pool worker) would keep the old one's memory
     * mapped until it next used it.
     */
    static Heap attach(String name) {
        Heap h = name == null ? null : OPEN.get(name); // null: validate names it
        if (h != null && h.isCurrent()) {
            return h; // every decoded proxy comes through here: no validation on this path
        }
        validate(name);
        synchronized (OPEN) {
            dropStale(); // the one this name found, and any other: this process is mapping a heap anyway
            h = OPEN.get(name);
            if (h != null && h.isCurrent()) {
                return h;
            }
            // NOTE: under OPEN's monitor, so a first attach of another manager by this process waits too
            // (at most START_WAIT_NANOS, and only while an owner is between two of its first stores)
            long deadline = System.nanoTime() + START_WAIT_NANOS;
            h = new Heap(name, false, false, mapRoot(name, deadline));
            try {
                h.awaitStarted(deadline);
                h.holds = Holds.claim(h);
            } catch (RuntimeException | Error e) {
                h.detach(); // not in OPEN: the next attach maps afresh
                throw e;
            }
            OPEN.put(name, h);
            return h;
        }
    }

    /**
     * True while this view is of a live manager: not detached here, not closed by its owner, and (in a
     * process that is not the owner) its owner alive. A destroyed heap's mapping still reads its last
     * state, so the closed flag tells a view of a destroyed manager from the live one now at its name.
     */
    private boolean isCurrent() {
        // NOTE: detached first: once detached the root is unmapped and must not be read
        try {
            return !detached && !left && (owner || !isClosedShared());
        } catch (IllegalStateException unmapped) {
            return false; // another thread of this process detached it meanwhile
        }
    }

    /**
     * Detaches every view this process has of a manager that was closed or whose owner died: their
     * segments are gone from /dev/shm, and a mapping would keep their pages allocated. Under OPEN's
     * monitor.
     */
    private static void dropStale() {
        for (Heap h : OPEN.values()) {
            if (!h.owner && !h.isCurrent()) {
                h.detach();
            }
        }
    }

    /**
     * Runs {@code use} on this process's view of manager {@code name}, and again on a fresh view if this
     * process left the one it got meanwhile ({@link #tryLeave}: another thread closed its last Manager
     * object of it between the attach and {@code use}).
     */
    static <T> T withAttached(String name, java.util.function.Function<Heap, T> use) {
        while (true) {
            Heap h = attach(name);
            try {
                return use.apply(h);
            } catch (IllegalStateException e) {
                if (!h.left) {
                    throw e;
                }
            }
        }
    }

    /** Counts a Manager object over this heap; IllegalStateException if this process has left it. */
    void openManager() {
        synchronized (holds) {
            if (left) {
                throw closed();
            }
            managers++;
            unused = false;
        }
    }

    /**
     * A Manager object over this heap closed. In a process that is not the owner, the last one's close
     * leaves the heap once no proxy of it is in use here; views of closed managers are dropped too.
     */
    void closeManager() {
        synchronized (holds) {
            if (--managers == 0) {
                unused = true;
            }
        }
        tryLeave(false);
        synchronized (OPEN) {
            dropStale();
        }
    }

    /**
     * Leaves the heap if this process is not its owner, its Manager objects here are all closed, and no
     * proxy of it is in use here (none that the program still reaches, but the names directory's, which
     * every Manager object keeps; no pending {@link #unpin}): gives its row in the process table back
     * ({@link Holds#leave}) and unmaps every segment. Else a later release of a proxy calls this again.
     * A proxy or Manager object of the manager that this process makes afterwards maps it afresh.
     * {@code released}: called after a proxy's release, which looks only whether any proxy is left
     * (one look per release, not a walk of all of them: the last release finds none).
     */
    void tryLeave(boolean released) {
        Holds hs = holds;
        if (owner || hs == null) {
            return;
        }
        boolean closedShared;
        synchronized (hs) {
            if (!unused || managers > 0 || pins > 0 || left || detached || proxiesInUse(released)) {
                return;
            }
            // NOTE: under the holds' monitor, which registering a proxy and counting a Manager take too:
            // either they came first (and this returned above), or they see left and attach afresh
            left = true;
            closedShared = isClosedShared();
            try {
                if (!closedShared) {
                    hs.leave(local);
                }
            } catch (RuntimeException e) {
                System.getLogger(Heap.class.getName()).log(System.Logger.Level.WARNING, "manager '" + name
                        + "': giving back this process's row failed; a sweep takes it once this process died", e);
            }
            hs.close();
        }
        detachMappings(closedShared); // a live manager's objects this process decoded stay usable while reachable
    }

    /**
     * True if the program here may still reach a proxy of this heap other than the directory's: with
     * {@code anyCached}, if any other is still cached (released or not); else if any other's referent is
     * still set. Under the holds' monitor.
     */
    private boolean proxiesInUse(boolean anyCached) {
        long directory = (long) LONG.getAcquire(root, DIRECTORY);
        if (anyCached) {
            int n = proxies.size();
            return n > 1 || n == 1 && !proxies.containsKey(directory);
        }
        for (java.util.Map.Entry<Long, ProxyRef> e : proxies.entrySet()) {
            if (e.getKey() != directory && e.getValue().get() != null) {
                return true;
            }
        }
        return false;
    }

    /** How long {@link #attach} waits for an owner that is still starting the manager. */
    private static final long START_WAIT_NANOS = 5_000_000_000L;

    /** Thrown by the root check while the owner has not yet written the header; never leaves {@link #mapRoot}. */
    private static final class HeaderUnwritten extends RuntimeException {
        HeaderUnwritten() {
            super(null, null, false, false);
        }
    }

    /**
     * Maps the root segment of manager {@code name} and checks its header, waiting until {@code deadline}
     * while the owner has not written it yet: the name is visible from the owner's create on, first empty
     * (before its size is reserved), then zeros until the owner's init ends ({@link #headerUnwritten}).
     * That is a manager still starting, not "not a manager heap".
     */
    private static SharedSegments.Mapping mapRoot(String name, long deadline) {
        String root = rootName(name);
        while (true) {
            try {
                return SharedSegments.mapUnheld(root, seg -> {
                    if (headerUnwritten(seg)) {
                        throw new HeaderUnwritten(); // not cached: the next try maps afresh, at its new size
                    }
                    SegmentHeader.check(seg, root, "manager heap", MAGIC, VERSION, KIND_ROOT);
                });
            } catch (HeaderUnwritten starting) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("manager '" + name + "' is still starting after "
                            + START_WAIT_NANOS / 1_000_000_000L + " s: its owner has not written the header of '"
                            + root + "'");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
            } catch (NoSuchFileException e) {
                throw new IllegalStateException("no manager named '" + name + "' (closed, or its owner died)", e);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * True while a root segment is as its owner's create leaves it before init has run: empty, or sized
     * with no owner token yet (acquire, paired with init's last store) and a magic that is ours or still
     * zero. Anything else is judged by the header check (another file under the name fails it at once).
     */
    private static boolean headerUnwritten(MemorySegment seg) {
        if (seg.byteSize() == 0) {
            return true;
        }
        if (seg.byteSize() < OWNER_TOKEN + Long.BYTES) {
            return false;
        }
        long magic = seg.get(JAVA_LONG, SegmentHeader.MAGIC_OFFSET);
        return (long) LONG.getAcquire(seg, OWNER_TOKEN) == 0 && (magic == 0 || magic == MAGIC);
    }

    /**
     * Waits until the owner published the process table and the directory: the root segment is visible
     * by name from its creation on, and a row claimed before the table exists would be a word of the
     * root's header. Bounded: an owner stopped or stuck in between fails the attach by name.
     */
    private void awaitStarted(long deadline) {
        // NOTE: acquire reads, paired with the owner's release stores: what the table and the directory
        // refer to is written before they become non-zero
        while ((long) LONG.getAcquire(root, PROCESS_TABLE) == 0 || (long) LONG.getAcquire(root, DIRECTORY) == 0) {
            if (isClosedShared()) {
                throw new IllegalStateException("manager '" + name + "' is closed");
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("manager '" + name + "' is still starting after "
                        + START_WAIT_NANOS / 1_000_000_000L + " s: its owner (pid "
                        + ProcessIdentity.pidOf((long) LONG.get(root, OWNER_TOKEN)) + ") has not published its directory");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
        }
        if (isClosedShared()) {
            throw new IllegalStateException("manager '" + name + "' is closed");
        }
    }

    private static final java.util.regex.Pattern VALID_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private static void validate(String name) {
        if (name == null || !VALID_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name='" + name + "' must be 1 to 64 letters, digits, '_' or '-'");
        }
    }

    private boolean isClosedShared() {
        return (int) INT.getVolatile(root, CLOSED) != 0
                || !ProcessIdentity.isAliveRecently((long) LONG.get(root, OWNER_TOKEN));
    }

    /**
     * Throws IllegalStateException naming the manager if it was closed (here or by its owner), or, in an
     * attached process, if the owner died (checked every {@link #OWNER_CHECK_EVERY} operations: a
     * liveness look-up is cached for 5 ms but still costs a map read).
     */
    void checkOpen() {
        if (detached || (int) INT.getVolatile(root, CLOSED) != 0) {
            throw closed();
        }
        // NOTE: the same branches run in the owner and in every other process: the spares warm this path
        // up on managers they own, and a branch on the per-process 'owner' flag here would be compiled as
        // an uncommon trap that a child's first operation on its parent's manager hits (decision 130).
        if ((++operations[OPERATIONS] & (OWNER_CHECK_EVERY - 1)) == 0) {
            checkOwnerAlive();
        }
    }

    /** Every {@link #OWNER_CHECK_EVERY} operations: a process that is not the owner detaches once the owner died. */
    private void checkOwnerAlive() {
        if (!owner && !ProcessIdentity.isAliveRecently((long) LONG.get(root, OWNER_TOKEN))) {
            detach();
            throw new IllegalStateException("manager '" + name + "' is closed: its owner died");
        }
    }

    private static final int OWNER_CHECK_EVERY = 1024;
    /**
     * Operations since attaching (in the owner too), counted loosely (plain increments from any thread of
     * this process) to pace owner checks: element {@link #OPERATIONS} of its own array, 64 bytes from
     * either end, so that a process whose threads all count here does not also move the cache line of
     * the fields every operation reads ({@code detached}, {@code root}).
     */
    private final int[] operations = new int[2 * OPERATIONS + 1];
    private static final int OPERATIONS = 16;

    IllegalStateException closed() {
        if (!detached && !left) {
            detach(); // a heap this process is leaving: the leaving thread detaches it
        }
        return new IllegalStateException("manager '" + name + "' is closed");
    }

    /** The owner's close: marks the heap closed for everyone, then removes every segment. */
    void destroy() {
        if (detached) {
            return;
        }
        // NOTE: the closed flag goes first, so a process that still maps the heap fails its next
        // operation instead of writing to segments nobody will read again.
        INT.setVolatile(root, CLOSED, 1);
        detach();
        if (isPrivate) {
            return; // nothing named: unmapping removed it
        }
        try {
            SegmentRegistry.unlink(rootName(name));
        } catch (NoSuchFileException gone) {
            // already removed (multiproc clean)
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove manager '" + name + "'", e);
        }
    }

    /** Drops this process's mappings and lock objects; proxies fail afterwards. */
    void detach() {
        Holds hs = holds;
        if (hs != null) {
            hs.close(); // first, outside this monitor: a release in progress finishes before the unmapping
        }
        detachMappings(true);
    }

    /**
     * With {@code releaseDecoded}, also releases the handles of shared objects decoded from items that
     * the program still reaches (the owner closed the manager, or it died: those objects are being
     * removed); without, those stay until unreachable, as if the heap were still mapped.
     */
    private synchronized void detachMappings(boolean releaseDecoded) {
        if (detached) {
            return;
        }
        detached = true;
        OPEN.remove(name, this);
        for (ProxyRef r : proxies.values()) {
            r.container.lock.close();
        }
        proxies.clear();
        for (AutoCloseable h : releaseDecoded ? decoded.takeAll() : List.<AutoCloseable>of()) {
            try {
                h.close(); // releases: before the root's unlink, which then removes what only the root held
            } catch (Exception e) {
                System.getLogger(Heap.class.getName()).log(System.Logger.Level.WARNING, "manager '" + name + "': releasing "
                        + h + " failed", e);
            }
        }
        allocLock.close();
        for (SharedSegments.Mapping m : mappings) {
            m.release();
        }
        mappings.clear();
    }

    boolean isDetached() {
        return detached;
    }

    /** How long a waiter for one of this heap's locks sleeps before it re-checks whether the manager closed. */
    private static final long LOCK_SLICE_NANOS = 50_000_000L;

    /**
     * Takes {@code l}, a lock in this heap whose uncontended attempt just failed, waiting in slices and
     * throwing {@link #closed()} once the manager is closed. Why slices: the owner's close unmaps under
     * its own threads, so a thread of the owner that held {@code l} cannot release it (its lock object
     * is closed) and the owner word keeps a live process's token, which no waiter ever takes over.
     * Interrupts do not end the wait (a container's lock is not interruptible); the flag is restored.
     */
    void awaitLock(SharedLock l) {
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    if (l.tryLock(LOCK_SLICE_NANOS, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (IllegalStateException lockClosed) {
                    if (detached || isClosedShared()) {
                        throw closed(); // this process detached (another of its threads closed it) while this one waited
                    }
                    throw lockClosed;
                }
                if (detached || isClosedShared()) {
                    throw closed();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Takes the heap's alloc lock (see {@link #awaitLock}: the same uncontended CAS, then slices). */
    private void lockAlloc() {
        if (!allocLock.tryLock()) {
            awaitLock(allocLock);
        }
    }

    /** This process's proxy of the live container at {@code ref}, whatever its generation (names, refs). */
    Proxy proxy(long ref) {
        checkOpen();
        checkContainer(ref, -1);
        return proxy(ref, ContainerLife.generation(this, ref));
    }

    /**
     * This process's proxy of generation {@code generation} of the container at {@code ref} (what a
     * handle names); IllegalStateException naming it if that container was freed.
     */
    Proxy proxy(long ref, int generation) {
        ProxyRef r = proxies.get(ref);
        Proxy p = r != null ? r.get() : null;
        if (p != null && r.container.generation == generation) {
            return p; // every get of a nested container comes through here: no shared write
        }
        checkOpen();
        synchronized (holds) {
            r = proxies.get(ref);
            p = r != null ? r.get() : null;
            if (p != null && r.container.generation == generation) {
                return p;
            }
            if (left) {
                throw closed(); // NOTE: under the holds' monitor, as the leave's check: no proxy is registered after it
            }
            ContainerKind kind = checkContainer(ref, generation);
            if (!ContainerLife.tryHold(this, ref, generation)) {
                throw freed(ref, generation);
            }
            return register(ref, kind, generation);
        }
    }

    /** The proxy of a container this process just allocated: its first hold (see {@link ContainerLife#adopt}). */
    Proxy adopt(long ref) {
        synchronized (holds) {
            ContainerKind kind = checkContainer(ref, -1);
            ContainerLife.adopt(this, ref);
            return register(ref, kind, ContainerLife.generation(this, ref));
        }
    }

    private ContainerKind checkContainer(long ref, int generation) {
        MemorySegment s = segment(ref);
        long h = offset(ref) + BlockLayout.PAYLOAD;
        if (ref <= 0 || h + ContainerLayout.SIZE > s.byteSize()) {
            throw new IllegalStateException("manager '" + name + "': ref=" + ref + " is not a container");
        }
        if (s.get(JAVA_INT, h) != ContainerLayout.MAGIC) {
            throw freed(ref, generation);
        }
        return ContainerKind.of(s.get(JAVA_INT, h + ContainerLayout.KIND));
    }

    private IllegalStateException freed(long ref, int generation) {
        return new IllegalStateException("manager '" + name + "': the container ref=" + ref
                + (generation >= 0 ? " (generation " + generation + ")" : "")
                + " was freed: no container referred to it and no process held a proxy of it");
    }

    /**
     * This process's cached proxy of generation {@code generation} of the container at {@code ref}, or
     * null if it has none (no shared write either way).
     */
    Proxy cachedProxy(long ref, int generation) {
        ProxyRef r = proxies.get(ref);
        Proxy p = r != null ? r.get() : null;
        return p != null && r.container.generation == generation ? p : null;
    }

    /** How many proxies this process has cached (registered proxies, not snapshot views): for tests. */
    int cachedProxies() {
        return proxies.size();
    }

    /** This process's holds (its row in the process table). */
    Holds holds() {
        return holds;
    }

    /**
     * A snapshot view of generation {@code generation} of the container at {@code ref}, whose hold the
     * snapshot ({@link DeferredProxies}) counted and keeps while {@code anchor} is reachable: this
     * process's cached proxy if it has one (then the caller drops its extra hold), else a proxy that is
     * neither cached nor registered with the cleaner, whose lock object retains no mapping. A reader of
     * 100,000 nested lists so makes 100,000 short-lived objects and no shared write per list, instead
     * of a cache entry, a cleaner registration and a hold release each (decision 132).
     */
    Proxy view(long ref, int generation, Object anchor) {
        checkOpen();
        Proxy cached = cachedProxy(ref, generation);
        if (cached != null) {
            return cached;
        }
        ContainerKind kind = checkContainer(ref, generation);
        viewsMade = true;
        return newProxy(new Container(this, ref, kind, generation, anchor), kind);
    }

    /**
     * Set (never cleared) by any thread of this process once a view exists: from then on two proxy
     * objects of one container may coexist here, and {@link Container#lock} checks the lock's shared
     * owner words for re-entry, not only its own holder field. Volatile: read on every lock.
     */
    private volatile boolean viewsMade;

    /**
     * Handles of shared objects this process decoded from items ({@code d.get("lock")}): each is a handle
     * of its own over the process's one mapping, which nobody would close. Released once unreachable, and
     * the rest when the heap is detached, so the owner's close removes the object while the program runs on
     * (decision 171). Their segments are held by the root while an item names them (decision 172).
     */
    private final WeakHandles decoded = new WeakHandles(false);

    /** Notes a value just decoded from an item: if it is a shared object's handle, {@link #decoded} holds it. */
    void decodedValue(Object v) {
        if (v instanceof AutoCloseable) {
            io.multiproc.internal.MappedObject.Release r = io.multiproc.internal.Releases.ofOrNull(v);
            if (r != null) {
                decoded.add(v, r);
            }
        }
    }

    /** How many decoded handles this process holds now (for tests). */
    int decodedHandles() {
        return decoded.size();
    }

    boolean viewsMade() {
        return viewsMade;
    }

    /** Under the holds' monitor, with the hold counted: records it and makes the proxy. */
    private Proxy register(long ref, ContainerKind kind, int generation) {
        return register(ref, kind, generation, holds.add(ref));
    }

    /** Under the holds' monitor, with the hold counted and recorded as entry {@code index}: makes the proxy. */
    private Proxy register(long ref, ContainerKind kind, int generation, int index) {
        Container c = new Container(this, ref, kind, generation);
        Proxy p = newProxy(c, kind);
        ProxyRef r = new ProxyRef(p, c);
        c.release = CLEANER.register(p, new Release(this, ref, index, c, r));
        proxies.put(ref, r);
        return p;
    }

    /** A proxy held weakly, with what its release needs (the container object does not reach the proxy). */
    private static final class ProxyRef extends WeakReference<Proxy> {
        final Container container;

        ProxyRef(Proxy p, Container c) {
            super(p);
            this.container = c;
        }
    }

    /** Runs once per proxy: when it became unreachable, or {@link #releaseTemporary} ran it. */
    private record Release(Heap heap, long ref, int index, Container container, ProxyRef key) implements Runnable {
        @Override
        public void run() {
            heap.proxies.remove(ref, key);
            heap.holds.release(index, ref);
            container.lock.close();
            heap.tryLeave(true); // this process's Manager objects of the heap may all be closed
        }
    }

    /**
     * Drops the hold of a proxy this process made only to build a nested container, once the item that
     * refers to it is written (counted): nobody else has that proxy object, so it leaves the cache.
     */
    void releaseTemporary(Container c) {
        c.release.clean();
    }

    /**
     * From the cleaner, once the proxy a manager factory returned for {@code c} is garbage: drops the
     * manager's reference to it unless the proxy escaped (decision 167). Nothing happens once the heap
     * is detached (its memory is unmapped).
     */
    void unpin(Container c) {
        Holds hs = holds;
        if (hs != null && !c.escaped) {
            hs.whileOpen(() -> ContainerLife.dropReference(this, c.ref)); // may free it
        }
        if (hs != null) {
            synchronized (hs) {
                pins--;
            }
            tryLeave(true);
        }
    }

    /** A Manager factory made a proxy whose cleaner will call {@link #unpin}: a leave waits for that. */
    void pin() {
        synchronized (holds) {
            pins++;
        }
    }

    /** This process's row in the process table (the slot its blocks carry). */
    int slot() {
        return holds.slot;
    }

    long processTable() {
        return (long) LONG.getAcquire(root, PROCESS_TABLE);
    }

    private static Proxy newProxy(Container c, ContainerKind kind) {
        return switch (kind) {
            case LIST -> new ManagedList<>(c);
            case DICT -> new ManagedMap<>(c, false);
            case SET -> new ManagedSet<>(c);
            case NAMESPACE -> new ManagedNamespace(c);
            case VALUE -> new ManagedValue<>(c);
        };
    }

    // ---- refs --------------------------------------------------------------------------------------

    /** The mapped segment that {@code ref} points into. */
    MemorySegment segment(long ref) {
        int s = HeapLayout.segment(ref);
        MemorySegment[] segs = segments;
        if (s < segs.length) {
            return segs[s];
        }
        return mapUpTo(s);
    }

    MemorySegment root() {
        return root;
    }

    SharedSegments.Mapping mappingOf(long ref) {
        segment(ref);
        synchronized (this) {
            return mappings.get(HeapLayout.segment(ref));
        }
    }

    private MemorySegment mapUpTo(int s) {
        checkOpen(); // outside the monitor: a closed heap detaches, which takes the holds' monitor first
        synchronized (this) {
            return mapUpToLocked(s);
        }
    }

    private MemorySegment mapUpToLocked(int s) {
        int published = (int) INT.getAcquire(root, SEGMENT_COUNT);
        if (s >= published) {
            throw new IllegalStateException("manager '" + name + "': ref into segment " + s
                    + " but only " + published + " exist (corrupt ref)");
        }
        MemorySegment[] segs = segments;
        if (s < segs.length) {
            return segs[s];
        }
        // NOTE: mappings.get(i) is segment i's mapping (mappingOf): the new ones are committed together with
        // segments, all or none, so a failure part-way leaves both as they were and the next call maps again
        List<SharedSegments.Mapping> mapped = new ArrayList<>();
        try {
            for (int i = segs.length; i < published; i++) {
                String ext = extentName(name, i);
                try {
                    mapped.add(SharedSegments.mapUnheld(ext, seg -> SegmentHeader.check(seg, ext,
                            "manager heap extent", MAGIC, VERSION, KIND_EXTENT)));
                } catch (IOException e) {
                    throw new UncheckedIOException("manager '" + name + "': cannot map " + ext, e);
                }
            }
        } catch (RuntimeException | Error e) {
            for (SharedSegments.Mapping m : mapped) {
                m.release();
            }
            throw e;
        }
        MemorySegment[] grown = java.util.Arrays.copyOf(segs, published);
        for (int i = 0; i < mapped.size(); i++) {
            grown[segs.length + i] = mapped.get(i).segment();
        }
        mappings.addAll(mapped);
        segments = grown;
        return grown[s];
    }

    // ---- allocation ----------------------------------------------------------------------------------

    /**
     * A block whose payload holds at least {@code payload} bytes, tagged with this process's slot;
     * returns its ref (payload at ref + 8). Small blocks come from this process's cache
     * ({@link LocalBlocks}) without the heap's lock.
     */
    long allocate(long payload) {
        int c = BlockLayout.classFor(payload);
        if (c >= SIZE_CLASSES) {
            throw new IllegalArgumentException("size=" + payload + " bytes is too large for a manager heap block");
        }
        checkOpen();
        if (c <= LocalBlocks.MAX_CLASS) {
            return local.allocate(c, BlockLayout.used(BlockLayout.KIND_BLOCK, holds.slot));
        }
        return allocateShared(c, BlockLayout.KIND_BLOCK, holds.slot);
    }

    /**
     * Retags this process's new block {@code ref} as an item whose nested reference is counted
     * ({@link BlockLayout#KIND_ITEM}): one release store of its header, after the count (see {@link Items#write}).
     */
    void tagAsItem(long ref) {
        MemorySegment s = segment(ref);
        long off = offset(ref);
        long header = (long) LONG.get(s, off + CLASS);
        LONG.setRelease(s, off + CLASS, BlockLayout.header(BlockLayout.classOf(header),
                BlockLayout.used(BlockLayout.KIND_ITEM, holds.slot)));
    }

    /** A block of class {@code c} from the shared free lists or the newest segment, under the alloc lock. */
    long allocateShared(int c, int kind, int slot) {
        int state = BlockLayout.used(kind, slot);
        lockAlloc();
        try {
            allocLock.previousOwnerDied(); // nothing to repair: every allocator step is one store
            long head = (long) LONG.get(root, FREE_HEADS + 8L * c);
            if (head != 0) {
                MemorySegment s = segment(head);
                long off = offset(head);
                long next = (long) LONG.get(s, off + NEXT_FREE);
                FaultPoints.at(FaultPoints.Point.ALLOC_POPPING);
                LONG.set(root, FREE_HEADS + 8L * c, next);
                LONG.setRelease(s, off + CLASS, BlockLayout.header(c, state));
                return head;
            }
            return carve(c, state);
        } finally {
            allocLock.unlock();
        }
    }

    /**
     * A container header block: a freed one (its generation kept) or a new one (generation 0, from this
     * process's cache like any small block when no freed header waits: no heap-wide lock then).
     */
    long allocateContainerHeader() {
        checkOpen();
        int state = BlockLayout.used(BlockLayout.KIND_BLOCK, holds.slot);
        if ((long) LONG.getAcquire(root, FREE_CONTAINERS) == 0) {
            long ref = local.allocate(BlockLayout.classFor(ContainerLayout.SIZE), state);
            segment(ref).set(JAVA_INT, offset(ref) + BlockLayout.PAYLOAD + ContainerLayout.GENERATION, 0);
            return ref;
        }
        lockAlloc();
        try {
            allocLock.previousOwnerDied();
            long head = (long) LONG.get(root, FREE_CONTAINERS);
            if (head != 0) {
                MemorySegment s = segment(head);
                long off = offset(head);
                LONG.set(root, FREE_CONTAINERS, (long) LONG.get(s, off + NEXT_FREE));
                LONG.setRelease(s, off + CLASS, BlockLayout.header(s.get(JAVA_INT, off + CLASS), state));
                return head;
            }
        } finally {
            allocLock.unlock();
        }
        long ref = allocateShared(BlockLayout.classFor(ContainerLayout.SIZE), BlockLayout.KIND_BLOCK, holds.slot);
        segment(ref).set(JAVA_INT, offset(ref) + BlockLayout.PAYLOAD + ContainerLayout.GENERATION, 0);
        return ref;
    }

    /**
     * Marks a container header freed (under its lock, once its blocks are freed): its generation raised,
     * its magic {@link ContainerLayout#FREED_MAGIC}, so a stale handle or a sweep's trace skips it.
     */
    void markContainerFreed(long ref) {
        MemorySegment s = segment(ref);
        long h = offset(ref) + BlockLayout.PAYLOAD;
        // NOTE: the generation is raised before the header can be reused, so a stale handle never matches
        INT.setRelease(s, h + ContainerLayout.GENERATION, s.get(JAVA_INT, h + ContainerLayout.GENERATION) + 1);
        INT.setRelease(s, h, ContainerLayout.FREED_MAGIC);
    }

    /** Puts a header onto the freed-headers list (marked freed first if it is not: a never-adopted one). */
    void freeContainerHeader(long ref) {
        MemorySegment s = segment(ref);
        long off = offset(ref);
        if (s.get(JAVA_INT, off + BlockLayout.PAYLOAD) == ContainerLayout.MAGIC) {
            markContainerFreed(ref);
        }
        lockAlloc();
        try {
            allocLock.previousOwnerDied();
            long head = (long) LONG.get(root, FREE_CONTAINERS);
            LONG.set(s, off + NEXT_FREE, head);
            LONG.setRelease(s, off + CLASS, BlockLayout.header(s.get(JAVA_INT, off + CLASS), BlockLayout.FREE));
            // NOTE: one store publishes the header as free; killed before it, the header only leaks
            LONG.set(root, FREE_CONTAINERS, ref);
        } finally {
            allocLock.unlock();
        }
    }

    private long carve(int c, int state) {
        long size = BlockLayout.blockSize(c);
        int count = (int) INT.getAcquire(root, SEGMENT_COUNT);
        int last = count - 1;
        MemorySegment s = segment(ref(last, 0));
        long top = (long) LONG.get(s, TOP);
        if (top + size > s.byteSize()) {
            last = grow(count, size);
            s = segment(ref(last, 0));
            top = (long) LONG.get(s, TOP);
        }
        LONG.setRelease(s, top + CLASS, BlockLayout.header(c, state));
        // NOTE: release: the block's header is written before top covers it (a walk never sees garbage)
        LONG.setRelease(s, TOP, top + size);
        return ref(last, top);
    }

    /**
     * Twice the last segment, or enough for a {@code need}-byte block; at most what a ref's offset can
     * address (16 GiB: a block past that got the next segment's number in its ref). A block that cannot
     * fit even there is refused.
     */
    static long nextSegmentSize(long last, long need) {
        long most = 1L << HeapLayout.OFFSET_BITS;
        if (need > most - FIRST_BLOCK) {
            throw new IllegalStateException("a block of " + need + " bytes is larger than a manager heap segment can hold ("
                    + (most - FIRST_BLOCK) + " bytes)");
        }
        return Math.min(Math.max(last * 2, need + FIRST_BLOCK), most);
    }

    /** Creates segment {@code count} big enough for a {@code need}-byte block and publishes it. */
    private int grow(int count, long need) {
        if (count >= MAX_SEGMENTS) {
            throw new IllegalStateException("manager '" + name + "' heap is full: " + count + " segments");
        }
        MemorySegment lastSeg = segment(ref(count - 1, 0));
        long size = nextSegmentSize(lastSeg.byteSize(), need);
        String ext = extentName(name, count);
        java.util.function.Consumer<MemorySegment> init = seg -> {
            SegmentHeader.write(seg, MAGIC, VERSION, KIND_EXTENT);
            seg.set(JAVA_LONG, TOP, FIRST_BLOCK);
        };
        SharedSegments.Mapping m;
        try {
            if (isPrivate) {
                if (!SharedSegments.creatingPrivately()) {
                    throw new IllegalStateException("manager '" + name + "' is private to the thread that warms up with it");
                }
                m = SharedSegments.create(ext, size, init);
            } else {
                m = SharedSegments.createDependent(ext, size, rootName(name), init);
            }
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof FileAlreadyExistsException)) {
                throw e;
            }
            // a grower died after creating the file and before publishing it: nobody maps it yet
            try {
                SegmentRegistry.unlink(ext);
            } catch (IOException again) {
                e.addSuppressed(again);
                throw e;
            }
            return grow(count, need);
        }
        synchronized (this) {
            mappings.add(m);
            MemorySegment[] segs = segments;
            MemorySegment[] grown = java.util.Arrays.copyOf(segs, count + 1);
            grown[count] = m.segment();
            segments = grown;
        }
        FaultPoints.at(FaultPoints.Point.GROW_BEFORE_PUBLISH);
        // NOTE: release: the new segment's header and top are written before anyone can learn of it.
        INT.setRelease(root, SEGMENT_COUNT, count + 1);
        return count;
    }

    /**
     * Tags a block this process is about to unpublish (under the lock of the container that reaches it)
     * with its own slot, keeping its kind: killed before freeing it, the block is then this process's
     * to reclaim, and a sweep never mistakes it for another dead writer's unreachable block.
     */
    void retire(long ref) {
        if (ref <= 0) {
            return; // none, or an inline word
        }
        MemorySegment s = segment(ref);
        long off = offset(ref);
        long header = (long) LONG.get(s, off + CLASS);
        int state = BlockLayout.stateOf(header);
        LONG.setRelease(s, off + CLASS, BlockLayout.header(BlockLayout.classOf(header),
                BlockLayout.used(BlockLayout.kind(state), holds.slot)));
    }

    /** Serializes this process's sweeps of this heap ({@link Reclaimer}). */
    final Object reclaimLock = new Object();

    /** Frees a block: small ones go to this process's cache, the others to the shared free lists. */
    void free(long ref) {
        if (ref == 0) {
            return;
        }
        int c = segment(ref).get(JAVA_INT, offset(ref) + CLASS);
        if (c <= LocalBlocks.MAX_CLASS && local.free(ref, c, holds.slot)) {
            return;
        }
        freeShared(ref, c);
    }

    /** Returns a block to its class's shared free list, under the alloc lock. */
    void freeShared(long ref, int c) {
        MemorySegment s = segment(ref);
        long off = offset(ref);
        lockAlloc();
        try {
            allocLock.previousOwnerDied();
            long head = (long) LONG.get(root, FREE_HEADS + 8L * c);
            LONG.set(s, off + NEXT_FREE, head);
            LONG.setRelease(s, off + CLASS, BlockLayout.header(c, BlockLayout.FREE));
            // NOTE: one store publishes the block as free; killed before it, the block only leaks
            LONG.set(root, FREE_HEADS + 8L * c, ref);
        } finally {
            allocLock.unlock();
        }
    }

    /** Payload capacity of the block at {@code ref}. */
    long capacity(long ref) {
        return BlockLayout.blockSize(segment(ref).get(JAVA_INT, offset(ref) + CLASS)) - BlockLayout.PAYLOAD;
    }

    /** Bytes carved from the heap's segments so far (blocks in use, cached or free). */
    long carvedBytes() {
        int count = (int) INT.getAcquire(root, SEGMENT_COUNT);
        long total = 0;
        for (int i = 0; i < count; i++) {
            MemorySegment s = segment(ref(i, 0));
            total += (long) LONG.getAcquire(s, TOP) - (i == 0 ? ROOT_FIRST_BLOCK : FIRST_BLOCK);
        }
        return total;
    }

    /** Total bytes of the heap's segments (for reports). */
    long mappedBytes() {
        int count = (int) INT.getAcquire(root, SEGMENT_COUNT);
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += segment(ref(i, 0)).byteSize();
        }
        return total;
    }

    long directoryRef() {
        return (long) LONG.getAcquire(root, DIRECTORY);
    }

    void publishDirectory(long ref) {
        LONG.setRelease(root, DIRECTORY, ref);
    }
}
