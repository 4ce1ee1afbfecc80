package io.multiproc.queue;

import io.multiproc.codec.Codec;
import io.multiproc.wait.IdleStrategy;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;

/**
 * A minimal queue between processes: Python's {@code multiprocessing.SimpleQueue} ({@code put},
 * {@code get}, {@code empty}, {@code close}). It behaves as unbounded for most uses: no item bound, a
 * 16 MiB ring, and items larger than 8 MiB spill into segments of their own; {@code put} waits only
 * when 16 MiB of small items are unread.
 *
 * <pre>{@code
 * try (SimpleQueue<String> q = SimpleQueue.create()) {
 *     ChildProcess.start(() -> q.put("hello from " + ProcessHandle.current().pid()));
 *     System.out.println(q.get());
 * }
 * }</pre>
 *
 * <p>Everything {@link SharedQueue} documents holds here too: synchronous puts, FIFO, the delivery
 * guarantee with dead processes, handles that travel to child processes, {@link #close()} releasing
 * this handle only. Null elements are not accepted.
 *
 * @param <E> the element type
 */
public final class SimpleQueue<E> implements AutoCloseable, Serializable {
    static final int CAPACITY = 16 << 20;
    private final transient SharedQueue<E> queue;

    SimpleQueue(SharedQueue<E> queue) {
        this.queue = queue;
    }

    public static <E> SimpleQueue<E> create() {
        return create(IdleStrategy.blocking(), Codec.defaultCodec());
    }

    public static <E> SimpleQueue<E> create(IdleStrategy idle, Codec codec) {
        Codec checked = SharedQueue.checkCodec(codec); // NOTE: before the ring exists, or a refused call leaks it
        QueueRing ring = SharedQueue.newRing("SimpleQueue", QueueLayout.KIND_SIMPLE, Integer.MAX_VALUE, CAPACITY, idle, checked);
        return new SimpleQueue<>(new SharedQueue<>(ring, checked));
    }

    /** Adds {@code item}; returns once it is in shared memory. */
    public void put(E item) throws InterruptedException {
        queue.put(item);
    }

    /**
     * Adds {@code item}, waiting at most {@code timeout} while 16 MiB of items are unread.
     *
     * @return false if there was no room in time; nothing was written
     */
    public boolean offer(E item, Duration timeout) throws InterruptedException {
        return queue.offer(item, timeout);
    }

    /** Takes the next item, waiting for one. */
    public E get() throws InterruptedException {
        return queue.take();
    }

    /** Takes the next item, waiting at most {@code timeout}; null if none came. */
    public E poll(Duration timeout) throws InterruptedException {
        return queue.poll(timeout);
    }

    /** True if no item is queued right now (Python's {@code empty()}). */
    public boolean isEmpty() {
        return queue.isEmpty();
    }

    public String name() {
        return queue.name();
    }

    /** Releases this handle; later calls throw IllegalStateException. Other processes are not affected. */
    @Override
    public void close() {
        queue.close();
    }

    /** This handle and the queue's shape ({@link SharedQueue#describe()}); a SimpleQueue is not a collection. */
    @Override
    public String toString() {
        return queue.describe();
    }

    /** Ends the stream ({@link SharedQueue#closeForWriting()}): later puts throw; {@link #get()} throws {@link EndOfStreamException} once drained. */
    public void closeForWriting() {
        queue.closeForWriting();
    }

    @Serial
    Object writeReplace() throws ObjectStreamException {
        return QueueHandle.of(queue.ring, queue.codec);
    }
}
