package io.multiproc.queue;

import java.util.NoSuchElementException;

/**
 * Thrown by {@code take()} (and {@code SimpleQueue.get()}) on a queue that was closed for writing
 * ({@link SharedQueue#closeForWriting()}) once every item put before that has been taken: no element
 * will ever come. A {@link NoSuchElementException}, as from {@code Iterator.next()} at the end; the
 * non-blocking and timed {@code poll} return null instead, at once.
 *
 * <pre>{@code
 * try {
 *     for (;;) handle(q.take());
 * } catch (EndOfStreamException end) {
 *     // every producer is done and every item was handled
 * }
 * }</pre>
 */
public final class EndOfStreamException extends NoSuchElementException {
    private static final long serialVersionUID = 1L;

    public EndOfStreamException(String message) {
        super(message);
    }
}
