package io.multiproc.process;

import io.multiproc.codec.Codec;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * A {@link Pool}'s work on the parent side: chunks (one task message each), the jobs they belong to,
 * and the feeds the dispatcher takes chunks from.
 *
 * <h2>Implementation overview</h2>
 * The pool's pending deque holds {@link Feed}s: a {@link Chunk} is a feed of itself; an
 * {@link Imap} job produces chunks lazily from the caller's iterator, at most {@code window} chunks
 * ahead of what its consumer has taken, so an endless input works in bounded memory. Feeds are read
 * only under the pool's lock. A job learns each chunk's outcome ({@link Job#succeeded},
 * {@link Job#failed}) from a reader thread, outside the pool's lock; a job guards its own state with its
 * own monitor (lock order: pool, then job).
 */
final class PoolWork {
    private PoolWork() {
    }

    /** Where the dispatcher takes chunks from. Called under the pool's lock. */
    interface Feed {
        /** The next chunk to send, or null if there is none now. */
        Chunk take();

        /** True when this feed will never give another chunk (it can be dropped). */
        boolean exhausted();

        /** Fails what this feed has not handed out yet (the pool was terminated or broke). */
        void abandon(Throwable cause);
    }

    /** One task message: a single call, or a slice of a map's items. */
    static final class Chunk implements Feed {
        final long id;
        final byte[] message;
        final Job job;
        /** Index of the chunk in its job, and of its first item; its number of items. */
        final int index;
        final long first;
        final int size;
        /** Handed out by {@link #take()}; reset when a send failed and the chunk goes back. Pool lock. */
        private boolean taken;
        /**
         * The worker it was sent to (null until sent): written under the pool's lock when the send
         * succeeded, read by a caller waiting for it ({@link TaskFuture#get}), which may then read
         * that worker's replies itself.
         */
        volatile PoolWorker at;
        /**
         * An imap chunk's outcome was given (guarded by its {@link Imap}'s monitor): shutdownNow fails
         * a running chunk at once, and the worker's late reply must not give it a second one (decision 110).
         */
        boolean decided;
        /** What an imap chunk's items carry, released with its outcome; null for the other jobs' chunks. */
        PoolHolds.Carried carried;

        Chunk(long id, byte[] message, Job job, int index, long first, int size) {
            this.id = id;
            this.message = message;
            this.job = job;
            this.index = index;
            this.first = first;
            this.size = size;
        }

        @Override
        public Chunk take() {
            if (taken) {
                return null;
            }
            taken = true;
            return this;
        }

        @Override
        public boolean exhausted() {
            return taken;
        }

        void putBack() {
            taken = false;
        }

        @Override
        public void abandon(Throwable cause) {
            job.failed(this, cause);
        }

        String describe() {
            return job.describe(this);
        }
    }

    /** What a chunk belongs to. Outcomes come from reader threads; implementations are thread-safe. */
    abstract static class Job {
        abstract void succeeded(Chunk c, Object result);

        abstract void failed(Chunk c, Throwable t);

        /** True once nothing of this job needs running (done, failed or cancelled). */
        abstract boolean isDone();

        String describe(Chunk c) {
            return "task id=" + c.id;
        }
    }

    /** A future whose {@code cancel} tells the pool, which then cancels the job's chunks in the workers. */
    static final class TaskFuture<T> extends CompletableFuture<T> {
        private final Pool pool;
        Job job;

        TaskFuture(Pool pool) {
            this.pool = pool;
        }

        /**
         * Cancels as CompletableFuture does (true also when it was cancelled before); only the call that
         * cancelled it tells the workers, with its own {@code mayInterruptIfRunning}.
         */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return cancelHere(mayInterruptIfRunning) || isCancelled();
        }

        /** Cancels; true only if this call did (shutdownNow lists only what it took back itself). */
        boolean cancelHere(boolean mayInterruptIfRunning) {
            // NOTE: not super.cancel(), which returns true for a future already cancelled: a cancel(true)
            // after a cancel(false) (invokeAll's or the caller's clean-up) then interrupted in its worker
            // the task that the first cancel had left running. completeExceptionally with a
            // CancellationException is what super.cancel() does, and tells whether this call did it.
            boolean cancelledHere = completeExceptionally(new CancellationException());
            if (cancelledHere && job != null) {
                pool.cancelled(job, mayInterruptIfRunning);
            }
            return cancelledHere;
        }

        /**
         * Spins briefly first: a tiny task's result usually comes within microseconds, a park/unpark
         * costs ~20. While it spins, the caller of a single task reads its worker's replies itself
         * ({@link PoolWorker#attend}), so the reply needs no hand-off through the reader thread.
         */
        @Override
        public T get() throws InterruptedException, ExecutionException {
            spinUntilDone(PoolIdle.SPIN_NANOS);
            return super.get();
        }

        @Override
        public T get(long timeout, TimeUnit unit)
                throws InterruptedException, ExecutionException, TimeoutException {
            spinUntilDone(Math.min(PoolIdle.SPIN_NANOS, unit.toNanos(timeout)));
            return super.get(timeout, unit);
        }

        @Override
        public T join() {
            spinUntilDone(PoolIdle.SPIN_NANOS);
            return super.join();
        }

        private void spinUntilDone(long nanos) {
            long end = System.nanoTime() + nanos;
            Thread me = Thread.currentThread();
            for (int i = 0; !isDone() && System.nanoTime() - end < 0 && !me.isInterrupted(); i++) {
                Chunk c = job instanceof Single<?> s ? s.chunk : null;
                PoolWorker w = c != null ? c.at : null;
                if (w == null || !w.attend(this, end)) {
                    PoolIdle.spin(i); // not sent yet, or another thread reads that worker's replies now
                }
            }
        }

        /** Every failure of the job (a chunk's, an abandon, a cancel) comes here: the job ends its report first. */
        @Override
        public boolean completeExceptionally(Throwable ex) {
            if (!isDone() && job instanceof MapJob<?, ?> m) {
                m.endingWithoutResult();
            }
            return super.completeExceptionally(ex);
        }

        @Override
        public <U> CompletableFuture<U> newIncompleteFuture() {
            return new CompletableFuture<>(); // dependents are plain futures: cancelling one cancels no task
        }
    }

    /** A job that ends in one future: it fails as a whole with its first failure. */
    abstract static class FutureJob<T> extends Job {
        final TaskFuture<T> future;

        FutureJob(Pool pool) {
            this.future = new TaskFuture<>(pool);
            this.future.job = this;
        }

        @Override
        void failed(Chunk c, Throwable t) {
            future.completeExceptionally(t);
        }

        @Override
        boolean isDone() {
            return future.isDone();
        }
    }

    /** One call: {@code applyAsync}, {@code submit}, {@code execute}. */
    static final class Single<T> extends FutureJob<T> {
        /** The caller's task, for {@code shutdownNow}'s list of tasks that never started. */
        final Object task;
        /** For {@code submit(Runnable, result)}: the result to complete with, kept here. */
        private final boolean useLocal;
        private final T local;
        /** Its one chunk; set by the pool before the chunk is queued. */
        volatile Chunk chunk;

        Single(Pool pool, Object task, boolean useLocal, T local) {
            super(pool);
            this.task = task;
            this.useLocal = useLocal;
            this.local = local;
        }

        @Override
        @SuppressWarnings("unchecked")
        void succeeded(Chunk c, Object result) {
            future.complete(useLocal ? local : (T) result);
        }

        @Override
        String describe(Chunk c) {
            return "task id=" + c.id + " (" + task.getClass().getName() + ")";
        }

        /** The task as a Runnable that runs it here, for {@code shutdownNow}. */
        Runnable asRunnable() {
            if (task instanceof Runnable r) {
                return r;
            }
            Callable<?> call = (Callable<?>) task;
            return () -> {
                try {
                    call.call();
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            };
        }
    }

    /**
     * An ordered map over a List: fails as a whole with the first failure of any chunk. Also the feed of
     * its chunks: the caller encodes them one by one and {@link #queue}s each (it goes out at once), and
     * the job stays in the pool's pending list until the caller has queued the last one. So a map that
     * was accepted is not cut short by a {@code shutdown()} while its caller is still encoding (the
     * pool keeps its workers for it), and {@code terminate()} or {@code shutdownNow()} fails it as a
     * whole ({@link #abandon}) instead of rejecting its next chunk at the caller.
     */
    static final class MapJob<T, R> extends FutureJob<List<R>> implements Feed {
        /** Guards {@link #unsent} and {@link #allQueued}; not {@code this}, which results are copied under. */
        private final Object feedLock = new Object();
        /** Chunks queued by the caller, not yet taken by the dispatcher, in order. */
        private final ArrayDeque<Chunk> unsent = new ArrayDeque<>();
        /** The caller queued its last chunk, or the job was withdrawn: no chunk comes any more. */
        private boolean allQueued;
        /** The first item of the chunk the caller queues next (all before it were queued); guarded by feedLock. */
        private int queuedUpTo;
        private final MapResults results;
        private final Progress progress;
        /** The caller's function and items, for {@code shutdownNow}'s list of work that never started. */
        private final SerializableFunction<T, R> f;
        private final List<T> items;
        private int chunksLeft;
        private long completed;
        /** Held by the reader completing a chunk while it counts and calls {@link #progress} (only with one). */
        private final Object progressOrder = new Object();
        /** The map is failing: {@link #progress} is told nothing more. Guarded by progressOrder. */
        private boolean progressEnded;

        MapJob(Pool pool, SerializableFunction<T, R> f, List<T> items, int chunkSize, int chunks, Progress progress) {
            super(pool);
            this.f = f;
            this.items = items;
            this.results = new MapResults(items.size(), chunkSize);
            this.chunksLeft = chunks;
            this.progress = progress;
        }

        /** Adds the caller's next chunk; false if the job was withdrawn meanwhile (terminate, shutdownNow). */
        boolean queue(Chunk c) {
            synchronized (feedLock) {
                if (allQueued) {
                    return false;
                }
                unsent.add(c);
                queuedUpTo = (int) c.first + c.size;
                return true;
            }
        }

        /** The caller is done queueing (the last chunk, or it stopped early). */
        void queuedAll() {
            synchronized (feedLock) {
                allQueued = true;
            }
        }

        /** For {@code shutdownNow}: the chunks not taken yet, as Runnables of their items; no more are taken or queued. */
        List<Runnable> withdraw() {
            synchronized (feedLock) {
                List<Runnable> work = new ArrayList<>(unsent.size() + 1);
                for (Chunk c : unsent) {
                    work.add(asRunnable(c));
                }
                if (!allQueued && queuedUpTo < items.size()) {
                    // NOTE: the caller is still encoding: the items it has not queued never start either (its
                    // next queue() answers false), and were neither listed nor run
                    List<T> rest = items.subList(queuedUpTo, items.size());
                    work.add(() -> rest.forEach(f::apply));
                }
                unsent.clear();
                allQueued = true;
                return work;
            }
        }

        @Override
        public Chunk take() {
            synchronized (feedLock) {
                return unsent.poll();
            }
        }

        @Override
        public boolean exhausted() {
            synchronized (feedLock) {
                return isDone() || (allQueued && unsent.isEmpty());
            }
        }

        @Override
        public void abandon(Throwable cause) {
            synchronized (feedLock) {
                unsent.clear();
                allQueued = true;
            }
            future.completeExceptionally(cause);
        }

        /** Chunk {@code c}'s work as a Runnable that applies the function to its items here (results dropped). */
        Runnable asRunnable(Chunk c) {
            List<T> slice = items.subList((int) c.first, (int) c.first + c.size);
            return () -> slice.forEach(f::apply);
        }

        @Override
        void succeeded(Chunk c, Object result) {
            if (progress == null) {
                record((List<?>) result, c);
                return;
            }
            // NOTE: two readers completing chunks at once called the callback in either order, and the
            // last one completed the map while the other's callback was still to come: the count went
            // backwards and came after map() returned. One at a time, the count and the callback in one step.
            synchronized (progressOrder) {
                record((List<?>) result, c);
            }
        }

        /** Copies a chunk's results in, tells the progress callback, completes the map after its last chunk. */
        @SuppressWarnings("unchecked")
        private void record(List<?> values, Chunk c) {
            long done;
            boolean last;
            synchronized (this) {
                if (future.isDone()) {
                    return;
                }
                results.put(c.index, values);
                done = completed += values.size();
                last = --chunksLeft == 0;
            }
            if (progress != null && !progressEnded) {
                try {
                    progress.update(done, results.size());
                } catch (RuntimeException | Error e) {
                    // NOTE: the user's callback runs on the pool's reader thread: its error fails this map
                    // (the caller sees it) instead of ending the reader, which took the worker for dead
                    future.completeExceptionally(e);
                    return;
                }
            }
            if (last) {
                future.complete((List<R>) results);
            }
        }

        /**
         * The map is about to fail (its future is not done yet): a console bar ends its line before the
         * failure can reach the caller, who may print it at once. A chunk's update still to come draws nothing.
         */
        void endingWithoutResult() {
            if (progress == null) {
                return;
            }
            // NOTE: under progressOrder, as updates are: an update racing with this one either drew before
            // the line ended or sees progressEnded; a bar left mid-line glued the exception text to it
            synchronized (progressOrder) {
                progressEnded = true;
                if (progress instanceof Progress.ConsoleBar bar) {
                    bar.endLine();
                }
            }
        }

        @Override
        String describe(Chunk c) {
            return "map chunk id=" + c.id + " (items " + c.first + ".." + (c.first + c.size - 1) + ")";
        }
    }

    /**
     * A lazy map over an Iterable ({@code imap}, {@code imapUnordered}): a feed of chunks read from the
     * source a window ahead of the consumer (on the caller's and the consumer's threads), and the
     * iterator over their results.
     */
    static final class Imap<T, R> extends Job implements Feed, PoolIterator<R> {
        private static final Object FAILED_MARK = new Object();
        private final Pool pool;
        private final Iterator<T> source;
        private final byte[] fn;
        /** What {@link #fn} carries: released once no chunk of this imap is in flight or will be made. */
        private final PoolHolds.Carried fnCarried;
        private final Codec codec;
        private final int chunkSize;
        private final int window;
        private final boolean ordered;
        private final LongSupplier ids;
        // guarded by this
        /** The thread running {@link #feed}, the only one that reads {@link #source}; interrupted when abandoned. */
        private Thread feeder;
        private int produced;
        /** Chunks made that have their outcome (a result, a failure, or unencodable). */
        private int decided;
        private int consumed;
        private boolean sourceDone;
        /** Chunks made by {@link #feed}, not yet handed out, in index order. */
        private final ArrayDeque<Chunk> ready = new ArrayDeque<>();
        private Throwable terminal;
        private final Map<Integer, Object> byIndex = new HashMap<>();
        private final ArrayDeque<Object> arrived = new ArrayDeque<>();
        private Iterator<?> current;
        private long currentFirst;

        Imap(Pool pool, Iterator<T> source, byte[] fn, PoolHolds.Carried fnCarried, Codec codec, int chunkSize, int window,
                boolean ordered, LongSupplier ids) {
            this.pool = pool;
            this.source = source;
            this.fn = fn;
            this.fnCarried = fnCarried;
            this.codec = codec;
            this.chunkSize = chunkSize;
            this.window = window;
            this.ordered = ordered;
            this.ids = ids;
        }

        // ---- the source (the feeder's thread)

        /**
         * The feeder: reads the source a window ahead of the consumer and makes the chunks {@link #take}
         * hands out, on a virtual thread of its own, as CPython's task handler thread does. Never on a
         * reader thread or under the pool's lock: the source may block, or be another imap of this pool.
         * Read under the pool's lock, as before, that imap's results could not arrive and the whole pool
         * hung, terminate() too. Ends when the source does or the imap is abandoned (which interrupts it).
         */
        void feed() {
            try {
                feedLoop();
            } catch (Throwable e) { // a checked exception thrown sneakily too (Kotlin, Lombok); the pool's dispatch, or an Error while encoding: the consumer must not wait forever
                synchronized (this) {
                    if (!sourceDone) {
                        if (terminal == null) {
                            terminal = e;
                        }
                        endSource();
                        notifyAll();
                    }
                }
                pool.feedEnded();
            }
        }

        private void feedLoop() {
            boolean added;
            while (true) {
                int index;
                added = false;
                synchronized (this) {
                    while (!sourceDone && produced - consumed >= window) {
                        try {
                            wait();
                        } catch (InterruptedException e) {
                            return; // abandoned
                        }
                    }
                    if (sourceDone) {
                        return;
                    }
                    index = produced; // only the feeder adds chunks
                }
                List<T> items = new ArrayList<>(Math.min(chunkSize, 1024));
                boolean more;
                try {
                    while (items.size() < chunkSize && source.hasNext()) {
                        items.add(source.next());
                    }
                    more = source.hasNext();
                } catch (Throwable e) { // NOTE: a checked exception thrown sneakily (Kotlin, Lombok's @SneakyThrows) too: else the consumer waited for ever
                    synchronized (this) {
                        if (terminal == null) {
                            terminal = e;
                        }
                        endSource();
                        notifyAll();
                    }
                    pool.feedEnded();
                    return;
                }
                Chunk c = null;
                RuntimeException unencodable = null;
                if (!items.isEmpty()) {
                    long id = ids.getAsLong();
                    PoolHolds.Carried carried = pool.holds().carried();
                    try {
                        c = new Chunk(id, pool.holds().encode(() -> PoolFrames.task(id, PoolFrames.MAP, fn, codec, items), carried),
                                this, index, (long) index * chunkSize, items.size());
                        c.carried = carried;
                    } catch (RuntimeException e) { // a writeObject or a user's codec may throw anything
                        unencodable = e;
                    }
                }
                synchronized (this) {
                    if (sourceDone) {
                        if (c != null) {
                            c.carried.release();
                        }
                        return; // abandoned meanwhile (close, shutdownNow, terminate): what was read is dropped
                    }
                    if (!items.isEmpty()) {
                        produced++;
                        if (c != null) {
                            ready.add(c);
                            added = true;
                        } else {
                            // NOTE: the index was counted, so it must get an outcome or the ordered iterator waits for it forever
                            outcome(index, unencodable);
                        }
                    }
                    if (!more) {
                        endSource();
                    }
                    notifyAll();
                }
                if (!more) {
                    pool.feedEnded();
                    return;
                }
                if (added) {
                    pool.feedMore();
                }
            }
        }

        /** Starts {@link #feed} on a virtual thread (daemon: an unread imap does not keep the JVM alive). */
        void startFeeder(String name) {
            Thread t = Thread.ofVirtual().name(name).unstarted(this::feed);
            synchronized (this) {
                feeder = t;
            }
            t.start();
        }

        // ---- feed (pool lock held)

        @Override
        public synchronized Chunk take() {
            return ready.poll();
        }

        @Override
        public synchronized boolean exhausted() {
            return sourceDone && ready.isEmpty();
        }

        /**
         * Stops reading the source ({@code close()}, decision 136): the chunks already made still go out
         * and give their results (a chunk the feeder was still reading is dropped), then the iterator
         * reports {@code cause}.
         */
        synchronized void endInput(Throwable cause) {
            if (sourceDone) {
                return;
            }
            terminal = cause;
            endSource();
            notifyAll();
            if (feeder != null) {
                feeder.interrupt(); // a source blocked in next() may end with it; the feeder then stops
            }
        }

        @Override
        public synchronized void abandon(Throwable cause) {
            if (terminal == null) {
                terminal = cause;
            }
            // the chunks made but not handed out hold the highest indexes: uncounted, the iterator ends after the others
            produced -= ready.size();
            for (Chunk c : ready) {
                c.carried.release();
            }
            ready.clear();
            endSource();
            notifyAll();
            if (feeder != null) {
                feeder.interrupt(); // a source blocked in next() may end with it; the feeder then stops
            }
        }

        // ---- job (reader threads)

        @Override
        synchronized void succeeded(Chunk c, Object result) {
            c.carried.release();
            if (!c.decided) {
                c.decided = true;
                outcome(c.index, result);
            }
        }

        @Override
        synchronized void failed(Chunk c, Throwable t) {
            c.carried.release();
            if (!c.decided) {
                c.decided = true;
                outcome(c.index, new Failure(t));
            }
        }

        /** The input is over (read to its end, failed, or abandoned): no more chunks will be made. */
        private synchronized void endSource() {
            sourceDone = true;
            releaseFunctionWhenOver();
        }

        /**
         * Once no chunk will be made and every chunk made has its outcome, the objects the function carries
         * are needed no more: a long-lived pool running an imap per request lets them go (decision 191).
         */
        private synchronized void releaseFunctionWhenOver() {
            if (sourceDone && decided - produced >= 0) { // NOTE: wrap-safe, as in await
                fnCarried.release();
            }
        }

        private synchronized void outcome(int index, Object value) {
            decided++;
            releaseFunctionWhenOver();
            if (value instanceof Throwable t) {
                value = new Failure(t);
            }
            if (ordered) {
                byIndex.put(index, value);
            } else {
                arrived.add(value);
            }
            notifyAll();
        }

        @Override
        boolean isDone() {
            return false;
        }

        @Override
        String describe(Chunk c) {
            return "imap chunk id=" + c.id + " (items " + c.first + ".." + (c.first + c.size - 1) + ")";
        }

        private record Failure(Throwable cause) {
        }

        // ---- iterator (the consumer's thread)

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
            return takeResult();
        }

        @Override
        public R next(Duration timeout) throws TimeoutException, InterruptedException {
            long nanos = io.multiproc.wait.Waiting.nanos(timeout);
            if (!await(nanos)) {
                throw new NoSuchElementException("no more imap results");
            }
            return takeResult();
        }

        @SuppressWarnings("unchecked")
        private synchronized R takeResult() {
            Object v = current.next();
            if (current instanceof FailureIterator f) {
                throw Pool.unwrap(f.cause);
            }
            return (R) v;
        }

        /** Waits until {@code current} has an element (true) or the results are over (false). */
        private boolean await(long nanos) throws InterruptedException, TimeoutException {
            long deadline = System.nanoTime() + Math.min(nanos, Long.MAX_VALUE / 4);
            while (true) {
                synchronized (this) {
                    if (current != null && current.hasNext()) {
                        return true;
                    }
                    boolean moved = current != null;
                    if (moved) {
                        current = null;
                        consumed++;
                        notifyAll(); // the window has room for one more: the feeder waits for that
                    }
                    Object next = ordered ? byIndex.remove(consumed) : arrived.poll();
                    if (next != null) {
                        current = next instanceof Failure f ? new FailureIterator(f.cause) : ((List<?>) next).iterator();
                    } else if (sourceDone && consumed - produced >= 0) { // NOTE: wrap-safe: an endless imap passes 2^31 chunks
                        if (terminal == null) {
                            return false;
                        }
                        current = new FailureIterator(terminal);
                        terminal = null;
                        produced++; // the terminal failure counts as one more chunk to consume
                    } else if (!moved) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new TimeoutException("no imap result within timeout=" + java.time.Duration.ofNanos(nanos));
                        }
                        wait(Math.max(1, left / 1_000_000));
                        continue;
                    }
                }
            }
        }

        /** Stands for a failed chunk in the results: its one "element" is the failure. */
        private static final class FailureIterator implements Iterator<Object> {
            final Throwable cause;
            private boolean done;

            FailureIterator(Throwable cause) {
                this.cause = cause;
            }

            @Override
            public boolean hasNext() {
                return !done;
            }

            @Override
            public Object next() {
                done = true;
                return FAILED_MARK;
            }
        }
    }
}
