package io.multiproc.redis;

import io.multiproc.process.PoolIterator;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The results of {@link RedisPool#imap} and {@link RedisPool#imapUnordered}. The consumer's own calls
 * read the source and send chunks, at most {@code window} chunks in flight, so the source is read only as
 * fast as results are consumed (bounded memory). A failed chunk is reported by the {@code next} call that
 * would have returned its first result (as the local Pool's iterator does), and iteration may go on.
 * Used by one thread at a time, except {@link #end}, which the pool calls from the thread that closes it.
 */
final class RedisPoolIterator<T, R> implements PoolIterator<R> {
    private final Iterator<T> source;
    private final int chunkSize;
    private final int window;
    private final boolean ordered;
    private final Function<List<T>, CompletableFuture<Object>> send;
    /** Ordered: chunks in flight, oldest first. */
    private final ArrayDeque<CompletableFuture<Object>> inFlight = new ArrayDeque<>();
    /** Unordered: chunks completed, in completion order. */
    private final LinkedBlockingQueue<CompletableFuture<Object>> completed = new LinkedBlockingQueue<>();
    /** Told once when the source is read to the end, failed or was ended: the pool stops waiting for it. */
    private final Consumer<RedisPoolIterator<T, R>> inputRead;
    private int outstanding;
    private Iterator<?> current;
    /** What the source threw (any Throwable: a checked exception thrown sneakily, an Error), reported after the results sent for. */
    private Throwable sourceFailure;
    /** No more reading from the source (the consumer's thread). */
    private boolean sourceDone;
    /** Set by the pool's close() or terminate() (another thread; volatile): read no more, report this after the results sent for. */
    private volatile RuntimeException ended;

    RedisPoolIterator(Iterator<T> source, int chunkSize, int window, boolean ordered,
                      Function<List<T>, CompletableFuture<Object>> send, Consumer<RedisPoolIterator<T, R>> inputRead) {
        this.source = source;
        this.chunkSize = chunkSize;
        this.window = window;
        this.ordered = ordered;
        this.send = send;
        this.inputRead = inputRead;
    }

    /** The pool closed or terminated: no more items are read; the results already sent for still come, then {@code why}. */
    void end(RuntimeException why) {
        ended = why;
    }

    @Override
    public boolean hasNext() {
        try {
            return await(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for the next imap result");
        } catch (TimeoutException cannot) {
            throw new AssertionError(cannot);
        }
    }

    @Override
    public R next() {
        if (!hasNext()) {
            throw new NoSuchElementException("no more imap results");
        }
        return take();
    }

    @Override
    public R next(Duration timeout) throws TimeoutException, InterruptedException {
        long nanos = io.multiproc.wait.Waiting.nanos(timeout);
        if (!await(nanos)) {
            throw new NoSuchElementException("no more imap results");
        }
        return take();
    }

    @SuppressWarnings("unchecked")
    private R take() {
        Object v = current.next();
        if (v instanceof Failed f) {
            throw RedisPool.unwrap(f.cause);
        }
        return (R) v;
    }

    private record Failed(Throwable cause) {
    }

    /** Waits until {@code current} has an element (true) or the results are over (false). */
    private boolean await(long nanos) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + Math.min(nanos, Long.MAX_VALUE / 4);
        while (current == null || !current.hasNext()) {
            fill();
            if (outstanding == 0) {
                if (sourceFailure != null) {
                    current = List.of(new Failed(sourceFailure)).iterator();
                    sourceFailure = null;
                    return true;
                }
                return false;
            }
            CompletableFuture<Object> f = ordered ? inFlight.peekFirst()
                    : completed.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (f == null) {
                throw new TimeoutException("no imap result within the timeout");
            }
            try {
                Object v = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                current = ((List<?>) v).iterator();
            } catch (ExecutionException e) {
                current = List.of(new Failed(e.getCause())).iterator();
            } catch (CancellationException e) {
                current = List.of(new Failed(e)).iterator();
            }
            if (ordered) {
                inFlight.pollFirst();
            }
            outstanding--;
        }
        return true;
    }

    /** Sends chunks from the source while fewer than {@code window} are in flight. */
    private void fill() {
        while (outstanding < window && !sourceDone) {
            RuntimeException why = ended;
            if (why != null) {
                stopReading(why);
                return;
            }
            List<T> items = new ArrayList<>(Math.min(chunkSize, 1024));
            try {
                while (items.size() < chunkSize && source.hasNext()) {
                    items.add(source.next());
                }
                if (items.size() < chunkSize) {
                    stopReading(null);
                }
            } catch (Throwable e) {
                // NOTE: not RuntimeException alone (as the local Pool's feeder): a checked exception thrown
                // sneakily (Kotlin, Lombok's @SneakyThrows) or an Error overtook the results already sent
                // for, and the imap stayed on the pool's list of lazy maps reading, so shutdown() never ended
                stopReading(e);
            }
            if (items.isEmpty()) {
                return;
            }
            CompletableFuture<Object> sent;
            try {
                sent = send.apply(items);
            } catch (RejectedExecutionException e) {
                // closed or terminated between the check above and this send: these items are not run
                RuntimeException endedMeanwhile = ended;
                stopReading(endedMeanwhile != null ? endedMeanwhile : e);
                return;
            } catch (RuntimeException e) {
                // NOTE: these items (one cannot be encoded, Redis refused them): their failure takes their
                // place in the results, as the local Pool's; thrown from here it overtook the chunks in flight
                sent = CompletableFuture.failedFuture(e);
            }
            CompletableFuture<Object> f = sent;
            outstanding++;
            if (ordered) {
                inFlight.addLast(f);
            } else {
                f.whenComplete((v, e) -> completed.add(f));
            }
        }
    }

    /** Reads no more of the source; {@code failure} (if any) is reported after the results already sent for. */
    private void stopReading(Throwable failure) {
        if (failure != null && sourceFailure == null) {
            sourceFailure = failure;
        }
        if (!sourceDone) {
            sourceDone = true;
            inputRead.accept(this);
        }
    }
}
