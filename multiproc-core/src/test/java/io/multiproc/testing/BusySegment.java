package io.multiproc.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;

/**
 * A thread inside blocking I/O on a buffer of a shared segment: it writes the segment's bytes (more than
 * a pipe holds) to a pipe nobody reads, so the JDK keeps the segment's scope acquired, and an
 * {@code Arena.close()} of it fails, until {@link #close()} drains the pipe.
 */
public final class BusySegment implements AutoCloseable {
    private final Pipe pipe;
    private final Thread writer;

    /** Returns once the thread is blocked inside the write. {@code segment} must be over 64 KiB. */
    public BusySegment(MemorySegment segment) throws IOException, InterruptedException {
        pipe = Pipe.open();
        ByteBuffer bytes = segment.asByteBuffer();
        writer = new Thread(() -> {
            try (Pipe.SinkChannel sink = pipe.sink()) {
                while (bytes.hasRemaining()) {
                    sink.write(bytes);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "busy-segment-writer");
        writer.start();
        // NOTE: the write acquires the scope before its system call: bytes in the pipe mean it is inside
        pipe.source().configureBlocking(false);
        ByteBuffer one = ByteBuffer.allocate(1);
        Children.awaitUntil("the writer is inside its write", () -> {
            try {
                return pipe.source().read(one.clear()) > 0;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Lets the write finish (reads the pipe to its end) and waits for the thread. */
    @Override
    public void close() throws IOException, InterruptedException {
        pipe.source().configureBlocking(true);
        ByteBuffer drain = ByteBuffer.allocate(1 << 16);
        while (pipe.source().read(drain.clear()) >= 0) {
            // until the writer has written everything and closed the sink
        }
        writer.join();
        pipe.source().close();
    }
}
