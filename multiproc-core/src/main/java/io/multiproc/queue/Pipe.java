package io.multiproc.queue;

import io.multiproc.codec.Codec;
import io.multiproc.wait.IdleStrategy;

import java.util.Objects;

/**
 * A pipe between processes in shared memory: Python's {@code multiprocessing.Pipe}. Two
 * {@link Connection}s; a duplex pipe carries messages both ways, a one-way pipe from {@link #right()}
 * to {@link #left()} (Python's {@code Pipe(duplex=False)} returns (receive-only, send-only)).
 *
 * <pre>{@code
 * try (Pipe pipe = Pipe.open(true)) {
 *     Connection mine = pipe.left(), theirs = pipe.right();
 *     ChildProcess.start(() -> {
 *         try { theirs.send(theirs.recv() + " pong"); } catch (IOException e) { throw new UncheckedIOException(e); }
 *     });
 *     mine.send("ping");
 *     System.out.println(mine.recv());   // ping pong
 * }
 * }</pre>
 *
 * <p>Each direction is a single-producer single-consumer ring (1 MiB by default; larger messages spill
 * into segments of their own), so a message costs one copy in and one copy out and no system call
 * unless the receiver sleeps. Waiting follows the pipe's {@link IdleStrategy}, shared by both ends in
 * every process: with {@link IdleStrategy#busySpin()} a round trip between two processes takes about a
 * microsecond. See {@link Connection} for end of stream, ownership of ends, and timeouts.
 */
public final class Pipe implements AutoCloseable {
    private final Connection left;
    private final Connection right;

    private Pipe(Connection[] ends) {
        this.left = ends[0];
        this.right = ends[1];
    }

    /** A duplex pipe (Python's default). */
    public static Pipe open() {
        return open(true);
    }

    /** A duplex pipe, or a one-way one in which the right end sends and the left end receives. */
    public static Pipe open(boolean duplex) {
        return open(duplex, IdleStrategy.blocking());
    }

    /** A pipe whose waiters, in every process, use {@code idle}. */
    public static Pipe open(boolean duplex, IdleStrategy idle) {
        return open(duplex, PipeLayout.DEFAULT_CAPACITY, idle, Codec.defaultCodec());
    }

    /**
     * A pipe with {@code capacityBytes} of ring per direction (1 KiB to 1 GiB, rounded up to a power of
     * two), waiting with {@code idle}, encoding objects with {@code codec}.
     */
    public static Pipe open(boolean duplex, long capacityBytes, IdleStrategy idle, Codec codec) {
        int capacity = RecordLayout.checkCapacity("capacityBytes", capacityBytes);
        return new Pipe(Connection.open(duplex, capacity, Objects.requireNonNull(idle, "idle"),
                Objects.requireNonNull(codec, "codec")));
    }

    /** The left end: receives (and, if duplex, sends). */
    public Connection left() {
        return left;
    }

    /** The right end: sends (and, if duplex, receives). */
    public Connection right() {
        return right;
    }

    public boolean isDuplex() {
        return left.isDuplex();
    }

    /** Closes both ends held here (an end passed to another process is only released). */
    @Override
    public void close() {
        try {
            left.close();
        } finally {
            right.close(); // NOTE: also when the left end's close failed: else this end stayed mapped for good
        }
    }

    @Override
    public String toString() {
        return "Pipe[" + left + ", " + right + "]";
    }
}
