package io.multiproc.manager.local;

import io.multiproc.codec.HandleSource;
import io.multiproc.codec.SharedHandle;
import io.multiproc.internal.ShmFiles;
import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.manager.SerializableSupplier;
import io.multiproc.manager.SharedValueProxy;
import io.multiproc.manager.remote.CustomTypes;
import io.multiproc.queue.SharedQueue;
import io.multiproc.sync.SharedBarrier;
import io.multiproc.sync.SharedEvent;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;
import io.multiproc.sync.SharedSemaphore;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;

/**
 * The local {@link Manager}: containers in a shared heap in /dev/shm ({@link Heap}), operated on
 * directly by every process under each container's lock. Named objects live in a names directory (a
 * dict container whose ref is in the root). Not part of the public API; use {@link Manager#start()}.
 */
public final class LocalManager implements Manager, HandleSource, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private final transient Heap heap;
    private final transient ManagedMap<String, Object> directory;
    /**
     * Queues, locks and friends this Manager object made, held weakly: closed with it, or released once the
     * program no longer reaches them (decision 169). Guarded by itself; the cleaner's thread removes.
     */
    private final transient WeakHandles made = new WeakHandles(true);
    /** Made on first register/create; guarded by this. */
    private transient CustomTypes customTypes;
    private transient volatile boolean closed;
    /** True for the object {@link #start} returned: its close destroys the manager. */
    private final transient boolean owns;

    private LocalManager(Heap heap, boolean owns) {
        this.heap = heap;
        this.owns = owns;
        heap.openManager();
        try {
            this.directory = (ManagedMap<String, Object>) heap.proxy(heap.directoryRef());
        } catch (RuntimeException | Error e) {
            heap.closeManager();
            throw e;
        }
    }

    /** Starts a manager called {@code name} (a fresh one if null), owned by this process. */
    public static Manager start(String name) {
        Heap heap = Heap.create(name != null ? name : ShmFiles.randomName("", 6));
        try {
            ManagedMap<String, Object> dir = ManagedMap.create(heap, ContainerKind.DICT);
            ContainerLife.addReference(heap, dir.container().ref); // the root's: the directory is never freed
            heap.publishDirectory(dir.container().ref);
            return new LocalManager(heap, true);
        } catch (RuntimeException e) {
            heap.destroy();
            throw e;
        }
    }

    /** This process's view of the live manager {@code name}. */
    public static Manager attach(String name) {
        return Heap.withAttached(name, h -> new LocalManager(h, false));
    }

    /** The proxy of the named object {@code name} of manager {@code manager}, of whatever kind, if any. */
    public static Optional<Object> lookup(String manager, String name) {
        return Optional.ofNullable(Heap.withAttached(manager,
                h -> ((ManagedMap<String, Object>) h.proxy(h.directoryRef())).get(name)));
    }

    /** The proxy of the container at {@code ref} in manager {@code manager} (see {@link ManagedContainer#ref()}). */
    public static ManagedContainer byRef(String manager, long ref) {
        return Heap.withAttached(manager, h -> h.proxy(ref));
    }

    /**
     * The values of {@code keys} in {@code dict}, in order, null for an absent key: read under one lock
     * hold when {@code dict} is a local manager's dict (all from one moment, one lock round trip instead
     * of one per key), else key by key. What a batch read such as a remote {@code getAll} calls.
     */
    public static <K, V> List<V> getAll(Map<K, V> dict, Collection<? extends K> keys) {
        if (dict instanceof ManagedMap<K, V> m) {
            return m.getAll(keys);
        }
        List<V> out = new ArrayList<>(keys.size());
        for (K k : keys) {
            out.add(dict.get(k));
        }
        return out;
    }

    /**
     * Replaces the whole of {@code list} with {@code replacement} if it still holds {@code expected}, element
     * by element (a managed container matches only itself, as in {@code remove(Object)}); false, changing
     * nothing, if another process or client changed it meanwhile. One lock hold and one publication for a
     * local manager's list, else under the list's monitor (a synchronized list's). What a remote client's
     * {@code removeIf}, {@code replaceAll} and {@code sort} publish with: they run their function on a
     * snapshot and retry on a conflict.
     */
    public static <E> boolean replaceIfUnchanged(List<E> list, List<?> expected, List<? extends E> replacement) {
        if (list instanceof ManagedList<E> m) {
            return m.replaceIfUnchanged(expected, replacement);
        }
        synchronized (list) {
            if (list.size() != expected.size()) {
                return false;
            }
            for (int i = 0; i < expected.size(); i++) {
                if (!Items.sameForSwap(list.get(i), expected.get(i))) {
                    return false;
                }
            }
            list.clear();
            list.addAll(replacement);
            return true;
        }
    }

    /** Bytes of /dev/shm the manager's heap segments take (reserved; for reports). */
    public long heapBytes() {
        return heap.mappedBytes();
    }

    /** Bytes carved from the heap so far (for reports). */
    public long heapBytesCarved() {
        return heap.carvedBytes();
    }

    /**
     * Bytes of heap blocks in use: containers, their arrays and tables, items, and whatever dead writers
     * left allocated until a {@link #reclaim()} (walks the heap: for reports and tests).
     */
    public long heapBytesInUse() {
        checkOpen();
        return Reclaimer.bytesInUse(heap);
    }

    /** How many proxies this process keeps in its cache (snapshot views are not cached): for tests. */
    int cachedProxies() {
        return heap.cachedProxies();
    }

    /**
     * Bytes of heap blocks live data needs (what live containers reach, plus the process table); equal to
     * {@link #heapBytesInUse()} when nothing leaked and no operation is running. Locks each container in turn.
     */
    public long heapBytesReachable() {
        checkOpen();
        return Reclaimer.bytesReachable(heap);
    }

    /**
     * Gives back what processes that died left in the heap: their holds on nested containers (freeing
     * those nothing else keeps), blocks they allocated and never published or unpublished and never
     * freed, their cached blocks and chunk rests. The owner also does this by itself about once a
     * second when a process died. Returns how many dead processes were swept.
     */
    public int reclaim() {
        checkOpen();
        return Reclaimer.sweepDeadProcesses(heap);
    }

    @Override
    public String name() {
        return heap.name;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("manager '" + heap.name + "' is closed");
        }
        heap.checkOpen();
    }

    @Override
    public <E> List<E> list() {
        checkOpen();
        return pinned(ManagedList.create(heap));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <E> List<E> list(String name) {
        return (List<E>) named(name, ContainerKind.LIST, () -> ManagedList.create(heap));
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict() {
        checkOpen();
        return pinned(ManagedMap.create(heap, ContainerKind.DICT));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <K, V> ConcurrentMap<K, V> dict(String name) {
        return (ConcurrentMap<K, V>) named(name, ContainerKind.DICT, () -> ManagedMap.create(heap, ContainerKind.DICT));
    }

    @Override
    public Namespace namespace() {
        checkOpen();
        return pinned(ManagedNamespace.create(heap));
    }

    @Override
    public Namespace namespace(String name) {
        return (Namespace) named(name, ContainerKind.NAMESPACE, () -> ManagedNamespace.create(heap));
    }

    @Override
    public <T> SharedValueProxy<T> value(T initial) {
        checkOpen();
        return pinned(ManagedValue.create(heap, initial));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> SharedValueProxy<T> value(String name, T initial) {
        return (SharedValueProxy<T>) named(name, ContainerKind.VALUE, () -> ManagedValue.create(heap, initial));
    }

    /**
     * A container made by {@code list()}, {@code dict()}... gets the manager's own reference, so a proxy in
     * flight to a child never names a freed container (the parent may drop its proxy as soon as the task
     * is sent). Once the proxy returned here is garbage, that reference goes unless the proxy escaped
     * (a handle of it was written for another process): then the container lives until the manager
     * closes. So a job loop's {@code results.put(job, m.list())} ... {@code results.remove(job)} frees the
     * list as nested containers are freed: when nothing refers to it and no process holds a proxy of it
     * (decision 167; see {@link ContainerLife}).
     */
    private <P extends Proxy> P pinned(P proxy) {
        Container c = proxy.container();
        ContainerLife.addReference(heap, c.ref);
        heap.pin();
        Heap.CLEANER.register(proxy, () -> heap.unpin(c)); // NOTE: the action must not reach the proxy
        return proxy;
    }

    /** Gets or creates the named container, atomically (under the directory's lock). */
    private Object named(String name, ContainerKind kind, Supplier<Proxy> create) {
        checkOpen();
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("name=" + (name == null ? "null" : "''") + " must be a non-empty string");
        }
        Object found = directory.computeIfAbsent(name, k -> create.get());
        if (!(found instanceof Proxy p) || p.kind() != kind) {
            String what = found instanceof Proxy p ? p.kind().label : found.getClass().getName();
            throw new IllegalStateException("name='" + name + "' is a " + what + ", not a " + kind.label
                    + " (manager '" + heap.name + "')");
        }
        return found;
    }

    // ---- the existing shared objects ----------------------------------------------------------------

    /**
     * Records a shared object this manager made. Once the program no longer reaches it, this process's
     * handle is released (the segment goes with its last user, as a CPython proxy's referent goes with its
     * last proxy), unless a handle of it was written where no hold keeps the segment for its reader (a
     * container item, the program's own stream): then it stays until the manager closes, as before.
     */
    private synchronized <T extends AutoCloseable> T made(T object) {
        try {
            checkOpen();
        } catch (IllegalStateException closed) {
            try {
                object.close(); // NOTE: made just before the check: nothing else would ever release it
            } catch (Exception e) {
                closed.addSuppressed(e);
            }
            throw closed;
        }
        return made.add(object);
    }

    /** Shared objects this Manager object made and holds now (for tests). */
    int madeCount() {
        return made.size();
    }

    /** Handles this process decoded from the manager's items and holds now (for tests). */
    int decodedCount() {
        return heap.decodedHandles();
    }

    @Override
    public <E> BlockingQueue<E> queue() {
        return made(SharedQueue.create(Integer.MAX_VALUE));
    }

    @Override
    public <E> BlockingQueue<E> queue(int maxItems) {
        return made(SharedQueue.create(maxItems));
    }

    @Override
    public Lock lock() {
        return made(SharedLock.create());
    }

    @Override
    public Lock rlock() {
        return made(SharedRLock.create());
    }

    @Override
    public Condition condition(Lock lock) {
        checkOpen();
        if (lock instanceof SharedRLock r) {
            return made(r.newCondition());
        }
        if (lock instanceof SharedLock l) {
            return made(l.newCondition());
        }
        throw new IllegalArgumentException("lock=" + lock + " is not a lock from a local manager's lock() or rlock()");
    }

    @Override
    public SemaphoreProxy semaphore(int permits) {
        return new Semaphore(made(SharedSemaphore.create(permits)));
    }

    @Override
    public EventProxy event() {
        return new Event(made(SharedEvent.create()));
    }

    @Override
    public BarrierProxy barrier(int parties) {
        return new Barrier(made(SharedBarrier.create(parties)));
    }

    @Override
    public <T> void register(String typeId, SerializableSupplier<? extends T> factory, Class<T> exposedInterface) {
        customTypes().register(typeId, factory, exposedInterface);
    }

    @Override
    public <T> T create(String typeId) {
        return customTypes().create(typeId);
    }

    /** Custom types live in a server JVM this process starts on first use; it belongs to this Manager object. */
    private synchronized CustomTypes customTypes() {
        checkOpen();
        if (customTypes == null) {
            customTypes = new CustomTypes(heap.name);
        }
        return customTypes;
    }

    /**
     * The owner's close removes every container, segment and shared object of the manager; proxies
     * anywhere fail afterwards with IllegalStateException naming it. An attached Manager object's close
     * closes the shared objects it made; once this process's Manager objects of the manager are all
     * closed and it reaches no proxy of its containers, the heap is unmapped here (at once, or when the
     * last such proxy is released) and its row in the process table given back (decision 190).
     */
    @Override
    public void close() {
        List<AutoCloseable> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = new ArrayList<>();
            if (customTypes != null) {
                toClose.add(customTypes::close);   // first: the server may hold proxies of containers
            }
            toClose.addAll(made.takeAll());
        }
        RuntimeException failure = null;
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("manager '" + heap.name + "': closing " + c + " failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (owns) {
            heap.destroy();
        } else {
            heap.closeManager(); // the last one here unmaps the heap once no proxy of it is in use here
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** A manager captured by a task or sent through a queue travels as its name and attaches on arrival. */
    @Serial
    Object writeReplace() {
        return new Handle(heap.name);
    }

    record Handle(String name) implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            return LocalManager.attach(name);
        }
    }

    @Override
    public String toString() {
        return "Manager[name=" + heap.name + (owns ? ", owner" : ", attached") + (closed ? ", closed" : "") + "]";
    }

    /**
     * {@link SemaphoreProxy} over a {@link SharedSemaphore}. Serializable as its component (a handle), so a
     * child's task may capture it and a queue may carry it, as the Javadoc of the proxies shows.
     */
    record Semaphore(SharedSemaphore s) implements SemaphoreProxy, Serializable {
        @Override
        public void acquire() throws InterruptedException {
            s.acquire();
        }

        @Override
        public boolean tryAcquire() {
            return s.tryAcquire();
        }

        @Override
        public boolean tryAcquire(Duration timeout) throws InterruptedException {
            return s.tryAcquire(timeout);
        }

        @Override
        public void release() {
            s.release();
        }

        @Override
        public int availablePermits() {
            return s.availablePermits();
        }
    }

    /** {@link EventProxy} over a {@link SharedEvent}; travels as {@link Semaphore} does. */
    record Event(SharedEvent e) implements EventProxy, Serializable {
        @Override
        public void set() {
            e.set();
        }

        @Override
        public void clear() {
            e.clear();
        }

        @Override
        public boolean isSet() {
            return e.isSet();
        }

        @Override
        public boolean await() throws InterruptedException {
            return e.await();
        }

        @Override
        public boolean await(Duration timeout) throws InterruptedException {
            return e.await(timeout);
        }
    }

    /** {@link BarrierProxy} over a {@link SharedBarrier}; travels as {@link Semaphore} does. */
    record Barrier(SharedBarrier b) implements BarrierProxy, Serializable {
        @Override
        public int await() throws InterruptedException, BrokenBarrierException {
            return b.await();
        }

        @Override
        public int await(Duration timeout) throws InterruptedException, BrokenBarrierException, TimeoutException {
            return b.await(timeout);
        }

        @Override
        public int getParties() {
            return b.getParties();
        }

        @Override
        public int getNumberWaiting() {
            return b.getNumberWaiting();
        }

        @Override
        public boolean isBroken() {
            return b.isBroken();
        }

        @Override
        public void reset() {
            b.reset();
        }

        @Override
        public void abort() {
            b.abort();
        }
    }
}
