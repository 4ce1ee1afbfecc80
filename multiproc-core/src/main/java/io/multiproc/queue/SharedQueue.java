package io.multiproc.queue;

import io.multiproc.internal.Releases;

import io.multiproc.codec.ByteSource;
import io.multiproc.codec.Codec;
import io.multiproc.codec.CodecException;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.InFlight;
import io.multiproc.internal.MappedObject;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.Waiting;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.AbstractQueue;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded blocking queue in shared memory, for any number of producers and consumers in any
 * processes: Python's {@code multiprocessing.Queue} as a {@link BlockingQueue}.
 *
 * <pre>{@code
 * try (SharedQueue<String> q = SharedQueue.create(1000)) {
 *     ChildProcess p = ChildProcess.start(() -> {
 *         for (int i = 0; i < 3; i++) q.put("job " + i);   // returns as soon as the item is in the queue
 *     });
 *     for (int i = 0; i < 3; i++) System.out.println(q.take());   // job 0, job 1, job 2
 *     String none = q.poll(Duration.ofMillis(100));                 // null: nothing came in time
 *     p.join();
 * }
 * }</pre>
 *
 * <h2>Behaviour</h2>
 * <ul>
 *   <li><b>Bounded twice</b>: by item count ({@code maxItems}) and by the bytes of its ring
 *       ({@code capacityBytes}, rounded up to a power of two; default 64 bytes per item, between 64 KiB
 *       and 16 MiB). An item whose encoding is larger than half the ring goes to a spill segment of its
 *       own and takes one item slot and a few bytes of the ring: a 16 MB item in a 64 KiB queue works.
 *       A spilled item costs about half a millisecond more than one kept in the ring (a file, two
 *       mappings): give the ring at least twice the size of the usual item.
 *       {@link #remainingCapacity()} counts items only.</li>
 *   <li><b>Synchronous puts</b>: {@code put}/{@code offer} encode the item in the calling thread with
 *       the queue's {@link Codec}, then copy it into shared memory before returning. There is no feeder
 *       thread: an item that cannot be encoded fails at the call ({@link CodecException} naming its
 *       class) and nothing is written; a producer may exit right after {@code put} returns, and the item
 *       stays in the queue (CPython's join-before-drain deadlock, gh-73983, cannot happen).</li>
 *   <li><b>Order</b>: FIFO overall (the ring is one sequence), so in particular FIFO per producer.</li>
 *   <li><b>Delivery guarantee</b>: every item a {@code put} or successful {@code offer} wrote is taken
 *       by at most one consumer, in order. A producer killed during {@code put} either wrote the item
 *       completely or not at all; consumers never see a partial item and are not blocked by it, and other
 *       producers go on within about 30 ms. A consumer killed while taking an item either leaves it in the
 *       queue (killed before it was freed: another consumer gets it) or takes it with it (killed between
 *       freeing it and returning): at most the one item it was taking is lost. Nothing else is lost or
 *       duplicated.</li>
 *   <li><b>Waiting</b> goes through the queue's {@link IdleStrategy} (default {@link IdleStrategy#blocking()}:
 *       spin briefly, then sleep on a futex, woken only when a sleeper is registered), which every process
 *       using the queue shares. Blocking methods have timed variants and honour interrupts as
 *       {@code java.util.concurrent} queues do. Timed and non-blocking calls keep their bound: the
 *       timed ones return by their deadline and {@code offer(e)}/{@code poll()}/{@code peek()} within
 *       about 10 ms even while another process holds the queue's lock and does not run (SIGSTOP, a
 *       long GC pause): they then answer false/null as if the queue were full/empty.</li>
 *   <li><b>End of stream</b>: {@link #closeForWriting()} ends the stream for every process: later puts
 *       throw {@link IllegalStateException}; consumers take what is left, then {@link #take()} throws
 *       {@link EndOfStreamException} and {@code poll} returns null at once (decision 022).</li>
 *   <li><b>Dead peers</b>: a queue built with {@link Builder#trackPeers(boolean) trackPeers(true)}
 *       records which processes put and which took; a waiting {@code take} on an empty queue whose
 *       producers all died, or a waiting {@code put} on a full queue whose consumers all died, throws
 *       {@link PeerDiedException} within about 100 ms of the last death. Without it, a waiting
 *       {@code take} does not notice that all producers died; use a timed {@code poll}.</li>
 *   <li><b>Batches</b>: {@link #putAll(Collection)}, {@link #offerAll(Collection)} and
 *       {@link #drainTo(Collection, int)} take the ring lock once per batch instead of once per item.</li>
 *   <li><b>Handles</b>: the object is a handle on the queue; it is {@link Serializable}, so a lambda given
 *       to {@code ChildProcess.start} may capture it and the child attaches. {@link #close()} releases this
 *       handle only: other handles and processes keep using the queue; when the last one closes or dies
 *       the queue's memory (and any spilled item in it) is removed. After {@code close()} every method of
 *       this handle throws {@link IllegalStateException} naming the queue. A handle carries the queue's
 *       codec (which must then be {@link Serializable}); attaching by name needs the creator's codec, and
 *       one of another class is refused ({@link IllegalArgumentException}, decision 214).</li>
 *   <li>Not supported: null elements ({@link NullPointerException}, as every {@code BlockingQueue}).
 *       {@code iterator()}, {@code contains}, {@code toArray} and {@code remove(Object)} work on a
 *       weakly consistent snapshot (each item decoded once); {@code Iterator.remove} removes that very
 *       item if it is still queued. A pipe end seen by a peek or an iterator stays where it is, for the
 *       process that takes it (decision 142). A decoding failure on the consumer side
 *       ({@link CodecException}, or whatever a user's codec throws; also a user's codec that decodes an
 *       item to null, decision 214) is thrown by the call that took the item: that item is gone.</li>
 * </ul>
 *
 * <p>Thread-safety: all methods may be called by any number of threads in any number of processes.
 *
 * <h2>Implementation overview</h2>
 * <b>Algorithm.</b> A byte ring of variable-length records in one shared segment ({@code QueueLayout},
 * records: {@code RecordLayout}) with two locks, as in Michael and Scott's two-lock queue: producers
 * serialize on the producer lock, consumers on the consumer lock, and the two sides meet only through
 * the tail and head words. A producer encodes its item into a per-thread buffer before touching shared
 * memory. Under the producer lock it checks room (items and bytes) against its view of the head word,
 * re-reading the head only when the view says "full", writes the record, and publishes it with one
 * release store of the tail word. A consumer, under the consumer lock, finds the head record (re-reading
 * the tail only when its view says "empty"), copies it out, and frees it with one release store of the
 * head word; it decodes after unlocking. An item larger than half the ring goes to a spill segment of
 * its own and the ring carries a reference to it (decision 013). Why locks and not a lock-free claim:
 * decision 012. A shared object inside an item is held by the queue's segment from before the item is
 * published until the consumer that takes it has attached, or until the queue is unlinked (decision 030).
 * <p><b>Shared fields, writers and ordering.</b>
 * <ul>
 *   <li>tail word (count and the low 32 bits of the byte position packed in one long): written only by
 *       the producer-lock holder, release store; volatile reads by consumers and the next producers.
 *       head word: the same for the consumer-lock holder. One write per side publishes, so a process
 *       killed between two writes cannot leave count and position inconsistent.</li>
 *   <li>full positions (64 bits, never wrap), one beside each word: written by the same holder right
 *       before the word (plain; the release store orders it), so never behind the word. They decide
 *       when a view may be trusted (below).</li>
 *   <li>the two locks: {@code io.multiproc.sync} locks in the queue's segment (CAS from 0, or from a
 *       dead holder's token, to the acquirer's process token; getAndSet of 0 by the holder, a full fence
 *       that also orders the position word before the sleeper checks). Acquiring one orders everything
 *       its previous holder wrote. Taken with {@code tryLock}: at once, within 10 ms for the calls that
 *       do not wait, else in 20 ms slices up to the caller's deadline that re-check the handle is open.</li>
 *   <li>record bytes: written by the producer-lock holder before the tail covers them (the release
 *       store orders them), read by a consumer-lock holder only below a tail value it read; rewritten
 *       only after the head has passed them.</li>
 *   <li>wait words ("not empty", "not full", each lock's, "join"): a waiter registers (atomic add),
 *       re-checks, then sleeps on the futex; a side that published or freed releases its lock (a full
 *       fence after its position word's release store) and then reads the sleeper counts, waking only
 *       if someone sleeps (the Dekker pair of {@code WaitWord}: no lost wake-up).</li>
 *   <li>writing closed: set once (release) under the producer lock by {@code closeForWriting()}; read
 *       under that lock by producers (nothing is appended after it) and (acquire) by consumers before
 *       they look for items (so "closed and empty" means no item can come).</li>
 *   <li>peer tables (only with peer tracking): a process CASes its token into a slot at its first
 *       put / take; waiters read them every 100 ms.</li>
 *   <li>done count (joinable queues): CAS by {@code taskDone()}; read by {@code join()} waiters.</li>
 *   <li>takers table (joinable queues): per process, items taken (its own slot, under the consumer
 *       lock, release, before the head store) and {@code taskDone()} calls (atomic add after the done
 *       count's CAS); read by {@code join()} waiters every 100 ms ({@code Takers}).</li>
 * </ul>
 * <p><b>Invariants.</b>
 * <ul>
 *   <li>A side trusts its cached view of the other side's word only while its own full position moved
 *       less than one ring since the view was read, whoever moved it (other handles in other processes
 *       too). So every difference it computes is below 2^31 and exact, however long a handle sat idle.</li>
 *   <li>Every consumer walk (finding the head item, snapshots, recounts) stops at a tail value it read:
 *       only published, complete records are read, whatever the counts say.</li>
 *   <li>The head count equals the tail count minus the ITEM and SPILL records between head and tail,
 *       except while a remover is between its two stores (record marked removed, then count); a remover
 *       killed there leaves it one short (size one too high), and the next consumer, told {@code previousOwnerDied()}
 *       by the consumer lock, recounts (a walk bounded by the tail) and fixes it with one store.</li>
 *   <li>A consumer-lock holder leaves no padding or removed record at the head: a removal, a take and a
 *       walk to the first item each move the head past them, and the unlock wakes producers whenever the
 *       head moved. Producers wait on bytes, so a removed record left at the head of a queue nobody takes
 *       from would keep them waiting forever. A remover killed in between leaves its record, which the
 *       next consumer frees with the recount.</li>
 * </ul>
 * <p><b>Dead processes.</b> A record becomes visible only when the tail word covers it, so a producer
 * killed mid-record leaves nothing consumers can see: they go on with the records before it and are
 * never blocked by it. The dead producer still holds the producer lock; the next producer finds its
 * token dead (checked every 5 ms while waiting), takes the lock over and writes over the half-written
 * bytes, then sweeps spill segments whose only holder died. A consumer killed before freeing its
 * record has not moved the head: the next consumer takes the same record again. A consumer killed
 * after freeing it (before returning) takes that one item with it. A consumer killed inside a removal
 * is repaired as above. A spilled item is unlinked by its consumer before the head moves; a consumer
 * killed in between leaves a reference to a missing segment, which the next consumer skips (that item
 * is lost). Takeover happens within about 30 ms. A holder that is alive but stopped is never taken
 * over: callers give up at their deadline instead. A consumer of a joinable queue killed holding tasks
 * (taken, not marked done) is named by {@code join()}, which throws instead of waiting forever
 * (decision 237).
 * <p><b>Closing a handle.</b> A guard counts this handle's operations in flight; {@code close()} marks
 * it closed, wakes this process's sleepers, waits until the operations have left, and only then drops
 * the mapping. Unmapping under a thread would cut it off between two accesses (leaving a ring lock held
 * by a live process) or fail while it sleeps in a futex call (decision 014). The wait is bounded: an
 * operation waiting for a ring lock re-checks the closed bit every 20 ms, so a stopped lock holder in
 * another process cannot make {@code close()} hang.
 *
 * @param <E> the element type; every element must be encodable by the queue's codec
 */
public sealed class SharedQueue<E> extends AbstractQueue<E> implements BlockingQueue<E>, AutoCloseable, Serializable
        permits JoinableQueue {
    private static final System.Logger LOG = System.getLogger("io.multiproc");
    final transient QueueRing ring;

    static {
        Releases.install(o -> o instanceof SharedQueue<?> q ? Releases.of(q.ring) : null);
    }
    final transient Codec codec;

    SharedQueue(QueueRing ring, Codec codec) {
        this.ring = ring;
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    /** A queue of at most {@code maxItems > 0} items, with the default byte capacity, strategy and codec. */
    public static <E> SharedQueue<E> create(int maxItems) {
        return create(maxItems, IdleStrategy.blocking());
    }

    /** A queue of at most {@code maxItems} items and a ring of {@code capacityBytes} (rounded up to a power of two). */
    public static <E> SharedQueue<E> create(int maxItems, long capacityBytes) {
        return create(maxItems, capacityBytes, IdleStrategy.blocking(), Codec.defaultCodec());
    }

    /** A queue whose waiters, in every process, use {@code idle}. */
    public static <E> SharedQueue<E> create(int maxItems, IdleStrategy idle) {
        return create(maxItems, idle, Codec.defaultCodec());
    }

    /** A queue with {@code idle} and items encoded by {@code codec} (which must be Serializable to reach other processes). */
    public static <E> SharedQueue<E> create(int maxItems, IdleStrategy idle, Codec codec) {
        QueueLayout.checkMaxItems(maxItems);
        return create(maxItems, QueueLayout.defaultCapacity(maxItems), idle, codec);
    }

    /**
     * A queue of at most {@code maxItems} items and {@code capacityBytes} of ring (1 KiB to 1 GiB,
     * rounded up to a power of two), waiting with {@code idle}, encoding with {@code codec}.
     */
    public static <E> SharedQueue<E> create(int maxItems, long capacityBytes, IdleStrategy idle, Codec codec) {
        Codec checked = checkCodec(codec); // NOTE: before the ring exists, or a refused call leaks it
        return new SharedQueue<>(newRing("SharedQueue", QueueLayout.KIND_QUEUE, maxItems, capacityBytes, idle, checked), checked);
    }

    /** Attaches to an existing queue by its {@link #name()}, with the default codec (see {@link #attach(String, Codec)}). */
    public static <E> SharedQueue<E> attach(String name) {
        return attach(name, Codec.defaultCodec());
    }

    /**
     * Attaches to an existing queue whose items {@code codec} encodes. Its waiters wait as the
     * creator's chose if that was a built-in strategy; a custom strategy cannot be found by name, so
     * they wait with {@link IdleStrategy#blocking()} (a handle passed to the process carries it).
     *
     * @throws IllegalArgumentException if the queue was created with a codec of another class (its items
     *         would not decode, and each failed take would lose one): pass the creator's codec
     */
    public static <E> SharedQueue<E> attach(String name, Codec codec) {
        Codec checked = checkCodec(codec); // NOTE: before attaching, or a refused call keeps a hold on the queue
        return new SharedQueue<>(QueueRing.attach(name, "SharedQueue", QueueLayout.KIND_QUEUE, null, checked), checked);
    }

    static QueueRing newRing(String what, int kind, int maxItems, long capacityBytes, IdleStrategy idle, Codec codec) {
        return newRing(what, kind, maxItems, capacityBytes, idle, codec, false);
    }

    static QueueRing newRing(String what, int kind, int maxItems, long capacityBytes, IdleStrategy idle, Codec codec,
                             boolean trackPeers) {
        QueueLayout.checkMaxItems(maxItems);
        Objects.requireNonNull(idle, "idle");
        return QueueRing.create(what, kind, maxItems, RecordLayout.checkCapacity("capacityBytes", capacityBytes), idle,
                codec, trackPeers);
    }

    /**
     * A builder for queues with options beyond the {@code create} overloads, such as peer tracking:
     * <pre>{@code
     * SharedQueue<Result> results = SharedQueue.<Result>builder().maxItems(1000).trackPeers(true).build();
     * }</pre>
     */
    public static <E> Builder<E> builder() {
        return new Builder<>();
    }

    /** Options of a new queue; {@link #build()} creates it. Not thread-safe. */
    public static final class Builder<E> {
        private int maxItems = -1;
        private long capacityBytes = -1;
        private IdleStrategy idle = IdleStrategy.blocking();
        private Codec codec = Codec.defaultCodec();
        private boolean trackPeers;

        private Builder() {
        }

        /** The item bound ({@code > 0}); required. */
        public Builder<E> maxItems(int maxItems) {
            QueueLayout.checkMaxItems(maxItems);
            this.maxItems = maxItems;
            return this;
        }

        /** The ring's bytes (1 KiB to 1 GiB, rounded up to a power of two); default from {@code maxItems}. */
        public Builder<E> capacityBytes(long capacityBytes) {
            RecordLayout.checkCapacity("capacityBytes", capacityBytes);
            this.capacityBytes = capacityBytes;
            return this;
        }

        /** How every process's waiters wait; default {@link IdleStrategy#blocking()}. */
        public Builder<E> idle(IdleStrategy idle) {
            this.idle = Objects.requireNonNull(idle, "idle");
            return this;
        }

        /** How items are encoded; default {@link Codec#defaultCodec()}. */
        public Builder<E> codec(Codec codec) {
            this.codec = checkCodec(codec);
            return this;
        }

        /**
         * Peer tracking: a process counts as a producer from its first put or offer, and as a consumer
         * from its first take, poll or drain (up to 32 of each; beyond that the queue stops concluding
         * anything). A waiting {@code take}/{@code poll(timeout)} on an empty queue whose producers all
         * died, or a waiting {@code put}/{@code offer(timeout)} on a full queue whose consumers all died,
         * then throws {@link PeerDiedException} (checked every 100 ms) instead of waiting on. Default off.
         */
        public Builder<E> trackPeers(boolean trackPeers) {
            this.trackPeers = trackPeers;
            return this;
        }

        /** Creates the queue. */
        public SharedQueue<E> build() {
            if (maxItems < 0) {
                throw new IllegalStateException("maxItems was not set: call maxItems(n) before build()");
            }
            long bytes = capacityBytes > 0 ? capacityBytes : QueueLayout.defaultCapacity(maxItems);
            return new SharedQueue<>(newRing("SharedQueue", QueueLayout.KIND_QUEUE, maxItems, bytes, idle, codec, trackPeers), codec);
        }
    }

    static Codec checkCodec(Codec codec) {
        return Objects.requireNonNull(codec, "codec");
    }

    /** The queue's segment name in /dev/shm. */
    public final String name() {
        return ring.name();
    }

    /** The item bound given at creation. */
    public final int maxItems() {
        return ring.maxItems();
    }

    /** The ring's size in bytes (a power of two); items larger than half of it spill. */
    public final int capacityBytes() {
        return ring.capacityBytes();
    }

    // ------------------------------------------------------------------ adding

    /** Adds {@code e}, waiting for room. */
    @Override
    public void put(E e) throws InterruptedException {
        checkInterrupt();
        send(e, Waiting.FOREVER, true);
    }

    /** Adds {@code e} if there is room now; false (at once) if the queue is full. */
    @Override
    public boolean offer(E e) {
        try {
            return send(e, QueueRing.NOW, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
    }

    @Override
    public boolean offer(E e, long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        checkInterrupt();
        return send(e, deadline(unit.toNanos(timeout)), true);
    }

    /** {@link #offer(Object, long, TimeUnit)} with a Duration; a negative one throws. */
    public boolean offer(E e, Duration timeout) throws InterruptedException {
        return offer(e, Waiting.nanos(timeout), TimeUnit.NANOSECONDS);
    }

    private boolean send(E e, long deadline, boolean interruptible) throws InterruptedException {
        Objects.requireNonNull(e, "e: a SharedQueue does not accept null elements");
        ring.checkOpen();
        Scratch s = Scratch.acquire();
        try {
            return sendOne(s, e, deadline, interruptible);
        } finally {
            s.release();
        }
    }

    /** Encodes {@code e} into the empty sink of {@code s} and writes it as one record (or a spilled one). */
    private boolean sendOne(Scratch s, E e, long deadline, boolean interruptible) throws InterruptedException {
        codec.encode(e, s.sink()); // NOTE: before anything is written: a failure leaves the queue as it was
        // NOTE: shared objects in the item are held by the queue before it is published (InFlight)
        InFlight.Holds held = s.flight.holdFor(s.flightMark, ring.name());
        if (held != null) {
            ring.noteCarriesHandles();
        }
        boolean sent = false;
        try {
            sent = ring.offer(s.sink().array(), s.sink().size(), deadline, interruptible);
            return sent;
        } finally {
            if (!sent && held != null) {
                held.release();
            }
        }
    }

    /** A batch holds at most this many items and about this many bytes. */
    private static final int BATCH_ITEMS = 1024;
    private static final int BATCH_BYTES = 1 << 20;

    /**
     * Adds every item of {@code items}, in iteration order, waiting for room as needed: one
     * producer-lock hold for as many items as fit at a time instead of one per item. Items are encoded
     * a batch at a time before that batch is written; if one is null or cannot be encoded, the items
     * before it are added and then the exception is thrown (as {@code addAll} does).
     *
     * <pre>{@code
     * q.putAll(List.of("a", "b", "c"));
     * }</pre>
     */
    public void putAll(Collection<? extends E> items) throws InterruptedException {
        checkInterrupt();
        sendAll(items, Waiting.FOREVER, true);
    }

    /**
     * {@link #putAll(Collection)} waiting at most {@code timeout} for room in all: adds, in iteration
     * order, as many items as fit before the time is up (a prefix). Failures as in {@code putAll}.
     *
     * <pre>{@code
     * int added = q.offerAll(batch, Duration.ofSeconds(1)); // batch.subList(added, ...) did not fit
     * }</pre>
     *
     * @return how many were added (the first that many of the iteration)
     * @throws InterruptedException if interrupted while waiting for room: as with {@code putAll}, the
     *         items before stay added, and how many is not told (use {@code offerAll(items)} in a loop
     *         when that count matters under interrupts)
     */
    public int offerAll(Collection<? extends E> items, Duration timeout) throws InterruptedException {
        long nanos = Waiting.nanos(timeout);
        checkInterrupt();
        return sendAll(items, deadline(nanos), true);
    }

    /**
     * Adds, in iteration order, as many items of {@code items} as there is room for now (a prefix),
     * without waiting: one producer-lock hold per batch. Failures as in {@link #putAll(Collection)}.
     *
     * @return how many were added (the first that many of the iteration)
     */
    public int offerAll(Collection<? extends E> items) {
        try {
            return sendAll(items, QueueRing.NOW, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
    }

    private int sendAll(Collection<? extends E> items, long deadline, boolean interruptible) throws InterruptedException {
        Objects.requireNonNull(items, "items");
        if (items == this) {
            throw new IllegalArgumentException("items=this: cannot add " + describe() + " to itself");
        }
        ring.checkOpen();
        Iterator<? extends E> it = items.iterator();
        int total = 0;
        Scratch s = Scratch.acquire();
        try {
            while (it.hasNext()) {
                Throwable failure = null; // a RuntimeException, or an Error from a user's codec
                E large = null;
                int n = 0;
                int[] ends = s.ends(BATCH_ITEMS);
                InFlight.Holds[] holds = null; // per item, for those that carry shared objects
                s.sink().reset();
                while (n < BATCH_ITEMS && s.sink().size() < BATCH_BYTES && it.hasNext()) {
                    E e = it.next();
                    int before = s.sink().size();
                    try {
                        Objects.requireNonNull(e, "items: a SharedQueue does not accept null elements");
                        codec.encode(e, s.sink());
                    } catch (RuntimeException | Error ex) { // NOTE: Errors too (a user's codec may throw one): the items before still go
                        s.sink().truncate(before);
                        s.flight.clearSince(s.flightMark);
                        failure = ex;
                        break;
                    }
                    if (s.sink().size() - before > ring.maxInline()) { // spills: goes alone, after the batch
                        s.sink().truncate(before);
                        s.flight.clearSince(s.flightMark);
                        large = e;
                        break;
                    }
                    InFlight.Holds held;
                    try {
                        held = s.flight.holdFor(s.flightMark, ring.name());
                    } catch (RuntimeException ex) { // an object it carries is gone: like an unencodable item
                        s.sink().truncate(before);
                        failure = ex;
                        break;
                    }
                    if (held != null) {
                        ring.noteCarriesHandles();
                        holds = holds != null ? holds : new InFlight.Holds[BATCH_ITEMS];
                        holds[n] = held;
                    }
                    ends[n++] = s.sink().size();
                }
                int sent = sendBatch(s, n, holds, deadline, interruptible);
                total += sent;
                if (sent < n) {
                    return total; // no room now (offerAll)
                }
                if (failure instanceof RuntimeException ex) {
                    throw ex;
                }
                if (failure != null) {
                    throw (Error) failure;
                }
                if (large != null) {
                    s.sink().reset();
                    if (!sendOne(s, large, deadline, interruptible)) {
                        return total;
                    }
                    total++;
                }
            }
            return total;
        } finally {
            s.release();
        }
    }

    /**
     * Writes the first {@code n} encoded items of {@code s}; returns how many (fewer only when not waiting).
     * Gives back the in-flight holds ({@code holds}, null if no item has any) of the items not written.
     */
    private int sendBatch(Scratch s, int n, InFlight.Holds[] holds, long deadline, boolean interruptible)
            throws InterruptedException {
        int done = 0;
        try {
            while (done < n) {
                int k = ring.offerBatch(s.sink().array(), s.ends(n), done, n, deadline, interruptible);
                if (k == 0) {
                    break;
                }
                done += k;
            }
            return done;
        } finally {
            for (int i = done; holds != null && i < n; i++) {
                if (holds[i] != null) {
                    holds[i].release();
                }
            }
        }
    }

    // ------------------------------------------------------------------ taking

    @Override
    public E take() throws InterruptedException {
        checkInterrupt();
        return receive(Waiting.FOREVER, true, true);
    }

    /** The head item, or null at once if the queue is empty. */
    @Override
    public E poll() {
        try {
            return receive(QueueRing.NOW, false, false);
        } catch (InterruptedException impossible) {
            throw new AssertionError(impossible);
        }
    }

    @Override
    public E poll(long timeout, TimeUnit unit) throws InterruptedException {
        Objects.requireNonNull(unit, "unit");
        checkInterrupt();
        return receive(deadline(unit.toNanos(timeout)), true, false);
    }

    /** {@link #poll(long, TimeUnit)} with a Duration; a negative one throws. */
    public E poll(Duration timeout) throws InterruptedException {
        return poll(Waiting.nanos(timeout), TimeUnit.NANOSECONDS);
    }

    /** The head item; null if none came by {@code deadline} or the stream ended (then {@code take} throws). */
    private E receive(long deadline, boolean interruptible, boolean throwAtEnd) throws InterruptedException {
        Scratch s = Scratch.acquire();
        try {
            int got = ring.poll(s, deadline, interruptible);
            if (got == QueueRing.END_OF_STREAM && throwAtEnd) {
                throw new EndOfStreamException(ring.what + " '" + name() + "' is closed for writing and drained");
            }
            return got == QueueRing.TOOK ? decodeTaken(s, s.source()) : null;
        } finally {
            s.release();
        }
    }

    /** The head item without taking it, or null if the queue is empty. */
    @Override
    public E peek() {
        Scratch s = Scratch.acquire();
        try {
            return ring.peek(s) ? lookAt(s.source()) : null;
        } finally {
            s.release();
        }
    }

    /** Decodes an item taken from the queue: shared objects in it take over the queue's in-flight holds. */
    private E decodeTaken(Scratch s, ByteSource in) {
        String previous = s.flight.beginReceive(ring.name());
        try {
            return decode(in);
        } finally {
            s.flight.endReceive(previous);
        }
    }

    /**
     * Decodes an item left in the queue (peeks, iterators, and through them contains, toString...): pipe
     * ends in it stay with their taker, and the shared objects it carries are this process's handles that
     * nobody closes, so they are let go once the program no longer reaches them (else each object ever
     * looked at stayed mapped, and in /dev/shm, until this process exited).
     */
    private E lookAt(ByteSource in) {
        InFlight flight = InFlight.here();
        int mark = flight.beginCollect();
        try {
            return Connection.lookAt(() -> decode(in));
        } finally {
            Releases.releaseWhenUnreachable(flight.endCollect(mark));
        }
    }

    /**
     * Decodes one item. A queue holds no nulls, and {@code poll}'s null means "empty": a user's codec
     * that decodes an item to null would lose it unseen, so that is a {@link CodecException}.
     */
    @SuppressWarnings("unchecked")
    final E decode(ByteSource in) {
        Object item = codec.decode(in);
        if (item == null) {
            throw new CodecException("codec " + codec.getClass().getName() + " decoded an item of " + ring.what + " '"
                    + name() + "' to null; a queue holds no nulls (the encoder was given a non-null item)");
        }
        return (E) item;
    }

    @Override
    public int drainTo(Collection<? super E> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    /**
     * Takes up to {@code maxElements} items (at most as many as are queued when called) into {@code c},
     * a batch per lock hold. If adding to {@code c} or decoding fails, the rest of that batch is still
     * added and the first failure is thrown; the failed item is gone.
     */
    @Override
    public int drainTo(Collection<? super E> c, int maxElements) {
        Objects.requireNonNull(c, "c");
        if (c == this) {
            throw new IllegalArgumentException("c=this: cannot drain " + describe() + " into itself");
        }
        int limit = Math.min(maxElements, ring.size());
        int total = 0;
        Scratch s = Scratch.acquire();
        try {
            while (total < limit) {
                int n = ring.drain(s, limit - total);
                if (n == 0) {
                    break;
                }
                total += n;
                addDrained(s, n, c);
            }
            return total;
        } finally {
            s.release();
        }
    }

    private void addDrained(Scratch s, int n, Collection<? super E> c) {
        Throwable failure = null;
        for (int i = 0, offset = 0; i < n; i++) {
            int length = QueueRing.drainedLength(s, offset);
            try {
                c.add(decodeTaken(s, s.source(offset + 4, length)));
            } catch (RuntimeException | Error e) { // NOTE: Errors too: a user's codec may throw one, and the batch's other items are already out of the ring
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
            offset += 4 + length;
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure != null) {
            throw (Error) failure;
        }
    }

    // ------------------------------------------------------------------ collection

    @Override
    public int size() {
        return ring.size();
    }

    /** Items that could still be added before {@code maxItems} is reached (the byte bound may bind first). */
    @Override
    public int remainingCapacity() {
        return ring.maxItems() - ring.size();
    }

    /**
     * Removes every item. Items are not decoded unless some item of this queue ever carried a shared
     * object: then the items are taken and decoded, so that the objects they carry lose the queue's hold
     * and go once their other users closed them (an item that fails to decode keeps them until the queue
     * goes, as a take that fails to decode does: decision 242). Decision 232.
     */
    @Override
    public void clear() {
        if (ring.mayCarryHandles() || !ring.clear()) {
            clearLettingGo();
        }
    }

    /** Takes the items queued now as a consumer does, and lets go of the shared objects they carry. */
    private void clearLettingGo() {
        int limit = ring.size();
        Scratch s = Scratch.acquire();
        try {
            for (int total = 0, n; total < limit && (n = ring.drain(s, limit - total)) > 0; total += n) {
                for (int i = 0, offset = 0; i < n; i++) {
                    int length = QueueRing.drainedLength(s, offset);
                    letGo(s, s.source(offset + 4, length));
                    offset += 4 + length;
                }
            }
        } finally {
            s.release();
        }
    }

    /**
     * Decodes an item dropped unread as a taker would, so that the shared objects it carries take over the
     * queue's holds, and releases them at once: they go once their other users closed them.
     */
    private void letGo(Scratch s, ByteSource in) {
        int mark = s.flight.beginCollect();
        List<Object> attached;
        try {
            decodeTaken(s, in);
        } catch (RuntimeException e) { // NOTE: the item is gone anyway; its objects stay held until the queue goes
            LOG.log(System.Logger.Level.DEBUG, () -> "an item dropped from " + describe() + " did not decode: " + e);
        } finally {
            attached = s.flight.endCollect(mark);
        }
        for (Object o : attached) {
            MappedObject.Release r = Releases.ofOrNull(o);
            if (r != null) {
                r.run();
            }
        }
    }

    /**
     * A weakly consistent iterator over a snapshot taken now (each item decoded when reached); its
     * {@code remove()} removes that item if it is still in the queue.
     */
    @Override
    public Iterator<E> iterator() {
        List<QueueRing.Entry> snapshot = ring.snapshot();
        return new Iterator<>() {
            private int next;
            private QueueRing.Entry last;

            @Override
            public boolean hasNext() {
                return next < snapshot.size();
            }

            @Override
            public E next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                last = snapshot.get(next++);
                return lookAt(SegmentSource.of(last.bytes()));
            }

            @Override
            public void remove() {
                if (last == null) {
                    throw new IllegalStateException("next() was not called, or remove() was already called for it");
                }
                if (ring.removeAt(last.position(), last.seq()) && ring.mayCarryHandles()) {
                    Scratch s = Scratch.acquire();
                    try {
                        letGo(s, SegmentSource.of(last.bytes()));
                    } finally {
                        s.release();
                    }
                }
                last = null;
            }
        };
    }

    /** Releases this handle (see the class comment); idempotent. Other handles and processes are not affected. */
    @Override
    public void close() {
        ring.close();
    }

    /**
     * The items queued now, as {@code java.util.concurrent} queues print them ({@code [1, 2, 3]}): a
     * weakly consistent snapshot, each item decoded. A closed handle prints {@link #describe()}.
     */
    @Override
    public String toString() {
        return ring.isOpen() ? super.toString() : describe();
    }

    /**
     * This handle and the queue's shape, without decoding any item:
     * {@code SharedQueue[name=mpq_…, size=3, maxItems=100, capacityBytes=65536]}.
     */
    public String describe() {
        return ring.what + "[name=" + name() + (ring.isOpen() ? ", size=" + size() : ", closed") + ", maxItems=" + maxItems()
                + ", capacityBytes=" + capacityBytes() + (ring.isOpen() && ring.isClosedForWriting() ? ", closedForWriting" : "")
                + "]";
    }

    /**
     * A weakly consistent spliterator over a snapshot (as {@link #iterator()}), reporting
     * {@code CONCURRENT | ORDERED | NONNULL} like the JDK's concurrent queues, not {@code SIZED}: other
     * threads and processes change the size at any time, so streams must not trust it.
     */
    @Override
    public Spliterator<E> spliterator() {
        return Spliterators.spliteratorUnknownSize(iterator(),
                Spliterator.CONCURRENT | Spliterator.ORDERED | Spliterator.NONNULL);
    }

    // ------------------------------------------------------------------ end of stream

    /**
     * Ends the stream, for every handle in every process: later {@code put}/{@code offer} calls throw
     * {@link IllegalStateException} naming the queue, and blocked ones wake and throw. Consumers take
     * what is left; then {@link #take()} throws {@link EndOfStreamException} and {@code poll} (timed or
     * not) returns null at once. Idempotent; cannot be undone. Waits only for a put in progress (it
     * takes the producer lock, taking it over from a dead holder).
     */
    public void closeForWriting() {
        ring.closeForWriting();
    }

    /** True once {@link #closeForWriting()} was called in any process. */
    public boolean isClosedForWriting() {
        ring.enter();
        try {
            return ring.isClosedForWriting();
        } finally {
            ring.exit();
        }
    }

    // ------------------------------------------------------------------ helpers

    static void checkInterrupt() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }

    static long deadline(long nanos) {
        return nanos <= 0 ? QueueRing.NOW : Waiting.deadline(nanos);
    }

    @Serial
    final Object writeReplace() throws ObjectStreamException {
        return QueueHandle.of(ring, codec);
    }
}
