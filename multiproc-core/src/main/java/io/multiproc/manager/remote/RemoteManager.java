package io.multiproc.manager.remote;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.CodecException;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.manager.AuthenticationException;
import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.manager.SerializableSupplier;
import io.multiproc.manager.SharedValueProxy;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link Manager} served by a {@link ManagerServer} over TCP: {@code Manager.connect(address, key)}.
 * Its lists, dicts, namespaces and values are proxies whose calls are requests to the server.
 *
 * <pre>{@code
 * try (Manager m = Manager.connect(new InetSocketAddress("10.0.0.5", 50000), key)) {
 *     ConcurrentMap<String, Integer> d = m.dict("config");
 *     d.put("threads", 8);                 // one round trip
 *     d.putAll(bigMap);                    // one request, not waited for
 *     new HashMap<>(d);                    // one request: a snapshot copy
 * }
 * }</pre>
 *
 * <h2>Requests</h2>
 * One connection per manager; calls from several threads take turns. A call that returns something
 * waits for the reply (at most the reply timeout, 30 s by default; then the connection is closed and
 * the call throws {@link UncheckedIOException}). Calls that return nothing the caller needs
 * ({@code List.add}, {@code clear}, {@code addAll}, {@code putAll}, {@code Namespace.set},
 * {@code SharedValueProxy.set}) are pipelined: sent at once, not waited for, applied by the server in
 * order. If one of them fails on the server, the next waiting call of the same thread throws that
 * failure and nothing that thread sent between the two was applied (another thread's call first waits
 * for the pipelined calls of the thread before it, and leaves their failure to that thread);
 * {@link #sync()} waits until everything sent so far is applied, and {@link #close()} does too
 * (throwing a failure no call reported yet).
 * Iterators, {@code toString}, {@code equals} and copies ({@code new ArrayList<>(list)},
 * {@code new HashMap<>(dict)}) work on a snapshot fetched in one request. The atomic operations of
 * {@code ConcurrentMap} ({@code merge}, {@code compute}, ...) and {@code updateAndGet} run their
 * function here and publish with the server's compare-and-set operations, retrying on a conflict, so
 * they are atomic without sending code to the server; so are a list's {@code removeIf}, {@code removeAll},
 * {@code retainAll}, {@code replaceAll} and {@code sort}, which replace the whole list only if it still holds
 * the snapshot they worked on, else read again.
 *
 * <p>Errors keep the JDK contract types ({@code IndexOutOfBoundsException}, {@code NoSuchElementException},
 * ...); anything else arrives as {@code io.multiproc.RemoteException}; both with the server's trace.
 * Queues, locks, semaphores, events, barriers and custom types need shared memory or a local server
 * JVM and are not offered remotely (UnsupportedOperationException). Proxies belong to this connection:
 * after {@link #close()} they throw {@link IllegalStateException}. Once the last proxy of a container is
 * garbage here, the connection tells the server, which lets go of it: an anonymous one is then freed
 * unless another container refers to it (decision 157; see {@link #targetGone}).
 *
 * <h2>Proxies that travel</h2>
 * A proxy captured by a {@code ChildProcess} task or sent through a queue or pipe re-attaches in the
 * receiving process, on a connection that process shares for the server (decision 116). It
 * authenticates with the key that process has: its own {@code connect}, or the key its parent put in
 * its task (only there: over the child's stdin) because the task captured a proxy. Queues and pipes
 * never carry the key; a process without it gets an error saying how to get one.
 * <pre>{@code
 * ConcurrentMap<String, Integer> d = m.dict();
 * ChildProcess.start(() -> d.merge("done", 1, Integer::sum)).join();   // the same dict in the child
 * }</pre>
 */
public final class RemoteManager implements Manager {
    /** How long a call waits for its reply by default. */
    public static final Duration DEFAULT_REPLY_TIMEOUT = Duration.ofSeconds(30);

    /**
     * For {@link io.multiproc.manager.Managers#getAll}: the values of {@code keys} read in one request
     * (absent keys left out) when {@code map} is a remote manager's dict, else null.
     */
    public static <K, V> Map<K, V> getAllIfRemote(Map<K, V> map, java.util.Collection<? extends K> keys) {
        return map instanceof RemoteDict<K, V> d ? d.getAll(keys) : null;
    }
    private static final Codec CODEC = ManagerServer.CODEC;

    private final String server;
    private final InetSocketAddress address;
    /** The authkey's id ({@link RemoteKeys}): what a travelling proxy names its key by. */
    private final byte[] keyId;
    /** Export tokens of this connection's containers by id, once a proxy of one has travelled. */
    private final ConcurrentHashMap<Long, Long> exported = new ConcurrentHashMap<>();
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final String name;
    /** Turn holder; replaced by a small one after a request that grew it past {@link Wire#KEPT_BUFFER}. */
    private BufferSink request = new BufferSink(256);
    private final SegmentSource source = new SegmentSource();
    /**
     * Why the connection is unusable (closed by the user, or broken), or null. Written by any thread
     * (close) or by the calling thread (broken); volatile, so a close from another thread is seen by
     * the next call, and the socket's closing wakes a call blocked in its read.
     */
    private volatile String closedBecause;
    /** Calls from several threads take turns: one request (and its reply) at a time. */
    private final ReentrantLock turn = new ReentrantLock();
    /**
     * A pipelined request was sent after the last reply, so the server has not confirmed it yet (read
     * and written by the thread holding {@link #turn}); {@link #close()} then syncs first.
     */
    private boolean unconfirmed;
    /** The thread whose pipelined requests are {@link #unconfirmed} (only one at a time: see {@link #confirmOthers}). Turn holder. */
    private Thread unconfirmedBy;
    /**
     * A failure of a thread's pipelined request, learnt by another thread's confirming sync, for that
     * thread's next call to report (its pipelined calls until then are dropped, as the server drops the
     * calls after a failed one). Turn holder; weak keys: a thread that ended takes its failure with it.
     */
    private final Map<Thread, RuntimeException> deferred = new java.util.WeakHashMap<>();
    /** How long a read may wait for a reply, and a write for the server to take its bytes. */
    private final long replyTimeoutNanos;
    /**
     * Every write to the socket (a frame, or a flush) holds it: the turn holder's requests, and releases
     * ({@link #flushReleases}), which are written without the turn so that they never wait for a reply
     * and {@link #close()} never finds the turn taken by them.
     */
    private final ReentrantLock writing = new ReentrantLock();
    /**
     * When the thread holding {@link #writing} began its current write to the socket, at most
     * {@link #WRITE_SLICE} bytes (never 0), or 0 when it is not writing: SO_TIMEOUT bounds reads only,
     * and a server that stops reading (stopped, hung, its host gone) let a write wait forever once the
     * socket's buffers were full. Written by that thread, read by
     * {@link #WATCHDOG}, which closes the connection when a write makes no progress within the reply timeout.
     */
    private volatile long writingSince;
    private final java.util.concurrent.ScheduledFuture<?> watch;
    /**
     * Per id of this connection: how many replies handed it to this process and how many of the
     * proxies made from them are not garbage yet (decision 157). Guarded by itself: changed by the
     * turn holder as it decodes a reply ({@link #proxy}) and by {@link #RELEASES}' thread.
     */
    private final Map<Long, Receipts> receipts = new java.util.HashMap<>();
    /** (id, count) pairs whose last proxy is garbage, not yet sent; guarded by {@link #receipts}. */
    private final List<Long> toRelease = new ArrayList<>();
    /** A thread is on its way to send {@link #toRelease}; guarded by {@link #receipts}. */
    private boolean releasing;
    /** Hand-outs released so far (for tests); written under {@link #writing}. */
    private volatile long receiptsReleased;

    private RemoteManager(String server, InetSocketAddress address, Socket socket, byte[] key, long replyTimeoutNanos) throws IOException {
        this.server = server;
        this.address = address;
        this.socket = socket;
        this.replyTimeoutNanos = replyTimeoutNanos;
        long period = Math.max(10_000_000L, Math.min(1_000_000_000L, replyTimeoutNanos / 4));
        this.watch = Watchdog.EXECUTOR.scheduleAtFixedRate(new Watchdog(this), period, period, java.util.concurrent.TimeUnit.NANOSECONDS);
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 << 10));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 64 << 10));
        try {
            Wire.clientHandshake(in, out, key, server);
            this.keyId = RemoteKeys.remember(key); // proven right: proxies of this server may now travel to here
            this.name = (String) call(Ops.HELLO, 0);
        } catch (IOException | RuntimeException e) {
            watch.cancel(false);
            throw e;
        }
    }

    /**
     * Closes a connection whose write has made no progress within the reply timeout; holds it weakly,
     * so an unclosed, unreachable connection is not kept alive by its watch.
     */
    private static final class Watchdog implements Runnable {
        static final java.util.concurrent.ScheduledExecutorService EXECUTOR = io.multiproc.internal.DaemonScheduler.create("multiproc-remote-watchdog");
        private final java.lang.ref.WeakReference<RemoteManager> connection;

        Watchdog(RemoteManager m) {
            connection = new java.lang.ref.WeakReference<>(m);
        }

        @Override
        public void run() {
            RemoteManager m = connection.get();
            if (m == null) {
                throw new java.util.concurrent.CancellationException("gone"); // ends this periodic task
            }
            long since = m.writingSince;
            if (since != 0 && System.nanoTime() - since > m.replyTimeoutNanos && m.closedBecause == null) {
                m.closedBecause = "broken (the server took no bytes within the reply timeout while writing to it)";
                closeQuietly(m.socket); // the blocked write throws
            }
        }
    }

    /** Writes (to the socket's buffer, or flushes it) under the watchdog: see {@link #writingSince}. */
    private void watched(IoStep step) throws IOException {
        writingSince = System.nanoTime() | 1;
        try {
            step.run();
        } finally {
            writingSince = 0;
        }
    }

    @FunctionalInterface
    private interface IoStep {
        void run() throws IOException;
    }

    /** Connects and authenticates; {@link AuthenticationException} if the keys differ. */
    public static RemoteManager connect(InetSocketAddress address, byte[] authkey) {
        return connect(address, authkey, DEFAULT_REPLY_TIMEOUT);
    }

    /** As {@link #connect(InetSocketAddress, byte[])}, waiting at most {@code replyTimeout} for any reply. */
    public static RemoteManager connect(InetSocketAddress address, byte[] authkey, Duration replyTimeout) {
        Objects.requireNonNull(address, "address");
        byte[] key = Wire.checkedKey(authkey);
        if (replyTimeout.isNegative() || replyTimeout.isZero()) {
            throw new IllegalArgumentException("replyTimeout=" + replyTimeout + " must be > 0");
        }
        String server = "manager server " + address;
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            int millis = (int) Math.min(Integer.MAX_VALUE, io.multiproc.wait.Waiting.nanos(replyTimeout) / 1_000_000);
            s.connect(address, Math.max(1, millis));
            s.setSoTimeout(Math.max(1, millis));
            return new RemoteManager(server, address, s, key, io.multiproc.wait.Waiting.nanos(replyTimeout));
        } catch (IOException e) {
            closeQuietly(s);
            throw new UncheckedIOException("cannot connect to " + server + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(s);
            throw e;
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** This process's connections for travelling proxies, by server and key id; replaced when closed. */
    private static final Map<String, RemoteManager> SHARED = new java.util.HashMap<>();

    /**
     * The connection this process's decoded proxies of {@code address} use (one per server and key,
     * opened on first use, closed at exit after syncing its pipelined calls).
     */
    static RemoteManager shared(InetSocketAddress address, byte[] key) {
        String at = address.getHostString() + ":" + address.getPort() + "/" + java.util.HexFormat.of().formatHex(RemoteKeys.idOf(key));
        synchronized (SHARED) {
            RemoteManager m = SHARED.get(at);
            if (m == null || m.closedBecause != null) {
                // NOTE: added once per process, before the first connect (during shutdown that throws and
                // nothing connects). Added whenever SHARED was empty, it was added again by every failed
                // connect (a retry loop against a server that is down): one Thread per attempt, kept until exit
                if (exitHooksAdded == 0) {
                    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(RemoteManager::closeShared));
                    exitHooksAdded++;
                }
                m = connect(address, key);
                SHARED.put(at, m);
            }
            return m;
        }
    }

    /** How many shutdown hooks {@link #shared} has added in this process: 0 or 1 (guarded by SHARED). */
    private static int exitHooksAdded;

    /** For tests: how many shutdown hooks {@link #shared} has added in this process. */
    static int exitHooksAdded() {
        synchronized (SHARED) {
            return exitHooksAdded;
        }
    }

    private static void closeShared() {
        List<RemoteManager> all;
        synchronized (SHARED) {
            all = new ArrayList<>(SHARED.values());
        }
        for (RemoteManager m : all) {
            try {
                m.close();
            } catch (RuntimeException e) {
                System.getLogger("io.multiproc.manager").log(System.Logger.Level.WARNING,
                        "closing " + m + " at exit: a pipelined call failed", e);
            }
        }
    }

    /** The proxy of an exported container ({@link RemoteHandle}), with an id of this connection. */
    Object imported(long token, int kind) {
        return call(Ops.IMPORT, 0, token, kind);
    }

    /**
     * What a proxy of container {@code ref} travels as: exported on its first trip (one round trip);
     * the key in it only inside a child's task ({@link io.multiproc.internal.ChildTaskEncoding}).
     */
    RemoteHandle handle(RemoteRef ref) {
        if (RemoteKeys.inWireEncoding()) {
            // NOTE: reached from the codec inside send(), under this thread's turn: an EXPORT request now
            // would reset the request buffer being encoded and corrupt the frame (the server then drops
            // the connection, and every proxy of it). The server would refuse a handle in a request anyway.
            String refused = "a remote proxy (" + RemoteRef.kindName(ref.kind()) + " #" + ref.id() + " of " + this
                    + ") cannot be stored inside";
            REFUSED_PROXY.set(refused); // the codec keeps only the message of what writeReplace threw
            throw new IllegalArgumentException(refused);
        }
        // NOTE: an export token is remembered once a proxy has travelled, so later trips need no request
        // and would not see the connection closed: a task made after close() carried the token (and the
        // key) to a child, where the proxy worked on that process's shared connection. A proxy of a
        // closed manager must fail wherever it is used, its travels included.
        if (closedBecause != null) {
            throw new IllegalStateException(this + " is " + closedBecause + ": its proxies cannot travel");
        }
        Long token = exported.get(ref.id());
        if (token == null) {
            token = (Long) call(Ops.EXPORT, ref.id());
            exported.put(ref.id(), token);
        }
        byte[] key = io.multiproc.internal.ChildTaskEncoding.active() ? RemoteKeys.find(keyId) : null;
        return new RemoteHandle(address.getHostString(), address.getPort(), name, keyId.clone(),
                key == null ? new byte[0] : key, token, ref.kind());
    }

    // ------------------------------------------------------------------ Manager

    @Override
    public String name() {
        return name;
    }

    @Override
    public <E> List<E> list() {
        return open(RemoteRef.KIND_LIST, null, null);
    }

    @Override
    public <E> List<E> list(String name) {
        return open(RemoteRef.KIND_LIST, Objects.requireNonNull(name, "name"), null);
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict() {
        return open(RemoteRef.KIND_DICT, null, null);
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict(String name) {
        return open(RemoteRef.KIND_DICT, Objects.requireNonNull(name, "name"), null);
    }

    @Override
    public Namespace namespace() {
        return open(RemoteRef.KIND_NAMESPACE, null, null);
    }

    @Override
    public Namespace namespace(String name) {
        return open(RemoteRef.KIND_NAMESPACE, Objects.requireNonNull(name, "name"), null);
    }

    @Override
    public <T> SharedValueProxy<T> value(T initial) {
        return open(RemoteRef.KIND_VALUE, null, initial);
    }

    @Override
    public <T> SharedValueProxy<T> value(String name, T initial) {
        return open(RemoteRef.KIND_VALUE, Objects.requireNonNull(name, "name"), initial);
    }

    @SuppressWarnings("unchecked")
    private <T> T open(int kind, String name, Object initial) {
        return (T) call(Ops.OPEN, 0, kind, name, initial);
    }

    @Override
    public <E> BlockingQueue<E> queue() {
        throw notRemote("queue()");
    }

    @Override
    public <E> BlockingQueue<E> queue(int maxItems) {
        throw notRemote("queue(int)");
    }

    @Override
    public Lock lock() {
        throw notRemote("lock()");
    }

    @Override
    public Lock rlock() {
        throw notRemote("rlock()");
    }

    @Override
    public Condition condition(Lock lock) {
        throw notRemote("condition(Lock)");
    }

    @Override
    public SemaphoreProxy semaphore(int permits) {
        throw notRemote("semaphore(int)");
    }

    @Override
    public EventProxy event() {
        throw notRemote("event()");
    }

    @Override
    public BarrierProxy barrier(int parties) {
        throw notRemote("barrier(int)");
    }

    @Override
    public <T> void register(String typeId, SerializableSupplier<? extends T> factory, Class<T> exposedInterface) {
        throw notRemote("register");
    }

    @Override
    public <T> T create(String typeId) {
        throw notRemote("create");
    }

    private UnsupportedOperationException notRemote(String what) {
        return new UnsupportedOperationException(what + " is not offered by a remote manager (" + server
                + "): it serves lists, dicts, namespaces and values; use Manager.attach(\"" + name
                + "\") on the server's host for the rest");
    }

    /** Waits until the server has applied every request sent so far; throws a pipelined call's failure. */
    public void sync() {
        call(Ops.SYNC, 0);
    }

    /**
     * Waits until the server has applied every pipelined call, then closes the connection; proxies then
     * throw IllegalStateException. If a pipelined call failed and no waiting call reported it yet, close
     * throws that failure (after closing), as the next call would have; if the connection broke before
     * the server confirmed them, {@link UncheckedIOException} (the pipelined calls may not all have been
     * applied). The wait is bounded by the reply timeout. A close while another thread's call is under
     * way does not wait: that call fails at once. Idempotent.
     */
    @Override
    public void close() {
        RuntimeException failure = null;
        // NOTE: unconfirmed and deferred are the turn holder's, so they are read under the turn only.
        // deferred is a WeakHashMap: even isEmpty() unlinks the entries of collected threads, so reading
        // it here unlocked, while another thread's call put or removed an entry under the turn, was two
        // unsynchronized structural changes (a lost failure, or a corrupt bucket chain that loops forever).
        if (closedBecause == null && turn.tryLock()) {
            try {
                if (closedBecause == null && unconfirmed) {
                    exchange(Ops.SYNC, 0, false, new Object[0]);
                }
                if (!deferred.isEmpty()) { // a failure no call reported yet, whichever thread's
                    failure = deferred.values().iterator().next();
                    deferred.clear();
                }
            } catch (RuntimeException e) {
                // a close from another thread meanwhile: that one ends the connection, nothing to report
                failure = "closed".equals(closedBecause) ? null : e;
            } finally {
                turn.unlock();
            }
        }
        if (closedBecause == null) {
            closedBecause = "closed";
        }
        watch.cancel(false);
        closeQuietly(socket);
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "RemoteManager[" + name + " at " + server + "]";
    }

    // ------------------------------------------------------------------ requests

    /** Sends a request and returns its reply's value (containers as proxies). */
    Object call(int op, long target, Object... args) {
        return call(op, target, false, args);
    }

    /**
     * {@link #call}, the reply decoded twice: two independent copies of one read. What a compare-and-set
     * loop needs: the function may change its copy in place (an array), the other stays what was read and
     * is what the server compares with.
     */
    Object[] callTwice(int op, long target, Object... args) {
        return (Object[]) call(op, target, true, args);
    }

    private Object call(int op, long target, boolean twice, Object[] args) {
        boolean interrupted = Thread.interrupted();
        turn.lock();
        try {
            return callInTurn(op, target, twice, args);
        } finally {
            turn.unlock();
            keepInterrupt(interrupted);
        }
    }

    /**
     * NOTE: socket I/O of a virtual thread whose interrupt is set closes the socket (JDK 21+), and this
     * connection is every thread's: a request runs with the caller's interrupt set aside and given back
     * after it (the reply timeout bounds the wait). An interrupt that arrives while a virtual thread
     * waits for its reply still ends the connection, as a lost connection does.
     */
    private static void keepInterrupt(boolean interrupted) {
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private Object callInTurn(int op, long target, boolean twice, Object[] args) {
        Thread me = Thread.currentThread();
        RuntimeException mine = deferred.remove(me);
        if (mine != null) {
            throw mine; // like EARLIER_FAILED: this call is not sent, as the server would not have applied it
        }
        confirmOthers(me);
        return exchange(op, target, twice, args);
    }

    /**
     * Before {@code me} sends anything: if another thread's pipelined requests are unconfirmed, waits for
     * the server to apply them and keeps their failure for that thread. The server reports a failed
     * pipelined request to the next waiting request, whichever thread sent it: B's {@code get} threw A's
     * failure, and A never learnt that its later requests were dropped.
     */
    private void confirmOthers(Thread me) {
        if (!unconfirmed || unconfirmedBy == me) {
            return;
        }
        Thread owner = unconfirmedBy;
        try {
            exchange(Ops.SYNC, 0, false, new Object[0]);
        } catch (RuntimeException e) {
            if (closedBecause != null) {
                throw e; // the connection broke: every caller learns that
            }
            deferred.put(owner, e);
        }
    }

    private Object exchange(int op, long target, boolean twice, Object[] args) {
        send(op, 0, target, args);
        try {
            flushOut();
            byte[] frame = Wire.readFrame(in, Wire.MAX_FRAME);
            unconfirmed = false; // the server answers after applying (or reporting) every earlier request
            unconfirmedBy = null;
            if (frame.length < 1) {
                throw new Wire.ProtocolException("empty reply");
            }
            Object body;
            Object copy = null;
            try {
                body = RemoteKeys.wireDecoding(() -> CODEC.decode(source.reset(MemorySegment.ofArray(frame), 1,
                        frame.length - 1)));
                if (twice && frame[0] == Wire.OK) {
                    copy = RemoteKeys.wireDecoding(() -> CODEC.decode(source.reset(MemorySegment.ofArray(frame), 1,
                            frame.length - 1)));
                }
            } catch (CodecException e) {
                // NOTE: the frame was read whole, so the connection is still in step: a value this process
                // cannot decode (a record class it lacks, stored by another program) fails this call only.
                // Taken for a broken connection, it killed every proxy of it and the calls pipelined since
                source.reset(MemorySegment.NULL, 0, 0);
                throw new CodecException(server + " replied with a value this process cannot decode: " + e.getMessage(), e);
            }
            long left = source.remaining();
            source.reset(MemorySegment.NULL, 0, 0); // the decoded value is a copy: the frame may go now
            if (left != 0) {
                throw new Wire.ProtocolException(left + " bytes after a reply's value");
            }
            if (frame[0] == Wire.OK) {
                if (!twice) {
                    return fromWire(body);
                }
                Object first = fromWire(body);
                return new Object[] {first, twin(copy, first)};
            }
            if ((frame[0] == Wire.FAILED || frame[0] == Wire.EARLIER_FAILED) && body instanceof RemoteFailure f) {
                throw failure(f, frame[0] == Wire.EARLIER_FAILED);
            }
            throw new Wire.ProtocolException("reply status=" + frame[0] + " with a " + (body == null ? "null" : body.getClass().getName()));
        } catch (SocketTimeoutException e) {
            throw broken("no reply within the reply timeout", e);
        } catch (IOException e) {
            throw broken(e.getMessage(), e);
        }
    }

    /** Sends a request that gets no reply unless it fails (see the class comment). */
    void pipeline(int op, long target, Object... args) {
        boolean interrupted = Thread.interrupted();
        turn.lock();
        try {
            Thread me = Thread.currentThread();
            if (deferred.containsKey(me)) {
                return; // dropped, as the server drops calls after a failed one; the next waiting call reports it
            }
            confirmOthers(me);
            send(op, Wire.FLAG_PIPELINED, target, args);
            unconfirmed = true;
            unconfirmedBy = me;
            flushOut();
        } catch (IOException e) {
            throw broken(e.getMessage(), e);
        } finally {
            turn.unlock();
            keepInterrupt(interrupted);
        }
    }

    private void send(int op, int flags, long target, Object[] args) {
        if (closedBecause != null) {
            throw new IllegalStateException(this + " is " + closedBecause);
        }
        List<Object> list = new ArrayList<>(args.length);
        for (Object a : args) {
            list.add(toWire(a));
        }
        // NOTE: the codec may call back into this connection while it encodes a request: a JDK view of
        // a remote container (subList, keySet, Collections.unmodifiableList) is read there, and each read
        // is a request of its own, sent whole before the outer one. Sharing the outer one's buffer, it
        // reset that buffer under the encoder: the server got a garbled frame and dropped the connection
        BufferSink request = RemoteKeys.inWireEncoding() ? new BufferSink(256) : this.request;
        request.reset();
        request.writeByte(op);
        request.writeByte(flags);
        for (int shift = 56; shift >= 0; shift -= 8) {
            request.writeByte((int) (target >>> shift));
        }
        // a value the codec refuses fails here, before anything is sent
        try {
            RemoteKeys.wireEncoding(() -> {
                CODEC.encode(list, request);
                return null;
            });
        } catch (RuntimeException e) {
            String refused = REFUSED_PROXY.get();
            if (refused != null) {
                REFUSED_PROXY.remove();
                Class<?> holder = opaqueHolder(list);
                throw new IllegalArgumentException(refused + (holder == null ? " an object" : " a " + holder.getName())
                        + " sent to a remote manager: store the container itself, or a List, Set or Map of them", e);
            }
            throw e;
        }
        if (request.size() > Wire.MAX_FRAME) {
            throw new IllegalArgumentException("request of " + request.size() + " bytes is larger than the limit of "
                    + Wire.MAX_FRAME + " bytes: send it in parts");
        }
        try {
            writing.lock();
            try {
                writeFrame(request.array(), request.size());
            } finally {
                writing.unlock();
            }
        } catch (IOException e) {
            throw broken(e.getMessage(), e);
        } finally {
            // NOTE: the proxies among the arguments stay reachable until their ids are written: a release
            // of one sent before this request would make the server drop the id it names
            java.lang.ref.Reference.reachabilityFence(args);
        }
        if (request == this.request && request.array().length > Wire.KEPT_BUFFER) {
            this.request = new BufferSink(256);
        }
    }

    /** Flushes the turn holder's requests to the socket (under {@link #writing}, watched). */
    private void flushOut() throws IOException {
        writing.lock();
        try {
            watched(out::flush);
        } finally {
            writing.unlock();
        }
    }

    /** What one watched write hands the socket at most: the watchdog sees progress at least this often. */
    private static final int WRITE_SLICE = 64 << 10;

    /**
     * Writes a frame in slices, each watched on its own: the watchdog is to catch a server that takes no
     * bytes, and timed a whole frame, so a 64 MB batch over a link slower than about 2 MB/s was cut off
     * after the reply timeout while it was moving all along.
     */
    private void writeFrame(byte[] frame, int length) throws IOException {
        if (length <= WRITE_SLICE) {
            watched(() -> Wire.writeFrame(out, frame, 0, length));
            return;
        }
        watched(() -> out.writeInt(length));
        for (int offset = 0; offset < length; offset += WRITE_SLICE) {
            int from = offset;
            watched(() -> out.write(frame, from, Math.min(WRITE_SLICE, length - from)));
        }
    }

    /**
     * Set by {@link #handle} when the codec reached a proxy inside a request (in an object the walk of
     * {@link #toWire} does not enter), read and cleared by {@link #send} on the same thread.
     */
    private static final ThreadLocal<String> REFUSED_PROXY = new ThreadLocal<>();

    /** The class of the first value in {@code v} that toWire does not walk into: the one holding a proxy. */
    private static Class<?> opaqueHolder(Object v) {
        java.util.Collection<?> items = switch (v) {
            case RemoteContainer c -> List.of();
            case java.util.Collection<?> c -> c;
            case Map<?, ?> m -> m.entrySet().stream().flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue())).toList();
            case null -> List.of();
            default -> null;
        };
        if (items == null) {
            // java.base values (String, Integer, ...) hold no proxy; the first class of the program's does
            return v.getClass().getClassLoader() == null ? null : v.getClass();
        }
        for (Object e : items) {
            Class<?> found = opaqueHolder(e);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private RuntimeException failure(RemoteFailure f, boolean earlier) {
        Throwable t = f.toThrowable(RemoteFailure.JDK_CONTRACT);
        if (earlier) {
            t.addSuppressed(new IllegalStateException("thrown by an earlier pipelined call to " + server
                    + "; calls sent after it up to this one were not applied"));
        }
        return t instanceof RuntimeException r ? r : new io.multiproc.RemoteException(f.className(), f.message());
    }

    private UncheckedIOException broken(String why, Exception e) {
        if (closedBecause != null) {
            throw new IllegalStateException(this + " is " + closedBecause, e);
        }
        closedBecause = "broken (" + why + ")";
        watch.cancel(false);
        closeQuietly(socket);
        IOException io = e instanceof IOException x ? x : new IOException(e);
        return new UncheckedIOException(server + ": connection lost: " + why, io);
    }

    /** An argument: this connection's proxies become their ids, inside plain collections too. */
    private Object toWire(Object v) {
        return PlainValues.map(v, x -> x instanceof RemoteContainer c ? c.ref(this) : x);
    }

    /** A reply's value: ids become proxies (containers are only ever at the top or in a snapshot). */
    Object fromWire(Object v) {
        return switch (v) {
            case RemoteRef r -> proxy(r);
            case List<?> l when containsRef(l) -> {
                List<Object> c = new ArrayList<>(l);
                c.replaceAll(this::fromWire);
                yield c;
            }
            case Map<?, ?> m when containsRef(m.values()) -> {
                Map<Object, Object> c = new LinkedHashMap<>(m);
                c.replaceAll((k, x) -> fromWire(x));
                yield c;
            }
            case null, default -> v;
        };
    }

    /**
     * {@code raw}, a second decode of the reply {@code converted} came from, with its containers' refs
     * replaced by the proxies made for the first: each receipt of a ref is counted once (a second proxy
     * would be released twice, and the server ends a connection that releases what it no longer has).
     */
    private static Object twin(Object raw, Object converted) {
        return switch (raw) {
            case RemoteRef r -> converted;
            case List<?> l when containsRef(l) -> {
                List<?> c1 = (List<?>) converted;
                List<Object> c = new ArrayList<>(l.size());
                for (int i = 0; i < l.size(); i++) {
                    c.add(twin(l.get(i), c1.get(i)));
                }
                yield c;
            }
            case Map<?, ?> m when containsRef(m.values()) -> {
                Map<?, ?> c1 = (Map<?, ?>) converted;
                Map<Object, Object> c = new LinkedHashMap<>();
                m.forEach((k, x) -> c.put(k, twin(x, c1.get(k))));
                yield c;
            }
            case null, default -> raw;
        };
    }

    private static boolean containsRef(java.util.Collection<?> c) {
        for (Object e : c) {
            if (e instanceof RemoteRef) {
                return true;
            }
        }
        return false;
    }

    /** One receipt of {@code r} (a reply handed it to this process): a proxy, counted until it is garbage. */
    private Object proxy(RemoteRef r) {
        Target t = new Target(this, r);
        Object proxy = switch (r.kind()) {
            case RemoteRef.KIND_LIST -> new RemoteList<>(t);
            case RemoteRef.KIND_DICT -> new RemoteDict<>(t);
            case RemoteRef.KIND_NAMESPACE -> new RemoteNamespace(t);
            case RemoteRef.KIND_VALUE -> new RemoteValue<>(t);
            case RemoteRef.KIND_SET -> new RemoteSet<>(t);
            default -> throw new UncheckedIOException(new Wire.ProtocolException(server + " sent a container of kind=" + r.kind()));
        };
        synchronized (receipts) {
            Receipts c = receipts.computeIfAbsent(r.id(), id -> new Receipts());
            c.received++;
            c.live++;
        }
        // NOTE: on the Target, not the proxy: every request of a proxy and of its views goes through it
        RELEASES.register(t, new TargetGone(this, r.id()));
        return proxy;
    }

    // ------------------------------------------------------------------ releases (decision 157)

    /** Runs the release of each {@link Target} that became garbage; one daemon thread per JVM. */
    private static final java.lang.ref.Cleaner RELEASES = java.lang.ref.Cleaner.create(
            Thread.ofPlatform().daemon().name("multiproc-remote-releases").factory());

    /** Most (id, count) pairs in one release frame: a backlog goes as several frames of bounded size. */
    private static final int RELEASE_BATCH = 4096;

    /** What this process received of one id: hand-outs counted, and proxies made from them still alive. */
    private static final class Receipts {
        long received;
        int live;
    }

    /** A Target's cleaning action: holds its connection, never the Target. */
    private record TargetGone(RemoteManager m, long id) implements Runnable {
        @Override
        public void run() {
            m.targetGone(id);
        }
    }

    /**
     * The last live proxy of {@code id} went: releases every hand-out of it received so far. A reply
     * handing out {@code id} that is still on its way was counted by the server and not in this count,
     * so the server keeps the container for the proxy that reply becomes.
     */
    private void targetGone(long id) {
        synchronized (receipts) {
            Receipts c = receipts.get(id);
            if (--c.live > 0) {
                return;
            }
            receipts.remove(id);
            if (closedBecause != null) {
                return; // the server forgot this connection's ids when it ended
            }
            toRelease.add(id);
            toRelease.add(c.received);
            if (releasing) {
                return;
            }
            releasing = true;
        }
        exported.remove(id);
        // NOTE: a thread of its own, not the cleaner's: a write may wait (up to the reply timeout) for a
        // server that does not read, and every connection's releases share the cleaner's thread
        Thread.ofVirtual().name("multiproc-remote-release").start(this::flushReleases);
    }

    /** Sends the pending releases as pipelined requests (no reply), between whole frames of other threads. */
    private void flushReleases() {
        try {
            Thread.sleep(2); // the cleaner usually finds many proxies at once: one frame for all of them
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        List<Long> pairs;
        synchronized (receipts) {
            releasing = false;
            pairs = new ArrayList<>(toRelease);
            toRelease.clear();
        }
        writing.lock();
        try {
            for (int from = 0; from < pairs.size() && closedBecause == null; from += 2 * RELEASE_BATCH) {
                List<Long> batch = pairs.subList(from, Math.min(pairs.size(), from + 2 * RELEASE_BATCH));
                BufferSink frame = new BufferSink(16 + 10 * batch.size());
                frame.writeByte(Ops.RELEASE);
                frame.writeByte(Wire.FLAG_PIPELINED);
                for (int i = 0; i < 8; i++) {
                    frame.writeByte(0); // target: the manager
                }
                CODEC.encode(new ArrayList<>(batch), frame);
                writeFrame(frame.array(), frame.size());
                long released = receiptsReleased;
                for (int i = 1; i < batch.size(); i += 2) {
                    released += batch.get(i);
                }
                receiptsReleased = released;
            }
            if (closedBecause == null) {
                watched(out::flush);
            }
        } catch (IOException e) {
            if (closedBecause == null) {
                // the next call learns it too; nothing waits for this write
                System.getLogger("io.multiproc.manager").log(System.Logger.Level.DEBUG, this + ": " + broken(e.getMessage(), e).getMessage());
            }
        } catch (RuntimeException e) {
            System.getLogger("io.multiproc.manager").log(System.Logger.Level.DEBUG, this + ": releases not sent", e);
        } finally {
            writing.unlock();
        }
    }

    /** Hand-outs of ids this connection released to the server so far (for tests). */
    long receiptsReleased() {
        return receiptsReleased;
    }

    /** How many proxies of {@code id} this process counts as not garbage yet (for tests). */
    int liveProxies(long id) {
        synchronized (receipts) {
            Receipts c = receipts.get(id);
            return c == null ? 0 : c.live;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // best effort
        }
    }

    /**
     * A proxy of this connection. It travels in tasks, queues and pipes as a {@link RemoteHandle}: each
     * class declares {@code Object writeReplace()} returning {@code handle()} (JDK serialization and
     * the codec look for it on the class).
     */
    interface RemoteContainer extends io.multiproc.codec.HandleSource, java.io.Serializable {
        /** Its id, if it belongs to {@code m}; IllegalArgumentException otherwise. */
        RemoteRef ref(RemoteManager m);
    }
}
