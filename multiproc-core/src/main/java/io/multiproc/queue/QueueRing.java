package io.multiproc.queue;

import io.multiproc.codec.Codec;

import io.multiproc.internal.MappedObject;
import io.multiproc.internal.Releases;
import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SharedSegments;
import io.multiproc.internal.EmbeddedLocks;
import io.multiproc.sync.SharedLock;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.WaitWord;
import io.multiproc.wait.Waiting;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.multiproc.queue.RecordLayout.SPILL;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The MPMC ring behind {@link SharedQueue}, {@link JoinableQueue} and {@link SimpleQueue}: bytes in,
 * bytes out, with the two ring locks, the waits, the spills and the close guard. The algorithm, each
 * shared field's writer and ordering, and dead-process handling: {@link SharedQueue}'s
 * "Implementation overview".
 */
final class QueueRing extends MappedObject {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    /** A drain takes at most this many payload bytes per lock hold. */
    private static final int DRAIN_BYTES = 1 << 20;
    static final long NOW = Long.MIN_VALUE;
    /**
     * How long the calls that never wait ({@link #NOW}) try a ring lock that another thread holds:
     * long enough for any normal hold (well under a microsecond) and a descheduled holder, short
     * enough to count as "at once" when the holder is a stopped process.
     */
    static final long IMMEDIATE_LOCK_NANOS = 10_000_000L;
    /** Waiting for a ring lock goes in slices this long, re-checking that this handle is open. */
    private static final long LOCK_SLICE_NANOS = 20_000_000L;
    /** A waiter of a queue with peer tracking checks this often whether every peer it waits for died. */
    static final long PEER_CHECK_NANOS = 100_000_000L;
    /** {@link #poll} results. */
    static final int TOOK = 1;
    static final int NONE = 0;
    static final int END_OF_STREAM = -1;

    /** "SharedQueue", "JoinableQueue" or "SimpleQueue", for messages. */
    final String what;
    /** {@code QueueLayout.KIND_*}: which class a received handle becomes. */
    final int kind;
    /** The creator's strategy (recorded in the segment), so every process waits the same way. */
    final IdleStrategy idle;
    /** The records: tail word written by the producer-lock holder, head word by the consumer-lock holder. */
    final RecordRing ring;
    /** Larger items spill. */
    private final int maxInline;
    /**
     * Right to write the tail: an {@code io.multiproc.sync} lock in the queue's producer lock line, so a
     * dead holder is taken over and a release wakes only when a producer sleeps (decision 012).
     */
    private final SharedLock producers;
    /** Right to write the head: the same for consumers, in the consumer lock line. */
    private final SharedLock consumers;
    /** Consumers sleep here; a producer wakes them after publishing (fence, then the sleeper check). */
    private final WaitWord notEmpty;
    /** Producers sleep here; a consumer wakes them after freeing (fence, then the sleeper check). */
    private final WaitWord notFull;
    /** {@code join()} waiters sleep here; {@code taskDone()} wakes them after its CAS. */
    final WaitWord joinWord;
    /** This handle's operations in flight and its closed bit (heap, this process only). */
    private final Guard guard = new Guard();
    /** Peer tables, or null when peer tracking is off (QueueLayout.FLAG_TRACK_PEERS). */
    private final Peers producerPeers;
    private final Peers consumerPeers;
    /** The takers table of a joinable queue (decision 237), else null: counted before every head move. */
    final Takers takers;

    private QueueRing(SharedSegments.Mapping mapping, String what, IdleStrategy custom) {
        super(mapping);
        this.what = what;
        this.kind = whole.get(JAVA_INT, SegmentHeader.KIND_OFFSET);
        int capacity = whole.get(JAVA_INT, QueueLayout.CAPACITY);
        this.idle = Idles.of(whole.get(JAVA_INT, QueueLayout.IDLE), custom);
        this.ring = new RecordRing(whole, QueueLayout.RING, capacity, whole.get(JAVA_INT, QueueLayout.MAX_ITEMS),
                QueueLayout.TAIL, QueueLayout.HEAD);
        this.maxInline = RecordLayout.maxInlinePayload(capacity);
        this.producers = EmbeddedLocks.lockAt(anotherReference(), QueueLayout.PRODUCER_LOCK, idle);
        this.consumers = EmbeddedLocks.lockAt(anotherReference(), QueueLayout.CONSUMER_LOCK, idle);
        this.notEmpty = new WaitWord(whole, QueueLayout.NOT_EMPTY_SEQ, QueueLayout.NOT_EMPTY_SLEEPERS);
        this.notFull = new WaitWord(whole, QueueLayout.NOT_FULL_SEQ, QueueLayout.NOT_FULL_SLEEPERS);
        this.joinWord = new WaitWord(whole, QueueLayout.JOIN_SEQ, QueueLayout.JOIN_SLEEPERS);
        boolean track = (whole.get(JAVA_INT, QueueLayout.FLAGS) & QueueLayout.FLAG_TRACK_PEERS) != 0;
        this.producerPeers = track ? new Peers(whole, QueueLayout.PRODUCERS, 1) : null;
        this.consumerPeers = track ? new Peers(whole, QueueLayout.CONSUMERS, 2) : null;
        this.takers = kind == QueueLayout.KIND_JOINABLE ? new Takers(whole) : null;
    }

    static QueueRing create(String what, int kind, int maxItems, int capacity, IdleStrategy idle, Codec codec,
                            boolean trackPeers) {
        int codecId = codecId(codec);
        SharedSegments.Mapping m = SharedSegments.create("mpq_", QueueLayout.segmentSize(capacity), seg -> {
            seg.set(JAVA_INT, QueueLayout.CAPACITY, capacity);
            seg.set(JAVA_INT, QueueLayout.MAX_ITEMS, maxItems);
            seg.set(JAVA_INT, QueueLayout.IDLE, Idles.code(idle));
            seg.set(JAVA_INT, QueueLayout.FLAGS, trackPeers ? QueueLayout.FLAG_TRACK_PEERS : 0);
            seg.set(JAVA_INT, QueueLayout.CODEC_ID, codecId);
            SegmentHeader.write(seg, QueueLayout.MAGIC, QueueLayout.VERSION, kind);
        });
        return new QueueRing(m, what, idle);
    }

    /**
     * Attaches to queue {@code name} of {@code kind}; {@code custom} is used if its creator's strategy was
     * custom. Refuses (IllegalArgumentException, holding nothing) a {@code codec} of another class than
     * the creator's: its takes would fail to decode, or decode garbage, and lose the items (decision 214).
     */
    static QueueRing attach(String name, String what, int kind, IdleStrategy custom, Codec codec) {
        QueueRing r;
        try {
            r = new QueueRing(SharedSegments.attach(name, seg -> SegmentHeader.check(seg, name, what,
                    QueueLayout.MAGIC, QueueLayout.VERSION, kind)), what, custom);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot attach " + what + " '" + name + "': " + e.getMessage(), e);
        }
        int theirs = r.whole.get(JAVA_INT, QueueLayout.CODEC_ID);
        int ours = codecId(codec);
        if (theirs != 0 && ours != 0 && theirs != ours) {
            r.close();
            throw new IllegalArgumentException(what + " '" + name + "' was created with another codec than "
                    + codec.getClass().getName() + " (class name hash " + Integer.toHexString(theirs) + ", not "
                    + Integer.toHexString(ours) + "): attach with the creator's codec, " + what + ".attach(name, codec)");
        }
        return r;
    }

    /**
     * What the segment records of a codec: its class name's hash, never 0; 0 (not checked) for a hidden
     * class or a dynamic proxy, whose names differ from JVM to JVM. Compatible codecs of one class (the
     * built-in codec with other allow-lists) have the same id.
     */
    static int codecId(Codec codec) {
        Class<?> c = codec.getClass();
        if (c.isHidden() || java.lang.reflect.Proxy.isProxyClass(c)) {
            return 0;
        }
        int h = c.getName().hashCode();
        return h != 0 ? h : 1;
    }

    MemorySegment segment() {
        return whole;
    }

    // ------------------------------------------------------------------ ring locks

    /**
     * Takes a ring lock by {@code deadline}: at once if free (or its holder died); for {@link #NOW}
     * calls within {@link #IMMEDIATE_LOCK_NANOS}; else in slices that re-check that this handle is
     * open, so neither a stopped holder nor {@link #close()} can keep a caller longer than its deadline.
     *
     * @return false at the deadline, or when the thread is interrupted (its status kept, for the caller to act on)
     */
    private boolean lockBy(SharedLock lock, long deadline) {
        if (lock.tryLock()) {
            return true;
        }
        if (deadline == NOW) {
            return lockSoon(lock);
        }
        for (;;) {
            checkOpen();
            long remaining = deadline == Waiting.FOREVER ? LOCK_SLICE_NANOS
                    : Math.min(LOCK_SLICE_NANOS, deadline - System.nanoTime());
            if (remaining <= 0 || Thread.currentThread().isInterrupted()) {
                return false;
            }
            try {
                if (lock.tryLock(remaining, TimeUnit.NANOSECONDS)) {
                    return true;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** Tries {@code lock} for at most {@link #IMMEDIATE_LOCK_NANOS}, without sleeping or looking at interrupts. */
    private static boolean lockSoon(SharedLock lock) {
        long start = System.nanoTime();
        for (int i = 0; ; i++) {
            if (i < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
            if (lock.tryLock()) {
                return true;
            }
            if (System.nanoTime() - start > IMMEDIATE_LOCK_NANOS) {
                return false;
            }
        }
    }

    /** Takes a ring lock with no deadline and without being interrupted (it keeps the status); throws if this handle closes. */
    private void lockFully(SharedLock lock) {
        boolean interrupted = Thread.interrupted();
        try {
            while (!lockBy(lock, Waiting.FOREVER)) {
                interrupted |= Thread.interrupted();
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** After acquiring the producer lock: a dead holder may have left an unreferenced spill segment. */
    private void producersLocked() {
        if (producers.previousOwnerDied()) {
            Spills.reclaimOrphans();
        }
        if (FaultInjection.ENABLED) {
            FaultInjection.at(FaultInjection.Point.PRODUCER_LOCKED);
        }
    }

    /**
     * After acquiring the consumer lock: a dead holder left its record at the head (nothing to
     * reclaim), but one killed inside a removal left the head count one short and the removed record's
     * bytes unfreed: recount, and free them. Callers read the head word before this, for
     * {@link #unlockConsumers(long)}.
     */
    private void consumersLocked() {
        if (consumers.previousOwnerDied()) {
            ring.repairHeadCount();
            ring.freeDone();
        }
        if (FaultInjection.ENABLED) {
            FaultInjection.at(FaultInjection.Point.CONSUMER_LOCKED);
        }
    }

    // ------------------------------------------------------------------ producing

    /**
     * Appends {@code src[0, length)} as one item, waiting until {@code deadline} for room
     * ({@link #NOW}: no waiting).
     *
     * @return false if there was no room in time; nothing was written
     * @throws IllegalStateException if the queue is closed for writing
     */
    boolean offer(byte[] src, int length, long deadline, boolean interruptible) throws InterruptedException {
        enter();
        try {
            if (producerPeers != null) {
                producerPeers.register();
            }
            if (length <= maxInline) {
                return append(RecordLayout.ITEM, src, length, deadline, interruptible);
            }
            return Spills.appendSpilled(src, length, name(), (kind, ref, n) -> append(kind, ref, n, deadline, interruptible));
        } finally {
            guard.exit();
        }
    }

    private boolean append(int kind, byte[] src, int length, long deadline, boolean interruptible)
            throws InterruptedException {
        if (tryAppend(kind, src, length, deadline)) {
            return true;
        }
        if (deadline == NOW) {
            return false;
        }
        return awaitPeers(notFull, () -> {
            checkWritable();
            return mayHaveRoom(length) && tryAppend(kind, src, length, deadline);
        }, consumerPeers, deadline, interruptible);
    }

    /** Appends if there is room now; false if full, or if the producer lock could not be had by {@code deadline}. */
    private boolean tryAppend(int kind, byte[] src, int length, long deadline) {
        if (!lockBy(producers, deadline)) {
            checkWritable();
            return false;
        }
        boolean ok = false;
        try {
            producersLocked();
            checkWritable(); // NOTE: under the lock that closeForWriting sets it under: nothing is appended after it
            ok = ring.tryAppend(kind, src, length);
        } finally {
            // NOTE: the unlock's getAndSet is a full fence: the tail's release store stays before the
            // check for sleeping consumers below (no lost wake-up).
            producers.unlock();
            if (ok) {
                notEmpty.wake(1);
            }
        }
        return ok;
    }

    /**
     * Appends items {@code first..count-1} of a batch ({@code src}, item i ending at {@code ends[i]}, all
     * at most {@link #maxInline()}) in one producer-lock hold, as many as fit; waits until
     * {@code deadline} for room for at least one ({@link #NOW}: no waiting).
     *
     * @return how many were appended (0: no room in time)
     */
    int offerBatch(byte[] src, int[] ends, int first, int count, long deadline, boolean interruptible)
            throws InterruptedException {
        enter();
        try {
            if (producerPeers != null) {
                producerPeers.register();
            }
            int n = tryAppendBatch(src, ends, first, count, deadline);
            if (n > 0 || deadline == NOW) {
                return n;
            }
            int from = first == 0 ? 0 : ends[first - 1];
            int length = ends[first] - from;
            int[] appended = {0};
            awaitPeers(notFull, () -> {
                checkWritable();
                return mayHaveRoom(length) && (appended[0] = tryAppendBatch(src, ends, first, count, deadline)) > 0;
            }, consumerPeers, deadline, interruptible);
            return appended[0];
        } finally {
            guard.exit();
        }
    }

    private int tryAppendBatch(byte[] src, int[] ends, int first, int count, long deadline) {
        if (!lockBy(producers, deadline)) {
            checkWritable();
            return 0;
        }
        int n = 0;
        try {
            producersLocked();
            checkWritable();
            for (int i = first, from = first == 0 ? 0 : ends[first - 1]; i < count; from = ends[i++]) {
                if (!ring.tryAppend(RecordLayout.ITEM, src, from, ends[i] - from)) {
                    break;
                }
                n++;
            }
        } finally {
            // NOTE: as in tryAppend: the unlock's full fence orders the tail stores before the sleeper check.
            producers.unlock();
            if (n == 1) {
                notEmpty.wake(1);
            } else if (n > 1) {
                notEmpty.wakeAll();
            }
        }
        return n;
    }

    /** Items longer than this spill: a batch carries only shorter ones. */
    int maxInline() {
        return maxInline;
    }

    /** A lock-free pre-check, so that waiting producers do not take the lock while the ring is full. */
    private boolean mayHaveRoom(int length) {
        long h = ring.headWord();
        long t = ring.tailWord();
        return RecordLayout.count(t) - RecordLayout.count(h) < ring.maxItems()
                && Integer.toUnsignedLong(RecordLayout.position(t) - RecordLayout.position(h)) + RecordLayout.recordSize(length)
                <= ring.capacity();
    }

    /**
     * Waits on {@code word} like {@link Waiting#await}; when {@code peers} (the other side) is tracked,
     * wakes every {@link #PEER_CHECK_NANOS} to see whether all of them died, and then fails.
     */
    private boolean awaitPeers(WaitWord word, Waiting.Ready ready, Peers peers, long deadline, boolean interruptible)
            throws InterruptedException {
        if (peers == null) {
            return Waiting.await(word, idle, ready, deadline, interruptible);
        }
        for (;;) {
            long slice = Waiting.deadline(PEER_CHECK_NANOS);
            boolean last = deadline - slice <= 0;
            if (Waiting.await(word, idle, ready, last ? deadline : slice, interruptible)) {
                return true;
            }
            if (last) {
                return false;
            }
            List<Long> dead = peers.deadIfAllDead();
            if (!dead.isEmpty()) {
                if (ready.ready()) { // the last item (or room) may have come just before the peers died
                    return true;
                }
                throw new PeerDiedException(what + " '" + name() + "': every " + (peers == consumerPeers
                        ? "consumer that took from it died (pids " + dead + ") and it is full: nothing will make room"
                        : "producer that put to it died (pids " + dead + ") and it is empty: nothing will arrive"));
            }
        }
    }

    // ------------------------------------------------------------------ closing for writing

    /** True once {@link #closeForWriting()} ran in any process. */
    boolean isClosedForWriting() {
        return (int) INT.getAcquire(whole, QueueLayout.WRITING_CLOSED) != 0;
    }

    private void checkWritable() {
        checkOpen();
        if (isClosedForWriting()) {
            throw new IllegalStateException(what + " '" + name() + "' is closed for writing");
        }
    }

    /**
     * Ends the stream: under the producer lock (so no put is half-way), sets the writing-closed word;
     * then wakes every waiter. Idempotent.
     */
    void closeForWriting() {
        enter();
        try {
            lockFully(producers);
            try {
                producersLocked();
                // NOTE: release, under the producer lock: every item published before it is visible to
                // a consumer that reads the word (acquire) and then finds the ring empty.
                INT.setRelease(whole, QueueLayout.WRITING_CLOSED, 1);
            } finally {
                producers.unlock();
            }
            notEmpty.wakeAll();
            notFull.wakeAll();
        } finally {
            guard.exit();
        }
    }

    // ------------------------------------------------------------------ consuming

    /**
     * Takes the head item into {@code s}'s input (from index 0), waiting until {@code deadline} for
     * one ({@link #NOW}: no waiting).
     *
     * @return {@link #TOOK}; {@link #NONE} if there was none in time; {@link #END_OF_STREAM} if there
     *         is none and the queue is closed for writing
     */
    int poll(Scratch s, long deadline, boolean interruptible) throws InterruptedException {
        enter();
        try {
            if (consumerPeers != null) {
                consumerPeers.register();
            }
            if (takers != null) {
                takers.prepare(); // NOTE: before the consumer lock: a first registration may read /proc
            }
            if (tryTake(s, deadline)) {
                return TOOK;
            }
            if (endOfStream()) {
                return END_OF_STREAM;
            }
            if (deadline == NOW) {
                return NONE;
            }
            boolean[] took = {false};
            boolean done = awaitPeers(notEmpty, () -> {
                checkOpen();
                return (took[0] = ring.hasItems() && tryTake(s, deadline)) || endOfStream();
            }, producerPeers, deadline, interruptible);
            return took[0] ? TOOK : done ? END_OF_STREAM : NONE;
        } finally {
            guard.exit();
        }
    }

    /** Closed for writing (read first, acquire) and then nothing left: no item can ever come. */
    private boolean endOfStream() {
        return isClosedForWriting() && !ring.hasItems();
    }

    private boolean tryTake(Scratch s, long deadline) {
        if (!lockBy(consumers, deadline)) {
            return false;
        }
        boolean took = false;
        long before = ring.headWord();
        try {
            consumersLocked();
            took = takeLocked(s);
        } finally {
            unlockConsumers(before);
        }
        return took;
    }

    private boolean takeLocked(Scratch s) {
        for (;;) {
            long at = ring.first();
            if (at == RecordRing.EMPTY) {
                return false;
            }
            int pos = (int) at;
            int kl = ring.kindLengthAt(pos);
            boolean read = Spills.readItem(ring, pos, kl, s, 0, true) >= 0;
            if (FaultInjection.ENABLED) {
                FaultInjection.at(RecordLayout.kind(kl) == SPILL
                        ? FaultInjection.Point.CONSUMER_AFTER_SPILL_UNLINK : FaultInjection.Point.CONSUMER_MID_RECORD);
            }
            tookOne();
            ring.consume(pos, RecordLayout.length(kl));
            if (read) {
                return true;
            } // else a spilled item whose segment is gone: skipped, try the next one
        }
    }

    /** Copies the head item into {@code s} without taking it; false at once if none (or the consumer lock is held by a stopped process). */
    boolean peek(Scratch s) {
        enter();
        try {
            if (!ring.hasItems() || !lockBy(consumers, NOW)) {
                return false;
            }
            long before = ring.headWord();
            try {
                consumersLocked();
                for (;;) {
                    long at = ring.first();
                    if (at == RecordRing.EMPTY) {
                        return false;
                    }
                    if (Spills.readItem(ring, (int) at, s, 0, false) >= 0) {
                        return true;
                    }
                    tookOne();
                    ring.consume((int) at);
                }
            } finally {
                unlockConsumers(before);
            }
        } finally {
            guard.exit();
        }
    }

    /**
     * Counts an item this process takes (in any way) in a joinable queue's takers table. Called under
     * the consumer lock right before the head moves past the item.
     */
    private void tookOne() {
        Takers t = takers;
        if (t != null) {
            t.took();
        }
    }

    /**
     * Frees the consumer lock; then, behind one fence for the head and the lock, wakes a lock waiter and,
     * if the head word moved from {@code before} during the hold, the producers waiting for room. Any
     * move counts: a take, a removal (one more item slot), and a walk that only freed padding or removed
     * records (bytes), which peeks and snapshots do too.
     */
    private void unlockConsumers(long before) {
        boolean freed = ring.headWord() != before; // the holder's own writes: no other process moves the head now
        // NOTE: the unlock's getAndSet is a full fence: the head's release store stays before the check
        // for sleeping producers below.
        consumers.unlock();
        if (freed) {
            notFull.wakeAll();
        }
    }

    /**
     * Takes up to {@code max} items into {@code s}'s input as {@code [int length][bytes]...}, in one
     * lock hold (at most about {@link #DRAIN_BYTES} bytes).
     *
     * @return how many
     */
    int drain(Scratch s, int max) {
        enter();
        try {
            if (max <= 0 || !ring.hasItems()) {
                return 0;
            }
            if (consumerPeers != null) {
                consumerPeers.register();
            }
            if (takers != null) {
                takers.prepare(); // NOTE: before the consumer lock: a first registration may read /proc
            }
            int n = 0;
            int used = 0;
            lockFully(consumers);
            long before = ring.headWord();
            try {
                consumersLocked();
                long at;
                while (n < max && used < DRAIN_BYTES && (at = ring.first()) != RecordRing.EMPTY) {
                    int length = Spills.readItem(ring, (int) at, s, used + 4, true);
                    tookOne();
                    ring.consume((int) at);
                    if (length >= 0) {
                        INT_LE.set(s.inputArray(), used, length);
                        used += 4 + length;
                        n++;
                    }
                }
            } finally {
                unlockConsumers(before);
            }
            return n;
        } finally {
            guard.exit();
        }
    }

    /** The length prefix that {@link #drain} wrote at {@code offset} of {@code s}'s input. */
    static int drainedLength(Scratch s, int offset) {
        return (int) INT_LE.get(s.inputArray(), offset);
    }

    /**
     * Takes every item without decoding it (spilled ones are unlinked), unless items may carry shared
     * objects ({@link #mayCarryHandles()}): then it stops, and the caller takes the rest as a consumer does.
     *
     * @return false if it stopped with items left
     */
    boolean clear() {
        enter();
        try {
            lockFully(consumers);
            long before = ring.headWord();
            try {
                consumersLocked();
                long at;
                // NOTE: first() acquires the tail: an item published after its producer set the flag is seen
                // with the flag
                while ((at = ring.first()) != RecordRing.EMPTY) {
                    if (mayCarryHandles()) {
                        return false;
                    }
                    Spills.dropItem(ring, (int) at);
                    tookOne();
                    ring.consume((int) at);
                }
                return true;
            } finally {
                unlockConsumers(before);
            }
        } finally {
            guard.exit();
        }
    }

    /**
     * Called by a producer before it publishes an item that carries shared objects (decision 232): a read,
     * and a write once per queue.
     */
    void noteCarriesHandles() {
        if ((int) INT.getVolatile(whole, QueueLayout.CARRIED) == 0) {
            INT.setVolatile(whole, QueueLayout.CARRIED, 1);
        }
    }

    /** False while no item of this queue ever carried a shared object: dropping one then needs no decoding. */
    boolean mayCarryHandles() {
        return (int) INT.getVolatile(whole, QueueLayout.CARRIED) != 0;
    }

    // ------------------------------------------------------------------ iteration and removal

    /** One item as an iterator saw it: where it was, and its bytes. */
    record Entry(int position, int seq, byte[] bytes) {
    }

    /** Copies every item between head and tail, in order (a weakly consistent snapshot). */
    List<Entry> snapshot() {
        enter();
        List<Entry> out = new ArrayList<>();
        Scratch s = Scratch.acquire();
        try {
            lockFully(consumers);
            long before = ring.headWord();
            try {
                consumersLocked();
                long at = ring.first();
                if (at == RecordRing.EMPTY) {
                    return out;
                }
                int end = RecordLayout.position(ring.tailWord());
                for (int pos = (int) at; pos - end < 0; pos = ring.next(pos)) {
                    int k = RecordLayout.kind(ring.kindLengthAt(pos));
                    if (k == RecordLayout.ITEM || k == SPILL) {
                        int length = Spills.readItem(ring, pos, s, 0, false);
                        if (length >= 0) {
                            out.add(new Entry(pos, ring.seqAt(pos), java.util.Arrays.copyOf(s.inputArray(), length)));
                        }
                    }
                }
                return out;
            } finally {
                unlockConsumers(before);
            }
        } finally {
            s.release();
            guard.exit();
        }
    }

    /**
     * Removes the item an iterator saw at {@code position} with {@code seq}, if it is still there.
     *
     * @return true if it was removed
     */
    boolean removeAt(int position, int seq) {
        enter();
        try {
            boolean removed = false;
            lockFully(consumers);
            long before = ring.headWord();
            try {
                consumersLocked();
                if (ring.holds(position) && ring.seqAt(position) == seq) {
                    int k = RecordLayout.kind(ring.kindLengthAt(position));
                    if (k == RecordLayout.ITEM || k == SPILL) {
                        Spills.dropItem(ring, position);
                        tookOne();
                        ring.markRemoved(position);
                        ring.freeDone(); // its bytes too, if it was the head record: nobody may take after us
                        removed = true;
                    }
                }
            } finally {
                unlockConsumers(before);
            }
            return removed;
        } finally {
            guard.exit();
        }
    }

    // ------------------------------------------------------------------ state and lifetime

    int size() {
        enter();
        try {
            return ring.size();
        } finally {
            guard.exit();
        }
    }

    int maxItems() {
        return ring.maxItems();
    }

    int capacityBytes() {
        return ring.capacity();
    }

    void enter() {
        if (!guard.enter()) {
            throw closed();
        }
    }

    void exit() {
        guard.exit();
    }

    void checkOpen() {
        if (guard.isClosed()) {
            throw closed();
        }
    }

    boolean isOpen() {
        return !guard.isClosed();
    }

    IllegalStateException closed() {
        return new IllegalStateException(what + " '" + name() + "' is closed");
    }

    /** Releases this handle once no operation of it is in flight (see the overview). Idempotent. */
    @Override
    public void close() {
        if (guard.close(() -> {
            notEmpty.wakeAll();
            notFull.wakeAll();
            joinWord.wakeAll();
        })) {
            producers.close();
            consumers.close();
            super.close();
        }
    }

    /** What {@link #close()} releases besides the ring's own mapping: the two lock handles' references. */
    @Override
    protected Runnable releaseMore() {
        Release p = Releases.of(producers);
        Release c = Releases.of(consumers);
        return () -> {
            try {
                p.run();
            } finally {
                c.run();
            }
        };
    }

    /** One more reference to this queue's mapping (no file or registry work: the segment is mapped). */
    private SharedSegments.Mapping anotherReference() {
        try {
            return SharedSegments.attach(name());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map the locks of " + what + " '" + name() + "': " + e.getMessage(), e);
        }
    }
}
