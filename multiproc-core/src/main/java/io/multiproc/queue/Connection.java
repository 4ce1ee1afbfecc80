package io.multiproc.queue;

import io.multiproc.codec.Codec;
import io.multiproc.internal.InFlight;
import io.multiproc.internal.MappedObject;
import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.internal.SharedSegments;
import io.multiproc.internal.ThreadFlag;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.WaitWord;
import io.multiproc.wait.Waiting;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;

import static io.multiproc.queue.PipeLayout.CLOSED;
import static io.multiproc.queue.PipeLayout.OWNER;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One end of a {@link Pipe}: Python's {@code multiprocessing.connection.Connection}. Sends objects
 * ({@link #send}, encoded by the pipe's codec) or raw bytes ({@link #sendBytes}); receives them in
 * order with message boundaries kept.
 *
 * <pre>{@code
 * Pipe pipe = Pipe.open(true);
 * Connection parent = pipe.left(), child = pipe.right();
 * ChildProcess.start(() -> { child.send("ready"); child.sendBytes(new byte[] {1, 2}); child.close(); });
 * parent.recv();                                   // "ready"
 * parent.poll(Duration.ofSeconds(1));              // true: a message is waiting
 * parent.recvBytes();                              // {1, 2}
 * parent.recv();                                   // EOFException: the child closed its end
 * }</pre>
 *
 * <h2>Behaviour</h2>
 * <ul>
 *   <li>Messages of any length: zero-length messages are messages ({@link #poll} says true for them);
 *       ones larger than half the pipe's ring (1 MiB per direction by default) go through a spill
 *       segment, so a 16 MB message works. {@code send} returns once the message is in shared memory;
 *       it waits only when the ring is full.</li>
 *   <li><b>End of stream</b>: when the other end is closed, or the process using it has exited or
 *       died, a {@code recv} on a drained pipe throws {@link EOFException} (messages sent before that
 *       are still received first), and {@code send} throws {@link IOException} ("broken pipe"). A close,
 *       and a normal exit (a shutdown hook closes the ends a process owns), are seen at once; a SIGKILL
 *       within about 30 ms by a waiting receiver (it checks the peer's process every 5 ms while it
 *       waits), and by a sender once the ring is full. {@link #poll} returns true at end of stream too,
 *       as Python's does: {@code recv} would not block.</li>
 *   <li><b>An end belongs to one process</b>: the one that created it, or the last one that received it
 *       (a lambda given to {@code ChildProcess.start} that captures it, or any other deserialization).
 *       Receiving an end moves it there; the sender's copy then throws {@link IllegalStateException} if
 *       used, and closing that copy only releases it. So the usual code works without Python's "close
 *       your copy of the child's end": the child's end is closed when the child closes it or exits.</li>
 *   <li>A one-way pipe's left end only receives and its right end only sends; the other direction
 *       throws {@link IllegalStateException}.</li>
 *   <li>Blocking calls honour interrupts with {@link InterruptedIOException} (the interrupt status is
 *       set again) and have timed variants: {@link #recv(Duration)} and {@link #recvBytes(Duration)}
 *       throw {@link TimeoutException}, {@link #send(Object, Duration)} returns false.</li>
 *   <li>After {@link #close()}, every method of this end throws {@link IllegalStateException} naming it.</li>
 * </ul>
 * Thread-safety: any number of threads may use an end; sends are serialized among themselves, and so
 * are receives (a monitor per direction; the ring itself has one writer and one reader).
 *
 * <h2>Implementation overview</h2>
 * <b>Algorithm.</b> Each direction is a single-producer single-consumer ring of records
 * ({@link PipeChannel}, {@code RecordLayout}; layout {@code PipeLayout}). The sender encodes into a
 * per-thread buffer, writes the record and publishes it with a release store of the channel's tail
 * word; the receiver copies the record out and frees it with a release store of the head word. No
 * locks: an end is used by one process, and within it the monitors serialize threads. Messages over
 * half the ring spill into a segment of their own, as queue items do.
 * <p><b>Shared fields.</b> Tail word: written by the sending end's process only; head word: by the
 * receiving end's process only; each reads the other's with volatile reads, and only when its view
 * says full or empty. Owner token of an end: a volatile write by the process that creates or receives
 * the end (the transfer); read by the peer's liveness checks and by this end's own calls (a copy left
 * behind in another process refuses to be used). Closed flag: 0, then 1 by a volatile write of the
 * owner after all its sends (so a peer that sees it and re-reads the tail has every message); never
 * reset. Wait words: as for queues, one fence after the release stores before the sleeper check.
 * <p><b>Dead processes.</b> A sender killed mid-message has not moved the tail: the receiver never sees
 * the partial message, receives everything before it, and then, within about 30 ms of waiting, sees the
 * owner token's process gone and throws {@link EOFException}. A receiver killed mid-read loses at most
 * that message; a sender to it fails with "broken pipe" once the ring is full and it has waited 5 ms.
 * The segment goes when the last process using it closes or dies, like every shared object's.
 */
public final class Connection extends MappedObject implements Serializable {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final long ME = ProcessIdentity.current().token();
    private static final long LIVENESS_CHECK_NANOS = 5_000_000L;
    /**
     * Or'ed into an end's owner token by a sender that closed its copy of the end before the receiver
     * attached (bit 62: free in every token). The receiver's take-over replaces it. Until then the end
     * is alive while another process or a carrier may still take it ({@link SegmentRegistry#heldByOthers}):
     * closing the copy must not close the end (Python closes its copy right after starting the child),
     * and a receiver that can no longer come (died first, carrier gone) must not leave the peer waiting.
     */
    private static final long IN_TRANSIT = 1L << 62;
    /** How often a waiting peer asks the registry about an end in transit (a lock and a directory scan). */
    private static final long TRANSIT_CHECK_NANOS = 100_000_000L;
    /** Wait rounds of a {@code PeerWatch} that count as spinning: a little more than blocking()'s spin and yield phases. */
    private static final int SPIN_CALLS = 128;
    /** This process's open ends, so that an end received again resolves to the same object. */
    private static final Map<String, Connection> OPEN = new ConcurrentHashMap<>();
    /**
     * How many decodes on this thread look at a queue item without taking it ({@link #lookAt}): an end
     * decoded there is a view that takes nothing over, since the end still waits for its taker.
     */
    private static final ThreadFlag LOOKING = new ThreadFlag();

    /** What a received message becomes (static, so the hot path allocates no lambda). */
    private static final BiFunction<Connection, Scratch, Object> DECODE = Connection::decodeTaken;
    private static final BiFunction<Connection, Scratch, byte[]> BYTES = (c, s) -> Arrays.copyOf(s.inputArray(), s.inputLength());

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Connection::closeAllAtExit, "multiproc-pipes-exit"));
    }

    /** {@code PipeLayout.LEFT} or {@code RIGHT}. */
    private final transient int end;
    private final transient boolean duplex;
    /** The channel this end receives on (its head word is written by this end's process only), or null. */
    private final transient PipeChannel in;
    /** The channel this end sends on (its tail word is written by this end's process only), or null. */
    private final transient PipeChannel out;
    private final transient Codec codec;
    /** The creator's strategy (recorded in the segment), shared by both ends in every process. */
    private final transient IdleStrategy idle;
    /** Offsets of this end's line (owner token, closed flag: written by this end's owner) and the peer's. */
    private final transient long myEnd;
    private final transient long peerEnd;
    /** This handle's operations in flight and its closed bit (heap, this process only). */
    private final transient Guard guard = new Guard();
    /** Serialize this process's threads on each direction: the ring has one writer and one reader. */
    private final transient Object sendLock = new Object();
    private final transient Object receiveLock = new Object();
    /**
     * Set when this copy of the end was encoded to travel (to a child, in a queue item or a pipe message);
     * its close then lets the end go in transit instead of closing it ({@link #IN_TRANSIT}). Written by the
     * encoding thread, read by the closing one (volatile).
     */
    private transient volatile boolean sent;

    private Connection(SharedSegments.Mapping mapping, int end, IdleStrategy custom, Codec codec) {
        super(mapping);
        this.end = end;
        int channels = whole.get(JAVA_INT, PipeLayout.CHANNELS);
        int capacity = whole.get(JAVA_INT, PipeLayout.CAPACITY);
        this.duplex = channels == 2;
        int inChannel = PipeLayout.receiveChannel(channels, end);
        int outChannel = PipeLayout.sendChannel(channels, end);
        this.in = inChannel < 0 ? null : new PipeChannel(whole, channels, inChannel, capacity);
        this.out = outChannel < 0 ? null : new PipeChannel(whole, channels, outChannel, capacity);
        this.idle = Idles.of(whole.get(JAVA_INT, PipeLayout.IDLE), custom);
        this.codec = codec;
        this.myEnd = PipeLayout.end(end);
        this.peerEnd = PipeLayout.end(1 - end);
    }

    /** Both ends of a new pipe, owned by this process. */
    static Connection[] open(boolean duplex, int capacity, IdleStrategy idle, Codec codec) {
        int channels = duplex ? 2 : 1;
        SharedSegments.Mapping m = SharedSegments.create("mpp_", PipeLayout.segmentSize(channels, capacity), seg -> {
            seg.set(JAVA_INT, PipeLayout.CAPACITY, capacity);
            seg.set(JAVA_INT, PipeLayout.CHANNELS, channels);
            seg.set(JAVA_INT, PipeLayout.IDLE, Idles.code(idle));
            seg.set(JAVA_LONG, PipeLayout.end(PipeLayout.LEFT) + OWNER, ME);
            seg.set(JAVA_LONG, PipeLayout.end(PipeLayout.RIGHT) + OWNER, ME);
            SegmentHeader.write(seg, PipeLayout.MAGIC, PipeLayout.VERSION, duplex ? PipeLayout.KIND_DUPLEX : PipeLayout.KIND_ONE_WAY);
        });
        SharedSegments.Mapping second;
        try {
            second = SharedSegments.attach(m.name());
        } catch (IOException | RuntimeException e) {
            m.release();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
        Connection left = new Connection(m, PipeLayout.LEFT, idle, codec);
        Connection right = new Connection(second, PipeLayout.RIGHT, idle, codec);
        OPEN.put(left.key(), left);
        OPEN.put(right.key(), right);
        return new Connection[] {left, right};
    }

    /**
     * Runs {@code decode}, which looks at a queued item without taking it (a peek, an iterator): pipe
     * ends in it resolve to views that leave the end where it is. Taking one over would move it to a
     * process that is not its receiver, whose exit hook then closes it under its real taker.
     */
    static <T> T lookAt(java.util.function.Supplier<T> decode) {
        return LOOKING.during(decode);
    }

    /**
     * Resolves a received end in this process: attaches (or finds it here) and takes it over; inside
     * {@link #lookAt} only attaches (or finds it), and the view's calls throw as a copy left behind does.
     */
    static Connection resolve(String name, int end, IdleStrategy custom, Codec codec) {
        boolean looking = LOOKING.isSet();
        Connection here = OPEN.get(name + "/" + end);
        if (here != null && !here.guard.isClosed()) {
            if (!looking) {
                here.adoptInFlightHold();
                here.takeOver();
            }
            return here;
        }
        SharedSegments.Mapping m;
        try {
            m = SharedSegments.attach(name, seg -> checkHeader(seg, name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot attach pipe '" + name + "': " + e.getMessage(), e);
        }
        Connection c = new Connection(m, end, custom, codec);
        if ((int) INT.getVolatile(c.whole, c.myEnd + CLOSED) != 0) {
            c.guard.close(() -> { }); // received after its owner closed it: a closed end
            c.releaseMapping();
            return c;
        }
        Connection raced = OPEN.putIfAbsent(c.key(), c);
        if (raced != null) {
            c.guard.close(() -> { });
            c.releaseMapping();
            if (!looking) {
                raced.takeOver();
            }
            return raced;
        }
        if (!looking) {
            c.takeOver();
        }
        return c;
    }

    private static void checkHeader(java.lang.foreign.MemorySegment seg, String name) {
        int kind = seg.byteSize() >= SegmentHeader.SIZE ? seg.get(JAVA_INT, SegmentHeader.KIND_OFFSET) : 0;
        SegmentHeader.check(seg, name, "Pipe", PipeLayout.MAGIC, PipeLayout.VERSION,
                kind == PipeLayout.KIND_ONE_WAY ? kind : PipeLayout.KIND_DUPLEX);
    }

    /**
     * Takes the end over: it is this process's again, also when it comes back to the process that sent
     * it (so a later close closes it rather than letting it go in transit).
     */
    private void takeOver() {
        sent = false;
        LONG.setVolatile(whole, myEnd + OWNER, ME); // NOTE: from now on the peer watches this process
    }

    /**
     * For an end received by a process that still has it open: drops the carrier's in-flight hold on the
     * pipe, as a first attach would (an attach inside the receive bracket swaps that hold for this
     * process's, {@code SharedSegments.attach}); the extra reference goes at once. Otherwise the hold
     * stayed while the carrier lived: the pipe outlived both closed ends, and a peer asking whether the
     * end may still be taken ({@link #takeableByOthers()}) waited instead of seeing end of stream.
     */
    private void adoptInFlightHold() {
        try {
            SharedSegments.attach(name()).release();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot take pipe '" + name() + "' over from its carrier: " + e.getMessage(), e);
        }
    }

    private String key() {
        return name() + "/" + end;
    }

    // ------------------------------------------------------------------ sending

    /** Sends {@code message} (encoded by the pipe's codec), waiting while the ring is full. */
    public void send(Object message) throws IOException {
        sendEncoded(message, Waiting.FOREVER);
    }

    /**
     * Sends {@code message}, waiting at most {@code timeout} for room.
     *
     * @return false if there was no room in time; nothing was sent
     */
    public boolean send(Object message, Duration timeout) throws IOException {
        return sendEncoded(message, deadline(timeout));
    }

    private boolean sendEncoded(Object message, long deadline) throws IOException {
        PipeChannel ch = sending();
        Scratch s = Scratch.acquire();
        try {
            codec.encode(message, s.sink()); // NOTE: before anything is written: a failure sends nothing
            // NOTE: shared objects in the message are held by the pipe before it is sent (InFlight)
            InFlight.Holds held = s.flight.holdFor(s.flightMark, name());
            boolean sent = false;
            try {
                sent = sendRaw(ch, s.sink().array(), s.sink().size(), deadline);
                return sent;
            } finally {
                if (!sent && held != null) {
                    held.release();
                }
            }
        } finally {
            s.release();
        }
    }

    /** Decodes a received message: shared objects in it take over the pipe's in-flight holds. */
    private Object decodeTaken(Scratch s) {
        String previous = s.flight.beginReceive(name());
        try {
            return codec.decode(s.source());
        } finally {
            s.flight.endReceive(previous);
        }
    }

    /** Sends {@code bytes} as one message (Python's {@code send_bytes}). */
    public void sendBytes(byte[] bytes) throws IOException {
        sendBytes(bytes, 0, Objects.requireNonNull(bytes, "bytes").length);
    }

    /** Sends {@code bytes[offset, offset + length)} as one message (Python's {@code send_bytes(buf, offset, size)}). */
    public void sendBytes(byte[] bytes, int offset, int length) throws IOException {
        sendSlice(bytes, offset, length, Waiting.FOREVER);
    }

    /**
     * Sends {@code bytes[offset, offset + length)} as one message, waiting at most {@code timeout} for
     * room; false if there was none (nothing is sent).
     */
    public boolean sendBytes(byte[] bytes, int offset, int length, Duration timeout) throws IOException {
        return sendSlice(bytes, offset, length, deadline(timeout));
    }

    private boolean sendSlice(byte[] bytes, int offset, int length, long deadline) throws IOException {
        Objects.checkFromIndexSize(offset, length, Objects.requireNonNull(bytes, "bytes").length);
        PipeChannel ch = sending();
        if (offset == 0) {
            return sendRaw(ch, bytes, length, deadline);
        }
        Scratch s = Scratch.acquire();
        try {
            s.sink().write(bytes, offset, length);
            return sendRaw(ch, s.sink().array(), length, deadline);
        } finally {
            s.release();
        }
    }

    /** Sends {@code bytes}, waiting at most {@code timeout} for room; false if there was none. */
    public boolean sendBytes(byte[] bytes, Duration timeout) throws IOException {
        long deadline = deadline(timeout);
        return sendRaw(sending(), Objects.requireNonNull(bytes, "bytes"), bytes.length, deadline);
    }

    private boolean sendRaw(PipeChannel ch, byte[] src, int length, long deadline) throws IOException {
        enter();
        try {
            synchronized (sendLock) {
                checkOwned(); // NOTE: again: this thread may have waited for the lock while the end moved
                if (length <= ch.maxInline) {
                    return put(ch, RecordLayout.ITEM, src, length, deadline);
                }
                return Spills.appendSpilled(src, length, name(), (kind, ref, n) -> put(ch, kind, ref, n, deadline));
            }
        } finally {
            guard.exit();
        }
    }

    private boolean put(PipeChannel ch, int kind, byte[] src, int length, long deadline) throws IOException {
        if ((int) INT.getVolatile(whole, peerEnd + CLOSED) != 0) {
            throw brokenPipe();
        }
        if (ch.trySend(kind, src, length)) {
            return true;
        }
        PeerWatch peer = new PeerWatch(false);
        boolean ok = await(ch.space, () -> {
            checkOpen();
            checkOwned(); // as receive's waiters: a second writer beside the new owner
            return ch.trySend(kind, src, length) || peer.gone();
        }, deadline);
        if (ok && peer.gone) {
            throw brokenPipe();
        }
        return ok;
    }

    // ------------------------------------------------------------------ receiving

    /** Receives the next message and decodes it; waits for one. */
    public Object recv() throws IOException {
        return receiveForever(DECODE);
    }

    /** Receives the next message, waiting at most {@code timeout}. */
    public Object recv(Duration timeout) throws IOException, TimeoutException {
        return receiveWithin(timeout, DECODE);
    }

    /** Receives the next message as bytes (Python's {@code recv_bytes}); waits for one. */
    public byte[] recvBytes() throws IOException {
        return receiveForever(BYTES);
    }

    /** Receives the next message as bytes, waiting at most {@code timeout}. */
    public byte[] recvBytes(Duration timeout) throws IOException, TimeoutException {
        return receiveWithin(timeout, BYTES);
    }

    private <T> T receiveForever(BiFunction<Connection, Scratch, T> as) throws IOException {
        Scratch s = Scratch.acquire();
        try {
            receive(s, Waiting.FOREVER);
            return as.apply(this, s);
        } finally {
            s.release();
        }
    }

    private <T> T receiveWithin(Duration timeout, BiFunction<Connection, Scratch, T> as) throws IOException, TimeoutException {
        long deadline = deadline(timeout);
        Scratch s = Scratch.acquire();
        try {
            if (!receive(s, deadline)) {
                throw timedOut(timeout);
            }
            return as.apply(this, s);
        } finally {
            s.release();
        }
    }

    /** Copies the next message into {@code s}; false at the deadline; EOFException at end of stream. */
    private boolean receive(Scratch s, long deadline) throws IOException {
        PipeChannel ch = receiving();
        enter();
        try {
            synchronized (receiveLock) {
                checkOwned(); // NOTE: again: this thread may have waited for the lock while the end moved
                if (ch.tryReceive(s)) {
                    return true;
                }
                PeerWatch peer = new PeerWatch(false);
                boolean ok = peer.gone() || await(ch.data, () -> {
                    checkOpen();
                    // NOTE: a thread already waiting when this process passed the end on stops here: it
                    // would be a second reader of a ring with one, beside the new owner
                    checkOwned();
                    return ch.tryReceive(s) || peer.gone();
                }, deadline);
                if (ok && peer.gone) {
                    // NOTE: the peer's last tail write came before its closed flag (or its death):
                    // one more look gets every message it sent.
                    if (ch.tryReceive(s)) {
                        return true;
                    }
                    throw new EOFException(this + ": the other end " + (peer.died ? "is gone (its process died)" : "was closed")
                            + " and every message has been received");
                }
                return ok;
            }
        } finally {
            guard.exit();
        }
    }

    /**
     * Waits until at least one of {@code objects} is ready, or {@code timeout} passes: CPython's
     * {@code multiprocessing.connection.wait}. Ready means: a {@link Connection} whose {@link #poll()}
     * is true (a message, or end of stream); a {@link SharedQueue} (any {@link java.util.Queue}) that is
     * not empty, or closed for writing; a {@link java.util.concurrent.Future} that is done, such as
     * {@code ChildProcess.onExit()} (CPython's process sentinel).
     *
     * <pre>{@code
     * List<Object> ready = Connection.wait(List.of(fromA, fromB, queue, child.onExit()), Duration.ofSeconds(5));
     * for (Object o : ready) { if (o instanceof Connection c) handle(c.recv()); }
     * }</pre>
     *
     * @return the ready objects, in the collection's order; empty after the timeout
     * @throws IllegalArgumentException naming an object of another kind (checked before waiting)
     * @throws InterruptedIOException if interrupted (the interrupt status is set again)
     */
    public static List<Object> wait(Collection<?> objects, Duration timeout) throws IOException {
        Objects.requireNonNull(objects, "objects");
        long deadline = deadline(timeout);
        for (Object o : objects) {
            if (!(o instanceof Connection || o instanceof java.util.Queue<?> || o instanceof java.util.concurrent.Future<?>)) {
                throw new IllegalArgumentException("objects element=" + o + " (" + (o == null ? "null" : o.getClass().getName())
                        + ") is not a Connection, a queue or a Future");
            }
        }
        IdleStrategy idle = IdleStrategy.backoff();
        for (int round = 0; ; round++) {
            List<Object> ready = new ArrayList<>();
            for (Object o : objects) {
                if (isReady(o)) {
                    ready.add(o);
                }
            }
            if (!ready.isEmpty() || System.nanoTime() - deadline >= 0) {
                return ready;
            }
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for " + objects.size() + " objects");
            }
            // NOTE: the objects have different wait words (or none: a Future), so this polls them all
            // with backoff (up to 1 ms between looks) rather than sleeping on one.
            idle.pause(round);
        }
    }

    private static boolean isReady(Object o) throws IOException {
        if (o instanceof Connection c) {
            return c.poll();
        }
        if (o instanceof SharedQueue<?> q) {
            return !q.isEmpty() || q.isClosedForWriting();
        }
        if (o instanceof java.util.Queue<?> q) {
            return !q.isEmpty();
        }
        return ((java.util.concurrent.Future<?>) o).isDone();
    }

    /** True if a message can be received now or the other end is gone (recv would not block). */
    public boolean poll() throws IOException {
        return poll(Duration.ZERO);
    }

    /**
     * Waits at most {@code timeout} until a message can be received or the other end is gone.
     *
     * @return true if {@code recv} would not block now
     */
    public boolean poll(Duration timeout) throws IOException {
        long deadline = deadline(timeout);
        PipeChannel ch = receiving();
        enter();
        try {
            if (ch.hasMessage()) {
                return true;
            }
            PeerWatch peer = new PeerWatch(timeout.isZero());
            if (peer.gone() || timeout.isZero()) {
                return peer.gone || ch.hasMessage();
            }
            return await(ch.data, () -> {
                checkOpen();
                return ch.hasMessage() || peer.gone();
            }, deadline);
        } finally {
            guard.exit();
        }
    }

    /**
     * Whether the other end is gone: its closed flag (read every time), or its process's death (checked
     * every {@link #LIVENESS_CHECK_NANOS}, a /proc read, so never on the fast path). During the first
     * {@link #SPIN_CALLS} calls (the spinning rounds of a wait) the clock is read only every 64th call,
     * so a spinning receiver reacts to a message without clock reads; later rounds may sleep up to 20 ms
     * each, so from then on every call reads it.
     */
    private final class PeerWatch {
        private long lastCheck;
        private long lastTransitCheck;
        private int calls;
        boolean gone;
        boolean died;

        PeerWatch(boolean checkNow) {
            lastCheck = checkNow ? System.nanoTime() - LIVENESS_CHECK_NANOS : System.nanoTime();
            calls = checkNow ? -1 : 0;
        }

        boolean gone() {
            if ((int) INT.getVolatile(whole, peerEnd + CLOSED) != 0) {
                return gone = true;
            }
            if (++calls < SPIN_CALLS && (calls & 63) != 0) {
                return false;
            }
            long now = System.nanoTime();
            if (now - lastCheck < LIVENESS_CHECK_NANOS) {
                return false;
            }
            lastCheck = now;
            long owner = (long) LONG.getVolatile(whole, peerEnd + OWNER);
            if ((owner & IN_TRANSIT) != 0 || owner == ME && peerCopySent()) {
                if (now - lastTransitCheck >= TRANSIT_CHECK_NANOS) {
                    lastTransitCheck = now;
                    return gone = !takeableByOthers();
                }
                return false;
            }
            if (owner != ME && !ProcessIdentity.isAliveRecently(owner)) { // /proc: pid and start time
                died = true;
                return gone = true;
            }
            return false;
        }
    }

    /**
     * True if this process's copy of the other end was sent away (to a child, in a queue item or a
     * message) and is still open here: the end then belongs to its receiver, which may not have attached
     * yet, or may never (a child that died first), as if the copy had been closed.
     */
    private boolean peerCopySent() {
        Connection copy = OPEN.get(name() + "/" + (1 - end));
        return copy != null && copy.sent;
    }

    /** True if a process other than this one, or a carrier, may still take this pipe's end in transit. */
    private boolean takeableByOthers() {
        try {
            return SegmentRegistry.heldByOthers(name());
        } catch (IOException | RuntimeException cannotTell) {
            return true; // keep waiting: the timed variants still bound the wait
        }
    }

    // ------------------------------------------------------------------ state and lifetime

    /** Python's {@code closed}: true once this end was closed here. */
    public boolean closed() {
        return guard.isClosed();
    }

    /** True for the ends of a duplex pipe. */
    public boolean isDuplex() {
        return duplex;
    }

    /** True if this end can receive (always, except the right end of a one-way pipe). */
    public boolean readable() {
        return in != null;
    }

    /** True if this end can send (always, except the left end of a one-way pipe). */
    public boolean writable() {
        return out != null;
    }

    /**
     * Closes this end: the other end's {@code recv} then throws {@link EOFException} once it has
     * received what was sent, and its {@code send} throws {@link IOException}. Closing a copy of an end
     * that was passed to another process only releases the copy, also before that process has attached
     * (Python's habit of closing the child's end right after start). Idempotent.
     */
    @Override
    public void close() {
        if (!guard.close(this::wakeAll)) {
            return;
        }
        if ((long) LONG.getVolatile(whole, myEnd + OWNER) == ME) {
            if (sent) {
                // NOTE: a CAS: the receiver may take the end over at this very moment
                LONG.compareAndSet(whole, myEnd + OWNER, ME, ME | IN_TRANSIT);
            } else {
                // NOTE: volatile, after every tail write of this end's sends, so a peer that reads the
                // flag and then the tail sees every message.
                INT.setVolatile(whole, myEnd + CLOSED, 1);
            }
            wakeAll();
        }
        OPEN.remove(key(), this);
        releaseMapping();
    }

    private void releaseMapping() {
        super.close();
    }

    /**
     * At JVM exit, marks the ends this process owns closed, so that peers see end of stream at once
     * (as the kernel closes a process's pipe descriptors). An end this process sent away and nobody took
     * yet is not closed but let go in transit, as {@link #close()} does: it belongs to its receiver.
     * Only the words: the mapping stays until the process is gone, whatever the order of shutdown hooks.
     * SIGKILL skips this; peers then notice the death itself (or, for an end in transit, that nobody
     * can take it any more).
     */
    private static void closeAllAtExit() {
        for (Connection c : OPEN.values()) {
            try {
                if ((long) LONG.getVolatile(c.whole, c.myEnd + OWNER) != ME) {
                    continue;
                }
                if (c.sent) {
                    // NOTE: a CAS, as in close(): the receiver may take the end over at this very moment
                    LONG.compareAndSet(c.whole, c.myEnd + OWNER, ME, ME | IN_TRANSIT);
                } else {
                    // NOTE: after every send of this process (as in close()): a peer that sees the flag
                    // and re-reads the tail has every message.
                    INT.setVolatile(c.whole, c.myEnd + CLOSED, 1);
                }
                c.wakeAll();
            } catch (RuntimeException e) {
                // best effort at exit
            }
        }
    }

    private void wakeAll() {
        for (PipeChannel ch : new PipeChannel[] {in, out}) {
            if (ch != null) {
                ch.data.wakeAll();
                ch.space.wakeAll();
            }
        }
    }

    private String side() {
        return end == PipeLayout.LEFT ? "left" : "right";
    }

    @Override
    public String toString() {
        return "Connection[pipe=" + name() + ", end=" + side() + (duplex ? ", duplex" : ", one-way")
                + (guard.isClosed() ? ", closed]" : "]");
    }

    // ------------------------------------------------------------------ helpers

    private PipeChannel sending() {
        return usable(out, "only receives");
    }

    private PipeChannel receiving() {
        return usable(in, "only sends");
    }

    /** {@code ch} if this end is open, has that direction and belongs to this process; else throws. */
    private PipeChannel usable(PipeChannel ch, String onlyTheOther) {
        checkOpen();
        if (ch == null) {
            throw new IllegalStateException("Connection " + side() + " of one-way pipe '" + name() + "' " + onlyTheOther
                    + " (Pipe.open(false): left receives, right sends)");
        }
        checkOwned();
        return ch;
    }

    private void checkOwned() {
        long owner = (long) LONG.getVolatile(whole, myEnd + OWNER);
        if (owner != ME) {
            throw new IllegalStateException("Connection " + side() + " of pipe '" + name() + "' was passed to pid="
                    + ProcessIdentity.pidOf(owner) + " and belongs to that process now");
        }
    }

    private void checkOpen() {
        if (guard.isClosed()) {
            throw new IllegalStateException("Connection " + side() + " of pipe '" + name() + "' is closed");
        }
    }

    private void enter() {
        if (!guard.enter()) {
            checkOpen();
        }
    }

    private IOException brokenPipe() {
        return new IOException("broken pipe: " + this + ": the other end was closed or its process died");
    }

    private TimeoutException timedOut(Duration timeout) {
        return new TimeoutException("no message within timeout=" + timeout + " on " + this);
    }

    private boolean await(WaitWord word, Waiting.Ready ready, long deadline) throws InterruptedIOException {
        try {
            return Waiting.await(word, idle, ready, deadline, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException io = new InterruptedIOException("interrupted while waiting on " + this);
            io.initCause(e);
            throw io;
        }
    }

    private static long deadline(Duration timeout) {
        return Waiting.deadline(Waiting.nanos(timeout));
    }

    @Serial
    Object writeReplace() throws ObjectStreamException {
        sent = true;
        return new ConnectionHandle(nameInFlight(), end, Idles.portable(idle), QueueHandle.portableCodec("Connection", name(), codec));
    }

    /** Serialized form of an end; {@code readResolve} moves the end to the receiving process. */
    record ConnectionHandle(String name, int end, IdleStrategy idle, Codec codec) implements Serializable {
        @Serial
        Object readResolve() throws ObjectStreamException {
            try {
                return resolve(name, end, idle, codec != null ? codec : Codec.defaultCodec());
            } catch (RuntimeException e) {
                java.io.InvalidObjectException ioe = new java.io.InvalidObjectException("cannot attach pipe '" + name + "': " + e.getMessage());
                ioe.initCause(e);
                throw ioe;
            }
        }
    }
}
