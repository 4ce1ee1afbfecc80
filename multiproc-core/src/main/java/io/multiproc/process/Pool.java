package io.multiproc.process;

import io.multiproc.Multiproc;
import io.multiproc.codec.Codec;
import io.multiproc.internal.Invocations;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.wait.IdleStrategy;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pool of worker JVMs: Python's {@code multiprocessing.Pool}, and an {@link ExecutorService}.
 *
 * <pre>{@code
 * try (Pool pool = Pool.create(4)) {
 *     List<Integer> squares = pool.map(x -> x * x, List.of(1, 2, 3));          // [1, 4, 9]
 *     CompletableFuture<String> f = pool.applyAsync(() -> ProcessHandle.current().pid() + "");
 *     for (Iterator<Integer> it = pool.imap(x -> x + 1, hugeIterable, 100); it.hasNext(); ) { ... }
 * }
 * Pool pool = Pool.builder().workers(4).initializer(() -> loadModel()).maxTasksPerChild(100)
 *         .jvmOptions(List.of("-Xmx256m")).build();
 * }</pre>
 *
 * <p>Functions and tasks travel through the {@link Codec} (lambdas must be serializable: the parameter
 * types {@link SerializableFunction} and {@link SerializableCallable} make a lambda so); a task that
 * cannot be encoded fails at the call with IllegalArgumentException naming the class. Shared objects
 * (values, locks, queues, lists) captured by a task or given as items re-attach in the worker; the pool
 * holds them until it ends, so the caller may close its handle right after the call ({@link PoolHolds}).
 *
 * <h2>Failures</h2>
 * <ul>
 *   <li>A task's exception is the {@link ExecutionException}'s cause, re-created with its own type and
 *       message when possible, else as {@link io.multiproc.RemoteException}; the stack trace is the
 *       worker's. A result that cannot be encoded fails that task only.</li>
 *   <li>A worker that dies (SIGKILL, {@code Runtime.halt}, OOM) fails the chunks it held, at most two,
 *       with {@link WorkerDiedException} within ~25 ms, and a replacement starts; other tasks go on.
 *       {@link #map} and {@link #mapAsync} fail promptly as a whole with that cause (like any failure of
 *       one of their chunks; their chunks still queued are dropped), while {@link #imap} and
 *       {@link #imapUnordered} report it in place of the lost chunk's results and go on.</li>
 *   <li>An initializer that throws fails every pending task with its exception (one that ends its JVM:
 *       halt, a crash, even {@code System.exit(0)}, with a {@link WorkerDiedException} naming the initializer)
 *       and breaks the pool, which then rejects new tasks, instead of starting replacements forever.
 *       So does a worker that cannot load its task (an initializer or codec from a class loader the
 *       worker does not have): the cause is then a {@link ChildStartException} naming the class and the fix;
 *       and a worker JVM that exits with an error before it runs anything (a JVM option it refuses): a
 *       {@link ChildStartException} with its exit code (its stderr, which is this JVM's, says why); and a
 *       worker that cannot wait for its tasks because the pool's {@link IdleStrategy} threw: that exception
 *       (decision 221).</li>
 * </ul>
 *
 * <h2>Lifetime</h2>
 * {@link #shutdown()} is Python's {@code close()}: no new tasks (RejectedExecutionException), queued
 * ones still run, then the workers exit. {@link #close()} shuts down and waits. {@link #terminate()}
 * kills the workers at once and completes every unfinished future exceptionally
 * (CancellationException). {@link #shutdownNow()} cancels what runs (interrupting it in the worker)
 * and returns the work that never started (single tasks and map chunks) as Runnables. Workers are
 * daemon children: they die with this JVM, and a pool that is never closed does not keep the JVM alive.
 * Worker output goes to this JVM's stdout and stderr. {@code create} returns at once: the workers start
 * in the background and tasks wait for them ({@link #awaitReady}).
 *
 * <h2>Implementation overview</h2>
 * Each worker is a warm child JVM ({@link ChildProcess}, from the spares) running {@link PoolWorkerMain}
 * over a shared-memory data pipe; {@link PoolWorker} is its parent side. Callers encode their task
 * (ONE codec frame per chunk) and add it to {@link #pending}; the dispatcher ({@link #dispatchLocked},
 * under {@link #lock}) sends chunks to workers that hold fewer than {@link #AHEAD}, idle workers
 * first, so a map's worker always has its next chunk and the parent knows what each holds; a single
 * task goes only to an idle worker, and nothing goes ahead while a worker starts (decision 165). Each worker's
 * reader thread completes jobs outside the lock, then dispatches again. Waiting on the pipes follows
 * the pool's {@link IdleStrategy}: spin briefly after each message, then sleep on a futex, so an idle
 * pool costs no CPU.
 * <p>Fields guarded by {@link #lock}: {@link #pending}, {@link #slots}, {@link #state},
 * {@link #broken}, {@link #brokenBy}, {@link #starting}.
 */
public final class Pool implements SerializableExecutorService {
    static final System.Logger LOG = System.getLogger(Pool.class.getName());
    /** Chunks a worker may hold: the one it runs and the next one. */
    static final int AHEAD = 2;
    /**
     * The most workers a pool may have: 4,194,304 (2<sup>22</sup>), Linux's {@code PID_MAX_LIMIT}, the most
     * processes any kernel can number at once. A count above it can never start and is refused up front
     * (decision 220); a count below it that this machine cannot start breaks the pool at the first worker
     * that fails to start.
     */
    public static final int MAX_WORKERS = 1 << 22;
    private static final AtomicInteger POOLS = new AtomicInteger();

    private enum State { RUNNING, SHUTDOWN, STOPPED }

    private final String name;
    private final int workers;
    private final int maxTasksPerChild;
    private final List<String> jvmOptions;
    private final IdleStrategy idle;
    private final SerializableRunnable initializer;
    /** The user's codec (null: the default task codec); the worker gets it too. */
    private final Codec userCodec;
    private final Codec codec;
    private final AtomicLong ids = new AtomicLong(1);
    private final Object lock = new Object();
    private final ArrayDeque<PoolWork.Feed> pending = new ArrayDeque<>();
    private final PoolWorker[] slots;
    private State state = State.RUNNING;
    private Throwable broken;
    /** What broke the pool, for the rejection's message ("a worker could not start", ...); guarded by lock. */
    private String brokenBy;
    private int starting;
    /**
     * Deliveries of failures under way outside the lock (stop, shutdownNow, a dead worker's lost chunks,
     * which run the callers' dependent stages): the pool has not terminated until they are over, so that
     * awaitTermination's true means every future is done. Guarded by lock.
     */
    private int settling;
    /**
     * The pool whose failures this thread is delivering now: a dependent stage run there that waited for
     * the pool's termination (join, close) would wait for itself, for ever.
     */
    private static final ThreadLocal<Pool> SETTLING_HERE = new ThreadLocal<>();
    private final AtomicInteger started = new AtomicInteger();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** The last stateless function encoded and its bytes ({fn, byte[]}); racy but always a consistent pair. */
    private volatile Object[] lastFunction;
    /** What the tasks carried (shared objects), held until the pool ends. */
    private final PoolHolds holds;

    private Pool(Builder b) {
        this.name = "Pool-" + POOLS.incrementAndGet();
        this.holds = new PoolHolds(name);
        this.workers = b.workers;
        this.maxTasksPerChild = b.maxTasksPerChild;
        this.jvmOptions = b.jvmOptions;
        this.idle = b.idle;
        this.initializer = b.initializer;
        this.userCodec = b.codec;
        this.codec = b.codec != null ? b.codec : TaskCodec.codec();
        this.slots = new PoolWorker[workers];
    }

    /** A pool of {@code workers} worker JVMs. */
    public static Pool create(int workers) {
        return builder().workers(workers).build();
    }

    /** A pool of {@link Multiproc#cpuCount()} workers. */
    public static Pool create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Asks for the spares and returns: the workers start on a background thread, and tasks queue until
     * they are up. Creating a pool costs the caller nothing; the workers are ready after about one warm
     * start (spares booted or booting) or one cold start.
     */
    private void startAll() {
        synchronized (lock) {
            starting = workers;
        }
        if (jvmOptions.isEmpty()) {
            SpareJvms.reserve(workers); // NOTE: before the starter runs: the spares boot while it opens the pipes
        }
        Thread starter = new Thread(this::startWorkers, name + "-starter");
        starter.setDaemon(true);
        starter.start();
    }

    /**
     * Set (CAS, any thread) while the watch is scheduled: armed by a reader starting a completion,
     * disarmed by a tick that finds no reader in one. An idle pool's watch sleeps: ticking every 50 ms
     * cost 20 wake-ups a second (0.3% of a CPU on a VM where a wake-up costs ~150 us).
     */
    private final java.util.concurrent.atomic.AtomicBoolean watchArmed = new java.util.concurrent.atomic.AtomicBoolean();

    /** From a reader starting a completion: makes sure a tick comes within {@link Watch#TICK_MILLIS}. */
    void armWatch() {
        if (!watchArmed.get() && watchArmed.compareAndSet(false, true)) {
            scheduleWatch();
        }
    }

    private void scheduleWatch() {
        if (terminated.isDone()) {
            watchArmed.set(false);
            return;
        }
        try {
            Watch.TIMER.schedule(this::relieveStuckReaders, Watch.TICK_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException shutDown) {
            watchArmed.set(false);
        }
    }

    /**
     * The pool's watch over its reader threads (decision 163). It ticks only while some reader runs a
     * completion; a tick costs a few volatile reads per worker.
     */
    private static final class Watch {
        static final ScheduledExecutorService TIMER = io.multiproc.internal.DaemonScheduler.create("multiproc-pool-watch");
        static final long TICK_MILLIS = 50;
        /** A completion that runs this long while its worker holds chunks (or has ended) gets the worker a new reader. */
        static final long STUCK_NANOS = 100_000_000L;
    }

    /**
     * Each tick: a reader thread that has been running one completion (the caller's dependent stages)
     * for {@link Watch#STUCK_NANOS} while its worker holds chunks, has exited or is being retired is
     * replaced by a new one ({@link PoolWorker#relieveIfStuck}), so a stage that waits for another task
     * of the same worker (or just runs long) stops neither that worker's replies nor its end.
     */
    private void relieveStuckReaders() {
        PoolWorker[] ws;
        synchronized (lock) {
            ws = slots.clone();
        }
        long now = System.nanoTime();
        for (PoolWorker w : ws) {
            if (w != null && w.relieveIfStuck(now, Watch.STUCK_NANOS)) {
                LOG.log(System.Logger.Level.DEBUG, () -> name + ": a dependent stage has run on " + w
                        + "'s reader for over 100 ms; a new reader reads on");
            }
        }
        if (anyCompleting(ws)) {
            scheduleWatch();
            return;
        }
        // NOTE: disarm, then look again: a reader stores completingSince before it reads watchArmed
        // (both volatile), so either it sees false and arms, or this sees its completion and re-arms.
        watchArmed.set(false);
        synchronized (lock) {
            ws = slots.clone(); // a worker started since the copy above has a reader too
        }
        if (anyCompleting(ws) && watchArmed.compareAndSet(false, true)) {
            scheduleWatch();
        }
    }

    private static boolean anyCompleting(PoolWorker[] ws) {
        for (PoolWorker w : ws) {
            if (w != null && w.completing()) {
                return true;
            }
        }
        return false;
    }

    /** The starter thread: starts each worker in turn (each start takes a spare and returns); stops at the first failure. */
    private void startWorkers() {
        for (int i = 0; i < workers; i++) {
            synchronized (lock) {
                if (state == State.STOPPED) {
                    starting -= workers - i; // terminated meanwhile: the rest never starts
                    checkTerminatedLocked();
                    return;
                }
            }
            PoolWorker w;
            try {
                w = startWorker(i);
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.ERROR, name + ": cannot start its workers", e);
                synchronized (lock) {
                    starting -= workers - i;
                    checkTerminatedLocked(); // when terminate() came first, stop() below does nothing
                }
                stop(e, e);
                return;
            }
            install(i, w);
        }
    }

    private PoolWorker startWorker(int slot) {
        if (jvmOptions.isEmpty()) {
            // NOTE: n spares booting together on idle cores make a pool of n start in about one warm
            // start, not n cold ones; asking again for each replacement keeps the reservation alive past
            // the spares' idle period, so a replacement also takes a warm JVM.
            SpareJvms.reserve(workers);
        }
        return PoolWorker.start(this, slot, name + "-worker-" + started.incrementAndGet(), jvmOptions, idle,
                initializer, maxTasksPerChild, userCodec, codec);
    }

    /** Puts a started worker in its slot (or kills it if the pool stopped meanwhile). */
    private void install(int slot, PoolWorker w) {
        synchronized (lock) {
            starting--;
            if (state != State.STOPPED) {
                slots[slot] = w;
                dispatchLocked();
                // NOTE: its READY may have come before this (the starter thread preempted in between), when
                // the reader's retireIdleLocked() could not see it yet: after shutdown() it was never
                // retired and join() waited forever. No test makes that preemption happen on demand.
                retireIdleLocked();
                return;
            }
        }
        w.kill();
    }

    // ------------------------------------------------------------------ Python's API

    /** Applies {@code f} to every item in worker JVMs; results in the items' order. Chunk size as CPython's. */
    public <T, R> List<R> map(SerializableFunction<T, R> f, List<T> items) {
        return await(mapAsync(f, items));
    }

    /** Applies {@code f} to every item, sending {@code chunkSize} items per message. */
    public <T, R> List<R> map(SerializableFunction<T, R> f, List<T> items, int chunkSize) {
        return await(mapAsync(f, items, chunkSize, null));
    }

    /** Like {@link #map(SerializableFunction, List)}, telling {@code progress} as chunks complete. */
    public <T, R> List<R> map(SerializableFunction<T, R> f, List<T> items, Progress progress) {
        return await(mapAsync(f, items, defaultChunkSize(items.size(), workers), Objects.requireNonNull(progress, "progress")));
    }

    /** Like {@link #map(SerializableFunction, List, int)}, telling {@code progress} as chunks complete. */
    public <T, R> List<R> map(SerializableFunction<T, R> f, List<T> items, int chunkSize, Progress progress) {
        return await(mapAsync(f, items, chunkSize, Objects.requireNonNull(progress, "progress")));
    }

    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<T, R> f, List<T> items) {
        return mapAsync(f, items, defaultChunkSize(Objects.requireNonNull(items, "items").size(), workers), null);
    }

    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<T, R> f, List<T> items, int chunkSize) {
        return mapAsync(f, items, chunkSize, null);
    }

    /**
     * Starts a map and returns at once; the future completes with the results in order, or exceptionally
     * with the first failure. Cancelling it cancels the map's chunks (interrupting running ones if asked).
     */
    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<T, R> f, List<T> items, int chunkSize,
                                                      Progress progress) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(items, "items");
        checkChunkSize(chunkSize);
        int n = items.size();
        checkAccepting();
        if (n == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        PoolHolds.Carried carried = holds.carried();
        byte[] fn = function(f, carried);
        // NOTE: in longs: n + chunkSize - 1 overflowed for a chunkSize near Integer.MAX_VALUE (no chunk, a map that never ended)
        int chunks = (int) ((n + (long) chunkSize - 1) / chunkSize);
        PoolWork.MapJob<T, R> job = new PoolWork.MapJob<>(this, f, items, chunkSize, chunks, progress);
        job.future.whenComplete((r, e) -> carried.release()); // every chunk's outcome is known, or none matters
        boolean accepted = false;
        try {
            for (int i = 0; i < chunks && !job.isDone(); i++) {
                int from = i * chunkSize;
                int to = (int) Math.min(n, (long) from + chunkSize);
                long id = ids.getAndIncrement();
                PoolWork.Chunk c;
                try {
                    c = new PoolWork.Chunk(id, holds.encode(() -> PoolFrames.task(id, PoolFrames.MAP, fn, codec, items.subList(from, to)),
                            carried), job, i, from, to - from);
                } catch (RuntimeException unencodable) { // IllegalArgumentException, or whatever a writeObject or codec threw
                    if (i == 0) {
                        carried.release();
                        throw unencodable; // nothing was sent: fail at the call
                    }
                    job.future.completeExceptionally(unencodable);
                    break;
                }
                if (!job.queue(c)) {
                    break; // withdrawn: terminate() or shutdownNow() failed the map meanwhile
                }
                // NOTE: each chunk goes out as soon as it is encoded, so workers start while the rest is encoded.
                // Only the first is checked against the pool's state: a shutdown() after it lets the map
                // finish (the job stays pending until its last chunk is queued, so workers wait for it).
                if (i == 0) {
                    enqueue(List.of(job));
                    accepted = true;
                } else {
                    feedMore();
                }
            }
        } finally {
            job.queuedAll();
            if (accepted) {
                feedEnded(); // the job leaves the pending list once its chunks have; idle workers may retire
            }
        }
        return job.future;
    }

    /**
     * The function's bytes. A lambda without captured state is one object per call site, so its bytes
     * are kept and reused when the same object comes again (encoding a lambda costs tens of µs).
     */
    private byte[] function(Object fn, PoolHolds.Carried carried) {
        Object[] last = lastFunction;
        if (last != null && last[0] == fn) {
            return (byte[]) last[1];
        }
        byte[] bytes = holds.encode(() -> PoolFrames.function(codec, fn), carried);
        if (fn.getClass().isSynthetic() && fn.getClass().getDeclaredFields().length == 0) {
            lastFunction = new Object[] {fn, bytes};
        }
        return bytes;
    }

    /** CPython's default chunk size: ceil(n / (4 * workers)). */
    static int defaultChunkSize(int n, int workers) {
        return Math.max(1, (int) ((n + 4L * workers - 1) / (4L * workers)));
    }

    /** A lazy ordered map, one item per chunk. */
    public <T, R> PoolIterator<R> imap(SerializableFunction<T, R> f, Iterable<T> items) {
        return imap(f, items, 1);
    }

    /**
     * A lazy ordered map: reads {@code items} only as workers need more (a bounded window ahead of the
     * consumer), so an endless or huge Iterable works in bounded memory.
     */
    public <T, R> PoolIterator<R> imap(SerializableFunction<T, R> f, Iterable<T> items, int chunkSize) {
        return lazyMap(f, items, chunkSize, true);
    }

    public <T, R> PoolIterator<R> imapUnordered(SerializableFunction<T, R> f, Iterable<T> items) {
        return imapUnordered(f, items, 1);
    }

    /** Like {@link #imap}, with results in the order they complete (chunk by chunk). */
    public <T, R> PoolIterator<R> imapUnordered(SerializableFunction<T, R> f, Iterable<T> items, int chunkSize) {
        return lazyMap(f, items, chunkSize, false);
    }

    private <T, R> PoolIterator<R> lazyMap(SerializableFunction<T, R> f, Iterable<T> items, int chunkSize, boolean ordered) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(items, "items");
        checkChunkSize(chunkSize);
        checkAccepting(); // before encoding f and asking items for an iterator
        // NOTE: what the function carries is held until the input has ended and every chunk made has its
        // outcome (or the imap was abandoned and the chunks handed out have theirs); what each chunk's items
        // carry goes with that chunk's outcome
        PoolHolds.Carried fnCarried = holds.carried();
        byte[] fn = function(f, fnCarried);
        PoolWork.Imap<T, R> job = new PoolWork.Imap<>(this, items.iterator(), fn, fnCarried, codec, chunkSize,
                2 * AHEAD * workers + 2, ordered, ids::getAndIncrement);
        enqueue(List.of(job));
        job.startFeeder(name + "-imap-feeder");
        return job;
    }

    /** Runs {@code task} in a worker; Python's {@code apply_async}. */
    public <R> CompletableFuture<R> applyAsync(SerializableCallable<R> task) {
        return call(task, task, false, null);
    }

    // ------------------------------------------------------------------ ExecutorService

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        return call(task, task, false, null);
    }

    @Override
    public Future<?> submit(Runnable task) {
        return call(new RunnableCall(Objects.requireNonNull(task, "task")), task, false, null);
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        return call(new RunnableCall(Objects.requireNonNull(task, "task")), task, true, result);
    }

    /** Runs {@code command} in a worker; a failure is logged (there is no future to report it to). */
    @Override
    public void execute(Runnable command) {
        call(new RunnableCall(Objects.requireNonNull(command, "command")), command, false, null)
                .whenComplete((r, e) -> {
                    if (e != null && !(e instanceof CancellationException)) {
                        LOG.log(System.Logger.Level.WARNING, name + ": task " + command.getClass().getName() + " failed", e);
                    }
                });
    }

    /** A Runnable as a Callable, so both travel the same way. */
    private record RunnableCall(Runnable task) implements SerializableCallable<Object> {
        @Serial
        private static final long serialVersionUID = 1L;

        @Override
        public Object call() {
            task.run();
            return null;
        }
    }

    private <T> PoolWork.TaskFuture<T> call(Callable<?> task, Object original, boolean useLocal, T local) {
        Objects.requireNonNull(task, "task");
        checkAccepting(); // NOTE: before encoding: after shutdown, a task that cannot travel is rejected too, and nothing is made for it
        long id = ids.getAndIncrement();
        byte[] fn;
        PoolHolds.Carried carried = holds.carried();
        try {
            fn = function(task, carried);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("task " + original.getClass().getName()
                    + " cannot be sent to a pool worker: " + e.getCause().getMessage(), e.getCause());
        }
        PoolWork.Single<T> job = new PoolWork.Single<>(this, original, useLocal, local);
        if (!carried.isEmpty()) {
            job.future.whenComplete((r, e) -> carried.release());
        }
        PoolWork.Chunk c = new PoolWork.Chunk(id, PoolFrames.task(id, PoolFrames.CALL, fn, codec, null), job, 0, 0, 1);
        job.chunk = c;
        enqueue(List.of(c));
        return job.future;
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
        return Invocations.invokeAll(this, tasks);
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        return Invocations.invokeAll(this, tasks, timeout, unit);
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return Invocations.invokeAny(this, tasks, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        } catch (TimeoutException cannot) {
            throw new AssertionError(cannot);
        }
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        return Invocations.invokeAny(this, tasks, timeout, unit);
    }

    // ------------------------------------------------------------------ lifetime

    /** Python's {@code close()}: no new tasks; queued ones still run, then the workers exit. */
    @Override
    public void shutdown() {
        synchronized (lock) {
            if (state == State.RUNNING) {
                state = State.SHUTDOWN;
            }
            retireIdleLocked();
            checkTerminatedLocked();
        }
    }

    /**
     * ExecutorService's {@code close()}: shuts down and waits until the workers have exited. Work already
     * submitted runs to its end, except that an {@link #imap} or {@link #imapUnordered} stops reading its
     * input: its iterator gives the results of the items it had read, then throws
     * CancellationException. Waiting for an input that nobody reads any more (the usual case: a
     * try-with-resources block left after reading part of an imap) would never end. To get every
     * result of an imap, read it to the end before {@code close()}, or call {@link #shutdown()} (which
     * lets it read on) and read it to the end. Interrupted while waiting, it {@link #terminate()}s the
     * pool (kills the workers, where {@code ExecutorService.close()} would call {@code shutdownNow()},
     * which a task that ignores interrupts outlives) and keeps the interrupt.
     */
    @Override
    public void close() {
        checkNotSettlingHere("close()");
        CancellationException ended = new CancellationException(name + " was closed before this imap's input was read to "
                + "the end: read an imap to the end before close(), or call shutdown() and read on");
        synchronized (lock) {
            if (state == State.RUNNING) {
                state = State.SHUTDOWN;
            }
            for (Iterator<PoolWork.Feed> it = pending.iterator(); it.hasNext(); ) {
                // the feed stays until the chunks it made have gone out; the iterator then reports the end
                if (it.next() instanceof PoolWork.Imap<?, ?> imap) {
                    imap.endInput(ended);
                    if (imap.exhausted()) {
                        it.remove(); // else idle workers would wait for it to be taken up by a dispatch
                    }
                }
            }
            retireIdleLocked();
            checkTerminatedLocked();
        }
        // NOTE: not ExecutorService.super.close(): on an interrupt it calls shutdownNow(), which only
        // interrupts the running tasks in their workers, so a task that ignores interrupts kept close()
        // waiting forever. A worker is a process we can kill: terminate() ends every task for sure.
        boolean interrupted = false;
        while (!isTerminated()) {
            try {
                awaitTermination(1L, TimeUnit.DAYS);
            } catch (InterruptedException e) {
                if (!interrupted) {
                    interrupted = true;
                    terminate();
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Shuts down, cancels what runs (interrupting it in its worker) and returns the work that never
     * started, as Runnables that run it in the calling JVM with results dropped: each single task that
     * never started (its future is cancelled), and each map chunk that never started (applying the
     * function to its items; the map's future fails with CancellationException). An imap's items not
     * yet read are not listed (its input is lazy and may be endless); its iterator reports the
     * CancellationException. A map chunk already sent ahead to a busy worker (each holds at most one
     * besides the one it runs, decision 041) is cancelled with the running ones, not listed.
     */
    @Override
    public List<Runnable> shutdownNow() {
        List<Runnable> never = new ArrayList<>();
        List<PoolWork.Feed> feeds = new ArrayList<>();
        List<PoolWork.Chunk> running = new ArrayList<>();
        synchronized (lock) {
            if (state == State.RUNNING) {
                state = State.SHUTDOWN;
            }
            feeds.addAll(pending);
            pending.clear();
            for (PoolWorker w : slots) {
                if (w != null) {
                    running.addAll(w.inFlight.values());
                }
            }
            settling++; // until the futures of what it takes back have failed (awaitTermination waits for that)
        }
        CancellationException cancelled = new CancellationException(name + " was shut down before this task finished");
        settling(() -> {
            for (PoolWork.Feed f : feeds) {
                // NOTE: all of a map's chunks are listed before its first abandon below fails it (a failed map's chunks are not work)
                if (f instanceof PoolWork.Chunk c && c.job instanceof PoolWork.MapJob<?, ?> m && !m.isDone()) {
                    never.add(m.asRunnable(c));
                } else if (f instanceof PoolWork.MapJob<?, ?> m && !m.isDone()) {
                    never.addAll(m.withdraw());
                }
            }
            for (PoolWork.Feed f : feeds) {
                if (f instanceof PoolWork.Chunk c && c.job instanceof PoolWork.Single<?> s) {
                    // NOTE: cancel answers true for a future cancelled earlier too (by its caller, a timed invokeAll, an
                    // invokeAny's losers): listing that handed back work its caller had called off
                    if (s.future.cancelHere(false)) {
                        never.add(s.asRunnable());
                    }
                } else {
                    f.abandon(cancelled); // a map's future fails as a whole; an imap's lazy input is not work that can be listed
                }
            }
            for (PoolWork.Chunk c : running) {
                c.job.failed(c, cancelled);
                cancelled(c.job, true);
            }
            shutdown();
        });
        return never;
    }

    /** Kills the workers now; every unfinished future completes exceptionally (CancellationException). */
    public void terminate() {
        stop(new CancellationException(name + " was terminated before this task finished"), null);
    }

    /** Stops the pool: fails all pending and held work with {@code cause}; {@code why} set means broken. */
    private void stop(Throwable cause, Throwable why) {
        stop(cause, why, COULD_NOT_START);
    }

    /** What broke a pool, as {@link #checkAccepting} says it. */
    private static final String COULD_NOT_START = "a worker could not start";
    private static final String INITIALIZER_FAILED = "a worker's initializer failed";
    private static final String IDLE_FAILED = "a worker failed waiting for tasks (the pool's idle strategy threw?)";

    /** {@link #stop(Throwable, Throwable)}; {@code brokenBy}: what broke the pool (when {@code why} is set). */
    private void stop(Throwable cause, Throwable why, String brokenBy) {
        List<PoolWork.Feed> feeds;
        List<PoolWork.Chunk> held = new ArrayList<>();
        List<PoolWorker> all = new ArrayList<>();
        synchronized (lock) {
            if (state == State.STOPPED) {
                return;
            }
            state = State.STOPPED;
            broken = why;
            this.brokenBy = brokenBy;
            feeds = new ArrayList<>(pending);
            pending.clear();
            for (PoolWorker w : slots) {
                if (w != null) {
                    held.addAll(w.takeAll());
                    w.retiring = true;
                    all.add(w);
                }
            }
            settling++;
        }
        settling(() -> {
            for (PoolWorker w : all) {
                w.kill();
            }
            for (PoolWork.Chunk c : held) {
                c.job.failed(c, cause);
            }
            for (PoolWork.Feed f : feeds) {
                f.abandon(cause);
            }
        });
    }

    /** One delivery of failures that {@link #settling} counted is over; the pool may have terminated with it. */
    private void settled() {
        synchronized (lock) {
            settling--;
            checkTerminatedLocked();
        }
    }

    /** Runs {@code deliver} (failing futures, so running their callers' stages) marked as this pool's settling. */
    private void settling(Runnable deliver) {
        Pool outer = SETTLING_HERE.get();
        SETTLING_HERE.set(this);
        try {
            deliver.run();
        } finally {
            SETTLING_HERE.set(outer);
            settled();
        }
    }

    /** IllegalStateException if this thread is delivering this pool's failures (see {@link #SETTLING_HERE}). */
    private void checkNotSettlingHere(String call) {
        if (SETTLING_HERE.get() == this) {
            throw new IllegalStateException(call + " of " + name + " from a stage of a future the pool is failing now"
                    + " would wait for itself: wait elsewhere, or use awaitTermination with a timeout");
        }
    }

    /** Waits until every worker has exited; Python's {@code join()}: call {@link #shutdown()} or {@link #terminate()} first. */
    public void join() throws InterruptedException {
        checkNotRunning();
        checkNotSettlingHere("join()");
        try {
            terminated.get();
        } catch (ExecutionException cannot) {
            throw new AssertionError(cannot);
        }
    }

    /** Waits at most {@code timeout} until every worker has exited; true if they have. */
    public boolean join(Duration timeout) throws InterruptedException {
        long nanos = io.multiproc.wait.Waiting.nanos(timeout);
        checkNotRunning();
        return awaitTermination(nanos, TimeUnit.NANOSECONDS);
    }

    private void checkNotRunning() {
        synchronized (lock) {
            if (state == State.RUNNING) {
                throw new IllegalStateException(name + " is running: call shutdown() or terminate() before join()");
            }
        }
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            terminated.get(timeout, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException cannot) {
            throw new AssertionError(cannot);
        }
    }

    @Override
    public boolean isShutdown() {
        synchronized (lock) {
            return state != State.RUNNING;
        }
    }

    @Override
    public boolean isTerminated() {
        return terminated.isDone();
    }

    /**
     * Waits until every worker has booted and run its initializer (workers start in the background;
     * tasks submitted before then simply wait for them).
     *
     * @return true if all were ready within {@code timeout}
     */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        long deadline = io.multiproc.wait.Waiting.deadline(io.multiproc.wait.Waiting.nanos(timeout));
        while (true) {
            synchronized (lock) {
                boolean all = starting == 0;
                for (PoolWorker w : slots) {
                    all &= w != null && w.ready;
                }
                if (all || state == State.STOPPED) {
                    return all;
                }
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1);
        }
    }

    /** The pids of the running workers (for monitoring and tests). */
    public List<Long> workerPids() {
        List<Long> pids = new ArrayList<>();
        synchronized (lock) {
            for (PoolWorker w : slots) {
                if (w != null && w.child.isAlive()) {
                    pids.add(w.pid());
                }
            }
        }
        return pids;
    }

    /** The number of worker slots. */
    public int workers() {
        return workers;
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return name + "[workers=" + workers + ", " + state + (broken != null ? ", broken" : "") + "]";
        }
    }

    // ------------------------------------------------------------------ dispatching (lock held)

    private void enqueue(List<? extends PoolWork.Feed> feeds) {
        synchronized (lock) {
            checkAccepting();
            pending.addAll(feeds);
            dispatchLocked();
        }
    }

    private void checkAccepting() {
        synchronized (lock) {
            if (state != State.RUNNING) {
                // NOTE: told by who broke it: a worker that could not be started (a codec that cannot travel,
                // /dev/shm full) was reported as "a worker's initializer failed" in a pool without one
                throw new RejectedExecutionException(name + (broken != null ? " is broken: " + brokenBy
                        : state == State.STOPPED ? " was terminated" : " was shut down"), broken);
            }
        }
    }

    /**
     * Sends chunks to workers holding fewer than {@link #AHEAD}: idle ones first, then one ahead, but
     * none ahead while a worker is being started, and never a single task ahead (decision 165).
     */
    private void dispatchLocked() {
        // NOTE: a worker being started is idle in a moment. Sent ahead to a busy worker, a chunk waited
        // behind that worker's running one instead: two long tasks submitted to a fresh Pool.create(2) ran
        // one after the other on the first worker up while the second sat idle (an ExecutorService of two
        // runs them at once).
        int most = starting > 0 ? 1 : AHEAD;
        for (int limit = 1; limit <= most && !pending.isEmpty(); limit++) {
            for (PoolWorker w : slots) {
                while (w != null && w.canTake(limit, maxTasksPerChild)) {
                    PoolWork.Chunk c = nextChunkLocked(limit > 1);
                    if (c == null) {
                        return;
                    }
                    int sent = w.trySend(c);
                    if (sent == PoolWorker.NOT_SENT) {
                        c.putBack();
                        pending.addFirst(c);
                        break;
                    }
                }
            }
        }
    }

    /** The next chunk to send, or null; {@code ahead}: for a busy worker, so null when the next is a single task. */
    private PoolWork.Chunk nextChunkLocked(boolean ahead) {
        for (Iterator<PoolWork.Feed> it = pending.iterator(); it.hasNext(); ) {
            PoolWork.Feed f = it.next();
            if (ahead && f instanceof PoolWork.Chunk single && single.job instanceof PoolWork.Single<?> && !single.job.isDone()) {
                // NOTE: sent ahead, a task waited behind the busy worker's running one even when another
                // worker freed up meanwhile (a short task after a long one waited for the long one), where
                // an ExecutorService runs it on the first free thread. It waits here for a free worker;
                // map chunks still go ahead, so a map's worker always has its next chunk (decision 041).
                return null;
            }
            PoolWork.Chunk c = f.take();
            if (f.exhausted()) {
                it.remove();
            }
            if (c != null && !c.job.isDone()) {
                return c;
            }
        }
        return null;
    }

    /** An imap consumer moved on: its window may allow more chunks. */
    void feedMore() {
        synchronized (lock) {
            dispatchLocked();
        }
    }

    /**
     * An imap's input ended (read to the end, or it threw), or a map's caller queued its last chunk: its
     * feed goes once its chunks have; an input that ended without one left its feed in the pending
     * list, and after shutdown() the idle workers waited for it forever.
     */
    void feedEnded() {
        synchronized (lock) {
            dispatchLocked();
            pending.removeIf(PoolWork.Feed::exhausted);
            retireIdleLocked();
            checkTerminatedLocked();
        }
    }

    /** After shutdown: idle workers with nothing left to do close their data end and exit. */
    private void retireIdleLocked() {
        if (state != State.SHUTDOWN || !pending.isEmpty()) {
            return;
        }
        for (PoolWorker w : slots) {
            if (w != null && w.ready && !w.retiring && w.inFlight.isEmpty()) {
                w.retire();
            }
        }
    }

    private void checkTerminatedLocked() {
        if (state == State.RUNNING || starting > 0 || settling > 0) {
            return;
        }
        for (PoolWorker w : slots) {
            if (w != null) {
                return;
            }
        }
        holds.end();
        terminated.complete(null);
    }

    /** What this pool's tasks carried; an imap's feeder encodes its chunks through it too. */
    PoolHolds holds() {
        return holds;
    }

    // ------------------------------------------------------------------ reader threads

    /**
     * A reply from worker {@code w}, received by whoever holds the right to read its replies. The header
     * is read first and the worker gets its next chunk before the payload is decoded, so a worker never
     * waits for the parent's decoding. Returns what completes the reply's job (decoding it and running
     * the caller's dependent stages), for the receiving thread to run once it has let go of that right,
     * or null.
     */
    Runnable onReply(PoolWorker w, byte[] message) {
        PoolFrames.Reply r = PoolFrames.replyHeader(message);
        switch (r.status()) {
            case PoolFrames.HELLO -> {
                w.booted = true;
                return null;
            }
            case PoolFrames.INIT_FAILED -> {
                Throwable t = failure(decodePayload(message)).toThrowable(RemoteFailure.ANY_CLASS);
                return () -> stop(t, t, INITIALIZER_FAILED);
            }
            case PoolFrames.WAIT_FAILED -> {
                // NOTE: the worker's own report, sent before it exits: its death alone said "exit code 0"
                // (the strategy's exception was taken for the end of the pipe), and its replacements did the same
                Throwable t = failure(decodePayload(message)).toThrowable(RemoteFailure.ANY_CLASS);
                return () -> stop(t, t, IDLE_FAILED);
            }
            case PoolFrames.READY -> {
                w.ready = true;
                synchronized (lock) {
                    retireIdleLocked();
                }
                return null;
            }
            default -> {
                return answered(w, r.id(), r.status(), message);
            }
        }
    }

    private Runnable answered(PoolWorker w, long id, int status, byte[] message) {
        PoolWork.Chunk c;
        synchronized (lock) {
            c = w.answered(id);
            dispatchLocked();
            retireIdleLocked();
        }
        if (c == null || c.job.isDone()) {
            return null; // terminated, shut down or cancelled meanwhile: its future is complete already
        }
        return () -> completed(c, id, status, message);
    }

    private void completed(PoolWork.Chunk c, long id, int status, byte[] message) {
        if (c.job.isDone()) {
            return;
        }
        Object payload = status == PoolFrames.SKIPPED ? null : decodePayload(message);
        if (payload instanceof DecodeFailure d) {
            c.job.failed(c, d.error);
            return;
        }
        try {
            switch (status) {
                case PoolFrames.OK -> c.job.succeeded(c, c.job instanceof PoolWork.Single<?> ? payload : PackedItems.unpack(payload));
                case PoolFrames.FAILED -> c.job.failed(c, thrownByTask(c.job, failure(payload).toThrowable(RemoteFailure.ANY_CLASS)));
                default -> c.job.failed(c, new CancellationException("task id=" + id + " was cancelled before it started"));
            }
        } catch (RuntimeException | Error e) {
            // NOTE: a reply its job cannot take fails that job: thrown on, it would end this worker's reader,
            // which then takes a live worker for dead (killing it and failing its other chunks)
            c.job.failed(c, e);
        }
    }

    private record DecodeFailure(RuntimeException error) {
    }

    /** A task's own exception as its future's outcome ({@link Invocations#taskFailure}); an imap reports it as is. */
    private static Throwable thrownByTask(PoolWork.Job job, Throwable t) {
        return job instanceof PoolWork.FutureJob<?> ? Invocations.taskFailure(t) : t;
    }

    private Object decodePayload(byte[] message) {
        try {
            return PoolFrames.replyPayload(codec, message);
        } catch (RuntimeException | LinkageError e) {
            return new DecodeFailure(new IllegalStateException("the reply of a pool worker cannot be decoded here: " + e, e));
        }
    }

    private static RemoteFailure failure(Object payload) {
        if (payload instanceof RemoteFailure f) {
            return f;
        }
        Throwable t = payload instanceof DecodeFailure d ? d.error : new IllegalStateException("not a failure: " + payload);
        return RemoteFailure.of(t);
    }

    /** Worker {@code w} exited, died or was retired: fail what it held, replace it if work remains. */
    void onWorkerGone(PoolWorker w) {
        int exitCode = w.awaitExitCode();
        List<PoolWork.Chunk> lost;
        boolean replace;
        synchronized (lock) {
            lost = w.takeAll();
            // NOTE: a worker that the JVM's exit terminated (a pool never closed) is not replaced
            replace = !ChildProcess.exiting() && (state == State.RUNNING || (state == State.SHUTDOWN && !pending.isEmpty()));
            if (slots[w.slot] == w) {
                slots[w.slot] = null;
            }
            if (replace) {
                starting++;
            }
            settling++; // until its lost chunks have failed
            checkTerminatedLocked();
        }
        w.closePipe();
        // A worker that could not load its task never ran what it held: that is the cause, not its death.
        Throwable couldNotLoad = w.ready ? null : w.child.failure().filter(ChildStartException.class::isInstance).orElse(null);
        if (couldNotLoad == null && !w.booted && !w.retiring && exitCode > 0) {
            // NOTE: a JVM that exited with an error before its first message never booted (a JVM option
            // it refuses, a heap it cannot reserve): every replacement would do the same, and the pool
            // relaunched JVMs forever while failing each task sent to them with WorkerDiedException.
            // A signal (SIGKILL while booting: the OOM killer) is a death, replaced as usual.
            couldNotLoad = ChildStartException.diedAtStart(w.child, w.pid(), exitCode);
        }
        // died in its initializer, or could not load it (a class from another loader): replacing it would loop
        // NOTE: with an initializer, an exit before READY that the pool did not ask for is the initializer's
        // doing whatever its code: one that called System.exit(0) was replaced by workers that did the same,
        // and so on for ever (the pool stayed RUNNING) while each task sent to them failed (decision 206)
        boolean breaks = (initializer != null || couldNotLoad != null) && !w.ready && !w.retiring
                && (exitCode != 0 || (initializer != null && couldNotLoad == null));
        Throwable breakCause = null;
        if (breaks) {
            if (replace) {
                synchronized (lock) {
                    starting--;
                    // NOTE: two workers failing at once: the other one's stop() may have come first, and
                    // stop() does nothing twice, so this decrement must itself complete termination.
                    checkTerminatedLocked();
                }
            }
            breakCause = couldNotLoad != null ? couldNotLoad : new WorkerDiedException(w.pid(), exitCode, "its initializer");
            // NOTE: stopped before the lost chunks' futures fail, so that whoever they wake sees the pool stopped
            stop(breakCause, breakCause, couldNotLoad == null ? INITIALIZER_FAILED : COULD_NOT_START);
        }
        // NOTE: the chunks it held fail with the pool's cause too: "died while it held task id=7" did not say
        // that the initializer, not the task, ended the worker
        Throwable cause = breaks ? breakCause : couldNotLoad;
        Runnable failLost = () -> settling(() -> {
            for (PoolWork.Chunk c : lost) {
                c.job.failed(c, cause != null ? cause : new WorkerDiedException(w.pid(), exitCode, c.describe()));
            }
        });
        if (breaks || !replace || lost.isEmpty()) {
            failLost.run();
        } else {
            // NOTE: on a thread of their own, as the replacement is started here next: a dependent stage of
            // a lost chunk that submits a retry and waits for it would otherwise wait for that replacement
            try {
                Thread.ofPlatform().daemon().name(name + "-lost-" + w.slot).start(failLost);
            } catch (RuntimeException | Error noThread) { // OutOfMemoryError: unable to create native thread
                failLost.run();
            }
        }
        if (breaks) {
            return;
        }
        if (replace) {
            try {
                install(w.slot, startWorker(w.slot));
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.ERROR, name + ": cannot start a replacement worker", e);
                synchronized (lock) {
                    starting--;
                    checkTerminatedLocked(); // when the pool stopped meanwhile, stop() below does nothing
                }
                stop(e, e);
            }
        }
    }

    /** A job's future was cancelled: tell the workers that hold its chunks. */
    void cancelled(PoolWork.Job job, boolean interrupt) {
        synchronized (lock) {
            for (PoolWorker w : slots) {
                if (w != null) {
                    // NOTE: newest first: a worker learns that its queued chunks are cancelled before the
                    // running one is interrupted, so it cannot move on to one of them in between.
                    List<PoolWork.Chunk> held = new ArrayList<>(w.inFlight.values());
                    for (PoolWork.Chunk c : held.reversed()) {
                        if (c.job == job) {
                            w.cancel(c.id, interrupt);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** {@code workers} if a pool can have that many (1 to {@link #MAX_WORKERS}), else IllegalArgumentException naming it. */
    private static int checkWorkers(int workers) {
        // NOTE: before anything is made: a pool allocates per worker up front, and workers(Integer.MAX_VALUE)
        // threw OutOfMemoryError from build() (decision 220)
        if (workers <= 0 || workers > MAX_WORKERS) {
            throw new IllegalArgumentException("workers=" + workers + (workers <= 0 ? " must be > 0"
                    : " must be <= " + MAX_WORKERS + " (Pool.MAX_WORKERS: no kernel runs more processes)"));
        }
        return workers;
    }

    private static void checkChunkSize(int chunkSize) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunkSize=" + chunkSize + " must be > 0");
        }
    }

    /** Waits for a map; throws its failure (unchecked as is, checked inside a CompletionException). */
    private static <R> R await(CompletableFuture<R> future) {
        return Invocations.await(future, "the pool");
    }

    static RuntimeException unwrap(Throwable t) {
        return Invocations.unwrap(t);
    }

    /** Settings of a pool; {@link #build()} starts its workers. */
    public static final class Builder {
        private int workers = Multiproc.cpuCount();
        private SerializableRunnable initializer;
        private int maxTasksPerChild;
        private List<String> jvmOptions = List.of();
        private IdleStrategy idle = PoolIdle.DEFAULT;
        private Codec codec;

        private Builder() {
        }

        /** How many worker JVMs (default {@link Multiproc#cpuCount()}), at most {@link Pool#MAX_WORKERS}. */
        public Builder workers(int workers) {
            this.workers = checkWorkers(workers);
            return this;
        }

        /** Runs once in every worker (replacements too) before its first task. */
        public Builder initializer(SerializableRunnable initializer) {
            this.initializer = Objects.requireNonNull(initializer, "initializer");
            return this;
        }

        /** Replace a worker after it ran this many tasks (map chunks count one each); 0 (default): never. */
        public Builder maxTasksPerChild(int maxTasks) {
            if (maxTasks < 0) {
                throw new IllegalArgumentException("maxTasksPerChild=" + maxTasks + " must be >= 0 (0: no limit)");
            }
            this.maxTasksPerChild = maxTasks;
            return this;
        }

        /** Options for the workers' {@code java} command; with options, workers start cold (no spares). */
        public Builder jvmOptions(List<String> jvmOptions) {
            this.jvmOptions = ChildProcess.checkedOptions(jvmOptions);
            return this;
        }

        /**
         * How the pool's threads and workers wait for messages (default: spin a few µs, then sleep on a futex):
         * one of {@link IdleStrategy}'s own, or a Serializable one of yours, so that the workers get it too.
         */
        public Builder idle(IdleStrategy idle) {
            Objects.requireNonNull(idle, "idle");
            // NOTE: a pipe's end carries a custom strategy only if it is Serializable, else its worker waits
            // with blocking(): a lambda given here (say one that spins, for latency) reached the pool's own
            // threads only, and nothing said so (decision 207). The built-in ones travel by name.
            boolean builtIn = idle == IdleStrategy.busySpin() || idle == IdleStrategy.yielding()
                    || idle == IdleStrategy.backoff() || idle == IdleStrategy.blocking();
            if (!builtIn && !(idle instanceof Serializable)) {
                throw new IllegalArgumentException("idle strategy " + idle.getClass().getName()
                        + " must be Serializable (or one of IdleStrategy's own): the workers wait with it too");
            }
            this.idle = idle;
            return this;
        }

        /** How tasks, items and results are encoded, in both directions; must be Serializable to reach the workers. */
        public Builder codec(Codec codec) {
            if (!(Objects.requireNonNull(codec, "codec") instanceof Serializable)) {
                throw new IllegalArgumentException("codec " + codec.getClass().getName()
                        + " must be Serializable: the workers need it too");
            }
            this.codec = codec;
            return this;
        }

        /**
         * Returns the pool at once; its workers start in the background and tasks wait for them. A
         * worker that cannot be started breaks the pool: pending tasks fail with that error and new
         * ones are rejected with it as the cause.
         */
        public Pool build() {
            Pool pool = new Pool(this);
            pool.startAll();
            return pool;
        }
    }
}
