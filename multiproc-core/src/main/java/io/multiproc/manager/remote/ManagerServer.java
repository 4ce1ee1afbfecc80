package io.multiproc.manager.remote;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;
import io.multiproc.manager.Manager;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.SequencedSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;

/**
 * Serves a manager's containers over TCP to {@link RemoteManager} clients (CPython's
 * {@code BaseManager(address, authkey).get_server().serve_forever()}). Not part of the public API:
 * users call {@code Manager.serve} or {@code multiproc manager serve}.
 *
 * <pre>{@code
 * try (Manager local = Manager.start("jobs");
 *      ManagerServer server = ManagerServer.start(local, new InetSocketAddress("127.0.0.1", 0), key)) {
 *     int port = server.address().getPort();   // clients: Manager.connect(new InetSocketAddress(host, port), key)
 *     server.awaitClose();
 * }
 * }</pre>
 *
 * <h2>Implementation overview</h2>
 * One acceptor thread; one platform thread per connection, which first runs the handshake
 * ({@link Wire}), which must be over within {@link #HANDSHAKE_TIMEOUT_MILLIS} in all, then a {@link ServerSession}.
 * Whatever a connection does (a wrong key, a malformed or hostile frame, a disconnect in the middle
 * of a request) ends that connection only: its thread closes the socket and returns. At most
 * {@link #MAX_CONNECTIONS} authenticated connections are open at once; a key holder beyond them is told
 * so in the handshake. At most {@link #MAX_HANDSHAKES} handshakes run at once: a new connection past
 * them closes the oldest handshake, so strangers who connect and stay silent cannot lock key holders
 * out (decision 185). Requests are decoded through the codec's data allow-list (decision record 051).
 */
public final class ManagerServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.multiproc.manager");
    static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    static final int MAX_CONNECTIONS = 256;
    /** Handshakes running at once; a key holder's takes about a millisecond, a stranger's up to its timeout. */
    static final int MAX_HANDSHAKES = 32;

    /**
     * The codec both sides use on a TCP connection: the data allow-list (the built-in types, records
     * and enums, java.base value types, multiproc's own classes; JDK serialization of no application
     * class, so no gadget's readObject runs), with a frame's size as its limit.
     */
    /**
     * Both ends' codec. NOTE: no shared objects (decision 184): a handle's readResolve attaches to what it
     * names in the decoding process, so a client could make the server map any segment, take a pipe end
     * over, open another manager's containers or connect to a Redis server of its choosing.
     */
    static final Codec CODEC = BuiltinCodec.builder().maxDepth(64).maxBytes(Wire.MAX_FRAME).sharedObjects(false).build();

    private final Manager manager;
    private final byte[] key;
    private final ServerSocket socket;
    private final Thread acceptor;
    /** Authenticated connections; taken once a client proved it has the key, by that client's thread. */
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    /** Connections in their handshake, oldest first; guarded by itself (the acceptor adds, each connection's thread removes its own). */
    private final SequencedSet<Socket> handshaking = new LinkedHashSet<>();
    private final Exports exports = new Exports();
    private final Unpinned unpinned;
    private volatile boolean closed;
    /** For tests: runs in the acceptor right after each accept (to inject a failure or a close there). */
    volatile Runnable afterAccept = () -> { };
    /** How long an unauthenticated connection may take over the whole handshake (settable for tests). */
    volatile int handshakeMillis = HANDSHAKE_TIMEOUT_MILLIS;

    private ManagerServer(Manager manager, Unpinned unpinned, byte[] key, ServerSocket socket) {
        this.manager = manager;
        this.unpinned = unpinned;
        this.key = key;
        this.socket = socket;
        this.acceptor = Thread.ofPlatform().name("multiproc-manager-server-" + socket.getLocalPort()).daemon(true)
                .unstarted(this::acceptLoop);
    }

    /**
     * Starts serving {@code manager} at {@code address} (port 0 picks a free port; see
     * {@link #address()}). The caller keeps owning the manager.
     */
    public static ManagerServer start(Manager manager, InetSocketAddress address, byte[] authkey) {
        Objects.requireNonNull(manager, "manager");
        Objects.requireNonNull(address, "address");
        byte[] key = Wire.checkedKey(authkey);
        Unpinned unpinned = new Unpinned(manager); // before the socket: a closed manager fails here, leaving nothing
        ServerSocket ss = null;
        try {
            ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(address, 64);
        } catch (IOException e) {
            closeQuietly(ss);
            throw new UncheckedIOException("cannot listen on address=" + address + ": " + e.getMessage(), e);
        }
        ManagerServer server = new ManagerServer(manager, unpinned, key, ss);
        server.acceptor.start();
        BatchWarmUp.startOnce(() -> server.closed); // a fresh server's first batch then runs compiled code
        return server;
    }

    /** Where the server listens. */
    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** Waits until {@link #close()} (from another thread or a shutdown hook). */
    public void awaitClose() throws InterruptedException {
        acceptor.join();
    }

    /** Stops accepting and closes every connection; the manager stays as it is. Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(socket);
        for (Socket s : open) {
            closeQuietly(s);
        }
    }

    private void acceptLoop() {
        int failures = 0;
        while (!closed) {
            Socket s;
            try {
                s = socket.accept();
                failures = 0;
            } catch (IOException | RuntimeException | Error e) {
                if (closed) {
                    return;
                }
                LOG.log(System.Logger.Level.WARNING, "manager server at " + address() + ": accept failed", e);
                backOff(++failures); // e.g. EMFILE: accept fails at once until a descriptor is free
                continue;
            }
            try {
                accepted(s);
            } catch (RuntimeException | Error e) {
                // NOTE: an Error here (OutOfMemoryError "unable to create native thread", say) ends this
                // connection only: were it to end the acceptor, Manager.serve would return, closing the
                // served manager and everything in it
                closeQuietly(s);
                LOG.log(System.Logger.Level.WARNING, "manager server at " + address() + ": could not serve "
                        + s.getRemoteSocketAddress(), e);
            }
        }
    }

    /** Hands a new connection to a thread of its own, making room among the handshakes first. */
    private void accepted(Socket s) {
        afterAccept.run();
        Socket oldest = null;
        synchronized (handshaking) {
            if (handshaking.size() >= MAX_HANDSHAKES) {
                oldest = handshaking.removeFirst();
            }
            handshaking.add(s);
        }
        if (oldest != null) {
            // NOTE: its thread fails in its next read and ends; a key holder's handshake is over long before
            // MAX_HANDSHAKES newer connections arrive, unless the server is flooded
            LOG.log(System.Logger.Level.DEBUG, "manager server: " + MAX_HANDSHAKES + " handshakes running, closing the oldest, "
                    + oldest.getRemoteSocketAddress());
            closeQuietly(oldest);
        }
        boolean started = false;
        try {
            open.add(s);
            if (closed) {
                // NOTE: close() sets closed, then closes what is in open: a socket accepted as it ran may
                // have been added after its sweep. closed is volatile, so either close() sees s in open
                // or this sees closed (the finally below closes s)
                return;
            }
            Thread.ofPlatform().daemon(true).name("multiproc-manager-client-" + s.getRemoteSocketAddress()).start(() -> {
                boolean[] admitted = {false};
                try {
                    serve(s, () -> {
                        handshakeOver(s);
                        admitted[0] = slots.tryAcquire();
                        return admitted[0];
                    });
                } finally {
                    handshakeOver(s);
                    open.remove(s);
                    closeQuietly(s);
                    if (admitted[0]) {
                        slots.release();
                    }
                }
            });
            started = true;
        } finally {
            if (!started) {
                handshakeOver(s);
                open.remove(s);
                closeQuietly(s);
            }
        }
    }

    private void handshakeOver(Socket s) {
        synchronized (handshaking) {
            handshaking.remove(s);
        }
    }

    /** Sleeps a little longer after each consecutive failure of accept, up to a second. */
    private static void backOff(int failures) {
        try {
            Thread.sleep(Math.min(1_000, 10L << Math.min(failures, 7)));
        } catch (InterruptedException e) {
            // no one interrupts the acceptor (close() ends it); kept set, every later sleep would spin
        }
    }

    /** One connection, start to end; never throws (whatever happens ends this connection only). */
    private void serve(Socket s, BooleanSupplier admit) {
        String peer = String.valueOf(s.getRemoteSocketAddress());
        try {
            s.setTcpNoDelay(true);
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 64 << 10));
            // NOTE: unbuffered, so it reads nothing past the handshake; the client sends its first request
            // only after the server's answer anyway
            DataInputStream handshakeIn = new DataInputStream(new HandshakeInput(s, handshakeMillis));
            switch (Wire.serverHandshake(handshakeIn, out, key, admit)) {
                case REFUSED -> {
                    LOG.log(System.Logger.Level.DEBUG, "manager server: " + peer + " did not have the authkey");
                    return;
                }
                case FULL -> {
                    LOG.log(System.Logger.Level.WARNING, "manager server: " + MAX_CONNECTIONS + " connections open, refusing "
                            + peer);
                    return;
                }
                case ADMITTED -> { }
            }
            s.setSoTimeout(0); // an idle client may stay connected; its death closes the socket
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 64 << 10));
            keepAlive(s);
            new ServerSession(manager, exports, unpinned, CODEC, in, out).run();
        } catch (EOFException e) {
            LOG.log(System.Logger.Level.DEBUG, "manager server: " + peer + " disconnected");
        } catch (SocketException e) {
            LOG.log(System.Logger.Level.DEBUG, "manager server: " + peer + ": " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.DEBUG, "manager server: closed the connection of " + peer + ": " + e);
            }
        } catch (StackOverflowError | OutOfMemoryError e) {
            LOG.log(System.Logger.Level.WARNING, "manager server: closed the connection of " + peer + ": " + e);
        }
    }

    /**
     * A socket's input for the handshake: every read waits at most what is left of the handshake's total
     * time, so a peer sending its answer a byte at a time (each within a per-read timeout) cannot hold a
     * connection slot for minutes; 256 of them would lock every client out.
     */
    private static final class HandshakeInput extends java.io.InputStream {
        private final Socket socket;
        private final java.io.InputStream in;
        private final long deadline;
        private final int millis;

        HandshakeInput(Socket socket, int millis) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.millis = millis;
            this.deadline = System.nanoTime() + millis * 1_000_000L;
        }

        private void beforeRead() throws IOException {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new java.net.SocketTimeoutException("handshake not completed within " + millis + " ms");
            }
            socket.setSoTimeout((int) left);
        }

        @Override
        public int read() throws IOException {
            beforeRead();
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            beforeRead();
            return in.read(b, off, len);
        }
    }

    /**
     * A client process that dies closes its socket, but a client host that loses power or its network
     * sends nothing: without keep-alive probes its session would hold a thread and a connection slot
     * for good. Probes after 60 s idle, every 10 s, 6 unanswered end the connection (about 2 minutes);
     * where the finer options are missing, the system's keep-alive timing (Linux: 2 hours idle).
     */
    private static void keepAlive(Socket s) throws SocketException {
        s.setKeepAlive(true);
        try {
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE, 60);
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, 10);
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT, 6);
        } catch (UnsupportedOperationException | IOException | LinkageError e) {
            // the system's timing applies
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing is best effort
            }
        }
    }
}
