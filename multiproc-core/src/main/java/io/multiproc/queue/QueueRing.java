package io.multiproc.queue;

import io.multiproc.internal.MappedObject;
import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SharedSegments;
import io.multiproc.sync.EmbeddedLocks;
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

import static io.multiproc.queue.RecordLayout.SPILL;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The MPMC ring behind {@link SharedQueue}, {@link JoinableQueue} and {@link SimpleQueue}: bytes in,
 * bytes out, with the two ring locks, the waits, the spills and the close guard. The algorithm, each
 * shared field's writer and ordering, and dead-process handling: {@link SharedQueue}'s
 * "Implementation overview".
 */
final class QueueRing extends MappedObject {
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    /** A drain takes at most this many payload bytes per lock hold. */
    private static final int DRAIN_BYTES = 1 << 20;
    static final long NOW = Long.MIN_VALUE;

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
    }

    static QueueRing create(String what, int kind, int maxItems, int capacity, IdleStrategy idle) {
        SharedSegments.Mapping m = SharedSegments.create("mpq_", QueueLayout.segmentSize(capacity), seg -> {
            seg.set(JAVA_INT, QueueLayout.CAPACITY, capacity);
            seg.set(JAVA_INT, QueueLayout.MAX_ITEMS, maxItems);
            seg.set(JAVA_INT, QueueLayout.IDLE, Idles.code(idle));
            SegmentHeader.write(seg, QueueLayout.MAGIC, QueueLayout.VERSION, kind);
        });
        return new QueueRing(m, what, idle);
    }

    /** Attaches to queue {@code name} of {@code kind}; {@code custom} is used if its creator's strategy was custom. */
    static QueueRing attach(String name, String what, int kind, IdleStrategy custom) {
        try {
            return new QueueRing(SharedSegments.attach(name, seg -> SegmentHeader.check(seg, name, what,
                    QueueLayout.MAGIC, QueueLayout.VERSION, kind)), what, custom);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot attach " + what + " '" + name + "': " + e.getMessage(), e);
        }
    }

    MemorySegment segment() {
        return whole;
    }

    // ------------------------------------------------------------------ producing

    /**
     * Appends {@code src[0, length)} as one item, waiting until {@code deadline} for room
     * ({@link #NOW}: no waiting).
     *
     * @return false if there was no room in time; nothing was written
     */
    boolean offer(byte[] src, int length, long deadline, boolean interruptible) throws InterruptedException {
        enter();
        try {
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
        if (tryAppend(kind, src, length)) {
            return true;
        }
        if (deadline == NOW) {
            return false;
        }
        return Waiting.await(notFull, idle, () -> {
            checkOpen();
            return mayHaveRoom(length) && tryAppend(kind, src, length);
        }, deadline, interruptible);
    }

    private boolean tryAppend(int kind, byte[] src, int length) {
        producers.lock();
        if (producers.previousOwnerDied()) {
            Spills.reclaimOrphans();
        }
        boolean ok = false;
        try {
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

    /** A lock-free pre-check, so that waiting producers do not take the lock while the ring is full. */
    private boolean mayHaveRoom(int length) {
        long h = ring.headWord();
        long t = ring.tailWord();
        return RecordLayout.count(t) - RecordLayout.count(h) < ring.maxItems()
                && (RecordLayout.position(t) - RecordLayout.position(h)) + RecordLayout.recordSize(length) <= ring.capacity();
    }

    // ------------------------------------------------------------------ consuming

    /**
     * Takes the head item into {@code s}'s input (from index 0), waiting until {@code deadline} for
     * one ({@link #NOW}: no waiting).
     *
     * @return false if there was none in time
     */
    boolean poll(Scratch s, long deadline, boolean interruptible) throws InterruptedException {
        enter();
        try {
            if (tryTake(s)) {
                return true;
            }
            if (deadline == NOW) {
                return false;
            }
            return Waiting.await(notEmpty, idle, () -> {
                checkOpen();
                return ring.hasItems() && tryTake(s);
            }, deadline, interruptible);
        } finally {
            guard.exit();
        }
    }

    private boolean tryTake(Scratch s) {
        consumers.lock(); // a dead consumer left nothing to reclaim: its record is still at the head
        boolean took = false;
        try {
            took = takeLocked(s);
        } finally {
            unlockConsumers(took);
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
            if (FaultInjection.hook != null) {
                FaultInjection.at(RecordLayout.kind(kl) == SPILL
                        ? FaultInjection.Point.CONSUMER_AFTER_SPILL_UNLINK : FaultInjection.Point.CONSUMER_MID_RECORD);
            }
            ring.consume(pos, RecordLayout.length(kl));
            if (read) {
                return true;
            } // else a spilled item whose segment is gone: skipped, try the next one
        }
    }

    /** Copies the head item into {@code s} without taking it. */
    boolean peek(Scratch s) {
        enter();
        try {
            if (!ring.hasItems()) {
                return false;
            }
            consumers.lock();
            try {
                for (;;) {
                    long at = ring.first();
                    if (at == RecordRing.EMPTY) {
                        return false;
                    }
                    if (Spills.readItem(ring, (int) at, s, 0, false) >= 0) {
                        return true;
                    }
                    ring.consume((int) at);
                }
            } finally {
                unlockConsumers(false);
            }
        } finally {
            guard.exit();
        }
    }

    /**
     * Frees the consumer lock; then, behind one fence for the head and the lock, wakes a lock waiter and
     * (if {@code freed}) the producers waiting for room.
     */
    private void unlockConsumers(boolean freed) {
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
            int n = 0;
            int used = 0;
            consumers.lock();
            try {
                long at;
                while (n < max && used < DRAIN_BYTES && (at = ring.first()) != RecordRing.EMPTY) {
                    int length = Spills.readItem(ring, (int) at, s, used + 4, true);
                    ring.consume((int) at);
                    if (length >= 0) {
                        INT_LE.set(s.inputArray(), used, length);
                        used += 4 + length;
                        n++;
                    }
                }
            } finally {
                unlockConsumers(true);
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

    /** Takes every item without decoding it (spilled ones are unlinked). */
    void clear() {
        enter();
        try {
            consumers.lock();
            try {
                long at;
                while ((at = ring.first()) != RecordRing.EMPTY) {
                    Spills.dropItem(ring, (int) at);
                    ring.consume((int) at);
                }
            } finally {
                unlockConsumers(true);
            }
        } finally {
            guard.exit();
        }
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
            consumers.lock();
            try {
                long at = ring.first();
                if (at == RecordRing.EMPTY) {
                    return out;
                }
                int end = RecordLayout.position(ring.tailWord());
                for (int pos = (int) at; pos != end; pos = ring.next(pos)) {
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
                unlockConsumers(false);
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
            consumers.lock();
            try {
                if (ring.holds(position) && ring.seqAt(position) == seq) {
                    int k = RecordLayout.kind(ring.kindLengthAt(position));
                    if (k == RecordLayout.ITEM || k == SPILL) {
                        Spills.dropItem(ring, position);
                        ring.markRemoved(position);
                        removed = true;
                    }
                }
            } finally {
                unlockConsumers(removed);
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

    /** One more reference to this queue's mapping (no file or registry work: the segment is mapped). */
    private SharedSegments.Mapping anotherReference() {
        try {
            return SharedSegments.attach(name());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map the locks of " + what + " '" + name() + "': " + e.getMessage(), e);
        }
    }
}
