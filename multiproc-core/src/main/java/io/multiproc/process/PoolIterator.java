package io.multiproc.process;

import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeoutException;

/**
 * The results of {@link Pool#imap} or {@link Pool#imapUnordered}, as they arrive. {@code hasNext} and
 * {@code next} wait for the workers; {@link #next(Duration)} waits at most that long (Python's
 * {@code next(timeout)}).
 *
 * <pre>{@code
 * PoolIterator<Integer> it = pool.imap(x -> x * x, items, 10);
 * while (it.hasNext()) {
 *     System.out.println(it.next(Duration.ofSeconds(5)));
 * }
 * }</pre>
 *
 * <p>A chunk that failed (its task threw, or its worker died) is reported by the {@code next} call
 * that would have returned its first result: the task's exception itself when it is unchecked (such as
 * {@link WorkerDiedException}), else a {@link java.util.concurrent.CompletionException} with it as the
 * cause. Iteration may go on after it with the following chunks. Used by one thread at a time.
 */
public interface PoolIterator<R> extends Iterator<R> {

    /**
     * The next result, waiting at most {@code timeout} for it.
     *
     * @throws TimeoutException            if no result came in time (call again to keep waiting)
     * @throws java.util.NoSuchElementException if there are no more results
     * @throws InterruptedException        if interrupted while waiting
     */
    R next(Duration timeout) throws TimeoutException, InterruptedException;
}
