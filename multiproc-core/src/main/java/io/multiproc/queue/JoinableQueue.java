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
 * A consumer that dies before {@code taskDone()} leaves its task unfinished for good: {@code join()}
 * then waits forever; use {@link #join(Duration)}.
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

    /** Waits until every item put has been marked done. */
    public void join() throws InterruptedException {
        checkInterrupt();
        awaitJoined(Waiting.FOREVER);
    }

    /**
     * Waits at most {@code timeout} until every item put has been marked done.
     *
     * @return true if they all were
     */
    public boolean join(Duration timeout) throws InterruptedException {
        long nanos = Waiting.nanos(timeout);
        checkInterrupt();
        return awaitJoined(Waiting.deadline(nanos));
    }

    private boolean awaitJoined(long deadline) throws InterruptedException {
        ring.enter();
        try {
            return Waiting.await(ring.joinWord, ring.idle, () -> {
                ring.checkOpen();
                return unfinished() == 0;
            }, deadline, true);
        } finally {
            ring.exit();
        }
    }

    @Override
    public String describe() {
        String s = super.describe();
        return ring.isOpen() ? s.substring(0, s.length() - 1) + ", unfinished=" + unfinished() + "]" : s;
    }
}
