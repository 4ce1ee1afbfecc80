package io.multiproc.queue;

import io.multiproc.codec.Codec;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.Waiting;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A {@link SharedQueue} that counts unfinished tasks: Python's {@code multiprocessing.JoinableQueue}.
 * Every item put is a task; a consumer calls {@link #taskDone()} when it has finished with an item it
 * took, and {@link #join()} waits until every item ever put has been marked done, in any process.
 *
 * <pre>{@code
 * try (JoinableQueue<Path> work = JoinableQueue.create(100)) {
 *     for (int i = 0; i < 2; i++) {
 *         ChildProcess.builder().daemon(true).target(() -> {
 *             for (;;) { process(work.take()); work.taskDone(); }
 *         }).start();
 *     }
 *     for (Path p : files) work.put(p);
 *     work.join();                                     // every file processed
 * }
 * }</pre>
 *
 * <p>The count lives in shared memory: unfinished = items put (the tail word's count) minus
 * {@code taskDone()} calls (one CAS-ed int in the join line), both modulo 2^32. {@code taskDone()}
 * beyond the number of items put throws {@link IllegalStateException} and changes nothing. Items taken
 * in any way ({@code poll}, {@code drainTo}, {@code remove}, {@code clear}) still count until done.
 * {@code taskDone()} may be called by another process than the one that took the item (as in Python).
 *
 * <p>A consumer that dies holding tasks (it took items and nobody marked them done) would leave
 * {@code join()} waiting forever, as Python's does. Here {@code join()} and {@code join(Duration)} notice
 * it (each process's takes and {@code taskDone()} calls are counted in the queue): when the tasks taken
 * and not done are more than the live processes hold, and no {@code taskDone()} or take came for half a
 * second, they throw {@link PeerDiedException} naming the dead pids and how many tasks each left
 * unfinished, within about a second of the death. Nothing is changed: the tasks stay unfinished, the
 * queue works on, and {@code join()} throws again while they remain. To go on, mark them done with
 * {@code taskDone()} from any process (a {@code taskDone()} by a process that holds no task of its own
 * is counted against a dead consumer's tasks first). A task a consumer hands to another process to mark
 * done is fine as long as that happens within the half second (decisions 237, 238).
 *
 * @param <E> the element type
 */
public final class JoinableQueue<E> extends SharedQueue<E> {
    private static final VarHandle INT = JAVA_INT.varHandle();

    JoinableQueue(QueueRing ring, Codec codec) {
        super(ring, codec);
    }

    /** A joinable queue of at most {@code maxItems > 0} items, with the defaults of {@link SharedQueue#create(int)}. */
    public static <E> JoinableQueue<E> create(int maxItems) {
        return create(maxItems, IdleStrategy.blocking(), Codec.defaultCodec());
    }

    public static <E> JoinableQueue<E> create(int maxItems, IdleStrategy idle, Codec codec) {
        QueueLayout.checkMaxItems(maxItems);
        return create(maxItems, QueueLayout.defaultCapacity(maxItems), idle, codec);
    }

    public static <E> JoinableQueue<E> create(int maxItems, long capacityBytes, IdleStrategy idle, Codec codec) {
        Codec checked = checkCodec(codec); // NOTE: before the ring exists, or a refused call leaks it
        return new JoinableQueue<>(newRing("JoinableQueue", QueueLayout.KIND_JOINABLE, maxItems, capacityBytes, idle, checked), checked);
    }

    /**
     * Attaches to an existing joinable queue by its {@link #name()}, with the default codec;
     * IllegalArgumentException if its creator used a codec of another class.
     */
    public static <E> JoinableQueue<E> attach(String name) {
        return new JoinableQueue<>(QueueRing.attach(name, "JoinableQueue", QueueLayout.KIND_JOINABLE, null,
                Codec.defaultCodec()), Codec.defaultCodec());
    }

    /**
     * Marks one task done.
     *
     * @throws IllegalStateException if every item put has already been marked done
     */
    public void taskDone() {
        ring.enter();
        try {
            MemorySegment seg = ring.segment();
            for (;;) {
                int done = (int) INT.getVolatile(seg, QueueLayout.DONE);
                int put = RecordLayout.count(ring.ring.tailWord());
                if (put == done) {
                    throw new IllegalStateException("JoinableQueue '" + name() + "': taskDone() called more times than"
                            + " items were put (put=" + Integer.toUnsignedString(put) + ", done=" + Integer.toUnsignedString(done) + ")");
                }
                // NOTE: the CAS is a full fence, so the sleeper check in wakeAll stays after it.
                if (INT.compareAndSet(seg, QueueLayout.DONE, done, done + 1)) {
                    break;
                }
            }
            // NOTE: after the CAS: a join waiter's look never sees this process's done ahead of the count.
            ring.takers.done();
            ring.joinWord.wakeAll();
        } finally {
            ring.exit();
        }
    }

    /** Tasks put and not yet marked done. */
    public long unfinishedTasks() {
        ring.enter();
        try {
            return unfinished();
        } finally {
            ring.exit();
        }
    }

    private long unfinished() {
        int done = (int) INT.getVolatile(ring.segment(), QueueLayout.DONE);
        return Integer.toUnsignedLong(RecordLayout.count(ring.ring.tailWord()) - done);
    }

    /**
     * Waits until every item put has been marked done.
     *
     * @throws PeerDiedException if a process died holding tasks that nobody marked done (see above)
     */
    public void join() throws InterruptedException {
        checkInterrupt();
        awaitJoined(Waiting.FOREVER);
    }

    /**
     * Waits at most {@code timeout} until every item put has been marked done.
     *
     * @return true if they all were
     * @throws PeerDiedException if a process died holding tasks that nobody marked done (see above)
     */
    public boolean join(Duration timeout) throws InterruptedException {
        long nanos = Waiting.nanos(timeout);
        checkInterrupt();
        return awaitJoined(Waiting.deadline(nanos));
    }

    private boolean awaitJoined(long deadline) throws InterruptedException {
        ring.enter();
        try {
            Waiting.Ready joined = () -> {
                ring.checkOpen();
                return unfinished() == 0;
            };
            Takers.Verdict first = null;
            long firstAt = 0;
            for (;;) {
                long slice = Waiting.deadline(QueueRing.PEER_CHECK_NANOS);
                boolean last = deadline - slice <= 0;
                if (Waiting.await(ring.joinWord, ring.idle, joined, last ? deadline : slice, true)) {
                    return true;
                }
                if (last) {
                    return false;
                }
                Takers.Verdict v = ring.takers.look(ring.ring);
                if (v == null || v.dead().isEmpty()) {
                    first = null;
                } else if (first == null || first.head() != v.head() || first.done() != v.done()) {
                    first = v; // the counts moved: a handed-over task may still be marked done
                    firstAt = System.nanoTime();
                } else if (System.nanoTime() - firstAt >= DEATH_GRACE_NANOS && !joined.ready()) {
                    throw diedHolding(v);
                }
            }
        } finally {
            ring.exit();
        }
    }

    /**
     * How long a join waiter's verdict "a dead process holds tasks" must stand, with no take and no
     * {@code taskDone()} anywhere, before it throws: a consumer may hand its task to another process to
     * mark done, and die before that process does.
     */
    static final long DEATH_GRACE_NANOS = 500_000_000L;

    private PeerDiedException diedHolding(Takers.Verdict v) {
        StringBuilder who = new StringBuilder();
        for (Takers.Dead d : v.dead()) {
            who.append(who.isEmpty() ? "" : ", ").append("pid ").append(d.pid()).append(" with ").append(d.tasks())
                    .append(d.tasks() == 1 ? " unfinished task" : " unfinished tasks");
        }
        return new PeerDiedException("JoinableQueue '" + name() + "': join() would wait forever: a consumer died"
                + " holding tasks it took and nobody marked done (" + who + "); unfinished=" + unfinished()
                + ". Mark them done with taskDone() from any process to go on");
    }

    @Override
    public String describe() {
        String s = super.describe();
        return ring.isOpen() ? s.substring(0, s.length() - 1) + ", unfinished=" + unfinished() + "]" : s;
    }
}
