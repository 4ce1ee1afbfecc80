package io.multiproc.manager;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/**
 * Python's {@code multiprocessing.Manager}: shared lists, maps, namespaces and values, plus the shared
 * queues, locks and friends, under one name and one lifetime.
 *
 * <pre>{@code
 * try (Manager m = Manager.start()) {
 *     List<Object> ls = m.list();
 *     ChildProcess c = ChildProcess.start(() -> { for (int i = 0; i < 10_000; i++) ls.add(i); });
 *     c.join();
 *     ls.size();                                   // 10000
 *     ls.add(new ArrayList<Integer>());            // stored as a managed list
 *     ((List<Integer>) ls.get(10_000)).add(1);     // a live proxy: the change is seen by everyone
 *     ConcurrentMap<String, Integer> d = m.dict("config");  // named: Manager.attach(m.name()).dict("config")
 *     d.merge("hits", 1, Integer::sum);            // atomic across processes
 * }
 * }</pre>
 *
 * <p>Implementations: {@link #start()} (the built-in containers live in shared memory; every process
 * operates on them directly under each container's own cross-process lock, no server round trip),
 * {@link #connect} (a remote manager over TCP) and, in module multiproc-redis, Redis/Valkey. Proxies
 * ({@code List}, {@code ConcurrentMap}, {@link Namespace}, {@link SharedValueProxy}) travel in tasks,
 * queues and pipes like other shared objects, and re-attach in the receiving process.
 *
 * <p>Errors keep the {@code java.util} types (IndexOutOfBounds, NoSuchElement, ClassCast, NullPointer,
 * UnsupportedOperation). Iterators, {@code toString} and bulk reads work on a snapshot taken under the
 * container's lock. A proxy used after its manager closed throws {@code IllegalStateException} naming
 * the manager.
 */
public interface Manager extends AutoCloseable {

    /** Starts a local manager with a fresh name; this process owns it (its close or death removes everything). */
    static Manager start() {
        return io.multiproc.manager.local.LocalManager.start(null);
    }

    /**
     * Starts a local manager called {@code name} (letters, digits, '_' and '-', at most 64);
     * IllegalStateException if a live manager already has that name.
     */
    static Manager start(String name) {
        return io.multiproc.manager.local.LocalManager.start(name);
    }

    /** Attaches to the live local manager called {@code name}; its owner keeps owning it. */
    static Manager attach(String name) {
        return io.multiproc.manager.local.LocalManager.attach(name);
    }

    /**
     * A manager served by {@link #serve} on another host (CPython's {@code BaseManager(address, authkey)}):
     * its lists, dicts, namespaces and values make requests over TCP. A wrong key gets
     * {@link AuthenticationException}. See {@code io.multiproc.manager.remote.RemoteManager}.
     */
    static Manager connect(InetSocketAddress address, byte[] authkey) {
        return io.multiproc.manager.remote.RemoteManager.connect(address, authkey);
    }

    /**
     * As {@link #connect(InetSocketAddress, byte[])}, waiting at most {@code replyTimeout} (default 30 s)
     * for any reply: a server that does not answer in time breaks the connection, and the call throws.
     *
     * @throws IllegalArgumentException if {@code replyTimeout} is zero or negative
     */
    static Manager connect(InetSocketAddress address, byte[] authkey, java.time.Duration replyTimeout) {
        return io.multiproc.manager.remote.RemoteManager.connect(address, authkey, replyTimeout);
    }

    /**
     * A key file's bytes as {@code multiproc manager serve --authkey-file} reads them: one trailing newline
     * dropped (a key written with {@code echo}), refused if other users may read or write the file.
     * <pre>{@code
     * Manager m = Manager.connect(new InetSocketAddress("10.0.0.5", 50000), Manager.readKey(Path.of("manager.key")));
     * }</pre>
     *
     * @throws IllegalArgumentException naming the file: missing, not a regular file, empty, unreadable, or
     *     accessible to other users
     */
    static byte[] readKey(java.nio.file.Path keyFile) {
        return io.multiproc.manager.remote.KeyFile.read(keyFile, "keyFile");
    }

    /**
     * Starts a local manager and serves its objects over TCP at {@code address} until the process is
     * stopped (blocks). Bind to a loopback address unless other hosts must reach it; every client must
     * know {@code authkey}. Also: {@code multiproc manager serve --bind HOST:PORT --authkey-file FILE}.
     */
    static void serve(InetSocketAddress address, byte[] authkey) {
        try (Manager m = start()) {
            serve(m, address, authkey);
        }
    }

    /**
     * Serves {@code manager}'s objects over TCP at {@code address} until the thread is interrupted
     * (blocks; returns with the interrupt status set). The caller keeps owning the manager.
     */
    static void serve(Manager manager, InetSocketAddress address, byte[] authkey) {
        try (var server = io.multiproc.manager.remote.ManagerServer.start(manager, address, authkey)) {
            server.awaitClose();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The manager's name, for {@link #attach(String)}. */
    String name();

    /** A new empty shared list. */
    <E> List<E> list();

    /** The shared list called {@code name}, created empty if there is none. */
    <E> List<E> list(String name);

    /** A new empty shared map; its atomic operations run under the map's lock. */
    <K, V> ConcurrentMap<K, V> dict();

    /** The shared map called {@code name}, created empty if there is none. */
    <K, V> ConcurrentMap<K, V> dict(String name);

    /** A new empty namespace (Python's {@code Manager().Namespace()}). */
    Namespace namespace();

    /** The namespace called {@code name}, created empty if there is none. */
    Namespace namespace(String name);

    /** A new shared value holding {@code initial} (Python's {@code Manager().Value}). */
    <T> SharedValueProxy<T> value(T initial);

    /** The shared value called {@code name}, created holding {@code initial} if there is none. */
    <T> SharedValueProxy<T> value(String name, T initial);

    /** A new unbounded-looking queue (a {@code SharedQueue}). */
    <E> BlockingQueue<E> queue();

    /** A new queue of at most {@code maxItems} items. */
    <E> BlockingQueue<E> queue(int maxItems);

    /** A new cross-process lock (a {@code SharedLock}: any process may unlock, like Python's Lock). */
    Lock lock();

    /** A new reentrant cross-process lock (a {@code SharedRLock}). */
    Lock rlock();

    /** A condition over {@code lock}, which must be a lock from {@link #rlock()} or {@link #lock()} of a local manager. */
    Condition condition(Lock lock);

    /** A new counting semaphore with {@code permits} permits. */
    SemaphoreProxy semaphore(int permits);

    /** A new event, initially clear. */
    EventProxy event();

    /** A new barrier for {@code parties} parties. */
    BarrierProxy barrier(int parties);

    /** Registers a custom type: {@link #create(String)} builds one with {@code factory} in a server JVM. */
    <T> void register(String typeId, SerializableSupplier<? extends T> factory, Class<T> exposedInterface);

    /**
     * A proxy of the registered interface of {@code typeId}; the object lives in the manager's server JVM.
     * It is released there once the GC collects this proxy, unless the proxy was ever sent to another
     * process (a task, a queue or pipe item, a managed container, an argument of a call): then it lives
     * until the manager closes.
     */
    <T> T create(String typeId);

    /** The owner's close removes everything this manager made; an attached process's close only detaches. */
    @Override
    void close();
}
