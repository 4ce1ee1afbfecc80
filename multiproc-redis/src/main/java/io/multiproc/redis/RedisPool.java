package io.multiproc.redis;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;
import io.multiproc.internal.Invocations;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.process.PoolIterator;
import io.multiproc.process.SerializableCallable;
import io.multiproc.process.SerializableFunction;
import io.multiproc.process.SerializableExecutorService;
import io.multiproc.process.WorkerDiedException;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * A Pool whose workers are JVMs on any host connected to the same Redis or Valkey: the local
 * {@link io.multiproc.process.Pool}'s API ({@code map}, {@code imap}, {@code applyAsync}, an
 * {@link ExecutorService}) across hosts.
 *
 * <pre>{@code
 * // on each worker host:  multiproc worker --redis redis://10.0.0.5:6379 --pool images --workers 4
 * try (RedisPool pool = RedisPool.connect("redis://10.0.0.5:6379", "images")) {
 *     List<Integer> squares = pool.map(x -> x * x, List.of(1, 2, 3));          // [1, 4, 9]
 *     CompletableFuture<String> f = pool.applyAsync(() -> ProcessHandle.current().pid() + "");
 * }
 * }</pre>
 *
 * <p>Tasks, items and results travel through the {@link Codec} as in the local Pool (serializable
 * lambdas; the workers need the same classes on their class path). A chunk is encoded once, queued
 * in Redis and taken by exactly one worker.
 *
 * <h2>Guarantees (decision 110)</h2>
 * <ul>
 *   <li>A task's exception is the {@link ExecutionException}'s cause with its own type when possible,
 *       else {@link io.multiproc.RemoteException}, with the worker's stack trace.</li>
 *   <li>At most once: a worker JVM that dies (SIGKILL, halt, OOM) fails the chunk it held with
 *       {@link WorkerDiedException} (pid and exit code, reported by the worker's supervisor at once); a
 *       whole worker host that dies fails its chunks with {@link WorkerLostException} once its heartbeat
 *       expires (the workers' lease, 5 s by default). Chunks are never re-run. As in the local Pool,
 *       {@code map} fails as a whole with that cause, {@code imap} reports it in place of the chunk.</li>
 *   <li>No live worker: {@code mapAsync(...).get(timeout)} and {@code imap}'s {@code next(timeout)}
 *       return on time; {@code map} waits, but work pending while no worker is alive for longer than
 *       {@link Builder#noWorkerTimeout} (default 60 s) fails with {@link IllegalStateException} saying so.</li>
 *   <li>Redis unreachable: pending work fails with {@link IllegalStateException} naming the address
 *       once Redisson gives up (its timeout and retry attempts: about 6 s with its defaults); a submitting
 *       call waits at most 250 ms for Redis to take chunks under 1 MB (decision 227), so timed waits keep their time;
 *       Redis restarted without its data: pending work fails within a second of the reconnection. The
 *       pool then takes new work again.</li>
 * </ul>
 * {@link #terminate()} fails this caller's pending work and removes its queued chunks (waiting at most a second
 * for Redis to remove them, decision 208: while Redis does not answer they may still run, results dropped); the workers
 * are shared with other callers and keep running (chunks already running finish, their results are dropped).
 * {@code future.cancel} removes a chunk that is still queued; {@code cancel(true)}, {@code shutdownNow()} and
 * {@code terminate()} also interrupt this caller's running chunks in their workers (a pub/sub request).
 * Close the pool (it removes this caller's keys from Redis); an unclosed one does not keep the JVM alive: once
 * the program's own threads have ended, its pending work is cancelled and its client shut down (decision 135).
 *
 * <h2>Implementation overview</h2>
 * {@link RedisPoolStore} holds the keys and the atomic steps. A caller has a random id, a results list
 * and a heartbeat key. {@link #pending} maps chunk ids to their futures; a chunk is put there before its
 * message is queued. The reader thread BLPOPs the results list into {@link #inbox} and completes futures
 * (removing them from {@link #pending} first, so a late or second reply finds nothing). The monitor
 * thread, every {@link #MONITOR_PERIOD}: refreshes the caller's heartbeat (a missing key means Redis lost
 * its data), reaps workers whose heartbeat expired, counts live workers, applies the no-worker bound,
 * and starts a new reader when the current one has been stuck in a completion (a caller's dependent
 * stage that waits for another task of this pool: decision 163) while work is pending. Either thread
 * fails all pending work when Redis fails. {@link #state} is written under {@code this}.
 */
public final class RedisPool implements SerializableExecutorService {
    private static final System.Logger LOG = System.getLogger(RedisPool.class.getName());
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    static final Duration MONITOR_PERIOD = Duration.ofMillis(500);
    private static final Duration CALLER_LEASE = Duration.ofSeconds(30);
    private static final Duration READ_WAIT = Duration.ofSeconds(1);
    /** The workers' heartbeat lease when none is given. */
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(5);

    private enum State { RUNNING, SHUTDOWN, STOPPED }

    private final RedissonClient client;
    private final RedisPoolStore store;
    private final String address;
    private final Codec codec;
    private final int chunkSize;
    private final Duration noWorkerTimeout;
    private final long caller = ThreadLocalRandom.current().nextLong();
    private final byte[] callerPrefix = RedisPoolFrames.callerPrefix(caller);
    private final AtomicLong ids = new AtomicLong(1);
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** The current reader; replaced by the monitor when it is stuck in a completion. */
    private volatile Reader reader;
    /** Readers made so far, for their names; written by the constructor, then by the monitor thread only. */
    private int readers;
    /**
     * Results taken from Redis and not yet handled: a reader stuck in one completion leaves the rest of
     * its batch here for its successor. Added to and polled by reader threads.
     */
    private final ConcurrentLinkedQueue<byte[]> inbox = new ConcurrentLinkedQueue<>();
    private final Thread monitor;
    /** Live workers seen by the last monitor pass (at least 1 for chunk sizes); written by the monitor. */
    private volatile int liveWorkers;
    private State state = State.RUNNING;
    /**
     * Lazy maps whose input is not read to the end (guarded by this): {@link #shutdown()} lets them read
     * on and termination waits for them; {@link #close()} and {@link #terminate()} end them.
     */
    private final Set<RedisPoolIterator<?, ?>> reading = new HashSet<>();
    /**
     * Chunks failed as lost while Redis failed, and maybe still queued there: the monitor unqueues them
     * once Redis answers again, so that no worker runs work its caller was told is lost. Added to by
     * whichever thread saw Redis fail, drained by the monitor.
     */
    private final ConcurrentLinkedQueue<byte[]> lost = new ConcurrentLinkedQueue<>();
    /**
     * The removal of this caller's queued chunks that {@link #terminate()} started (written by the thread
     * that terminated, volatile): {@link #release()} lets it finish before it shuts the client down.
     */
    private volatile CompletableFuture<Long> unqueueing = CompletableFuture.completedFuture(0L);
    /** How long terminate() waits for that removal before it fails the pending work all the same (decision 208). */
    private static final Duration TERMINATE_UNQUEUE_WAIT = Duration.ofSeconds(1);
    /**
     * How long a submitting call waits for Redis to take its chunks before it returns their futures all
     * the same (decision 227): an answering Redis takes a chunk in well under a millisecond, and a refusal
     * still reaches the caller as the call's exception; a dead or hung one costs a call this, not Redisson's
     * timeout and retries (about 6 s).
     */
    static final Duration SEND_WAIT = Duration.ofMillis(250);
    /** A send Redis has not answered within SEND_WAIT (volatile): later sends do not wait until it is answered. */
    private volatile CompletableFuture<?> unanswered;
    /** Set by {@link #close()} (guarded by this): lazy maps may no longer send. */
    private boolean closing;
    /** This pool's part in {@link Clients#atProgramEnd}: no caller is left to wait for its work. */
    private final Runnable endWithProgram = this::terminate;

    /** A chunk waiting for its reply: its message (to unqueue it) and what to complete. */
    private record Pending(byte[] message, CompletableFuture<Object> result, String what) {
    }

    private RedisPool(Builder b) {
        this.client = Redisson.create(RedisCodec.ensureOn(b.config));
        this.store = new RedisPoolStore(client, b.pool);
        this.address = b.address;
        this.codec = b.codec != null ? b.codec : BuiltinCodec.taskCodec();
        this.chunkSize = b.chunkSize;
        this.noWorkerTimeout = b.noWorkerTimeout;
        Reader first = newReader();
        this.monitor = new Thread(this::monitor, "multiproc-redis-pool-monitor");
        monitor.setDaemon(true);
        try {
            store.callerBeat(caller, CALLER_LEASE);
            countWorkers();
        } catch (RuntimeException e) {
            client.shutdown();
            throw e;
        }
        first.thread.start();
        monitor.start();
        // an unclosed pool must not keep the program alive through its client's threads (as Pool)
        Clients.atProgramEnd(endWithProgram);
    }

    /** Connects to the pool called {@code pool} on the server at {@code url} ({@code redis://host:port}). */
    public static RedisPool connect(String url, String pool) {
        return builder().url(url).pool(pool).build();
    }

    /** Connects with Redisson's own configuration (cluster, sentinel, TLS, auth). */
    public static RedisPool connect(Config config, String pool) {
        return builder().config(config).pool(pool).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs {@code workers} worker JVMs for pool {@code pool} on this host until this JVM is stopped:
     * what {@code multiproc worker --redis URL --pool NAME --workers N} does.
     */
    public static void serveWorkers(String url, String pool, int workers) throws InterruptedException {
        serveWorkers(singleServer(url), pool, workers, DEFAULT_LEASE);
    }

    /** Like {@link #serveWorkers(String, String, int)}, with Redisson's own configuration and the workers' heartbeat lease. */
    public static void serveWorkers(Config config, String pool, int workers, Duration lease) throws InterruptedException {
        try (RedisPoolWorkers w = RedisPoolWorkers.start(config, pool, workers, lease, null)) {
            w.join();
        }
    }

    static Config singleServer(String url) {
        Objects.requireNonNull(url, "url");
        Config config = new Config();
        config.useSingleServer().setAddress(url);
        return config;
    }

    static String checkName(String pool) {
        if (pool == null || !NAME.matcher(pool).matches()) {
            throw new IllegalArgumentException("pool=" + pool + " must be 1-64 letters, digits, '.', '_' or '-'");
        }
        return pool;
    }

    /** The pool's name. */
    public String name() {
        return store.pool();
    }

    /** The ids ({@code pid@host#incarnation}) of the workers whose heartbeat is live now. */
    public List<String> workers() {
        List<String> live = new ArrayList<>();
        for (String w : store.workers()) {
            if (store.isAlive(w)) {
                live.add(w);
            }
        }
        return live;
    }

    // ------------------------------------------------------------------ Python's API

    /** Applies {@code f} to every item on the workers; results in the items' order. Chunk size as CPython's. */
    public <T, R> List<R> map(SerializableFunction<T, R> f, List<T> items) {
        return await(mapAsync(f, items));
    }

    /** Applies {@code f} to every item, sending {@code chunkSize} items per chunk. */
    public <T, R> List<R> map(SerializableFunction<T, R> f, List<T> items, int chunkSize) {
        return await(mapAsync(f, items, chunkSize));
    }

    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<T, R> f, List<T> items) {
        return mapAsync(f, items, chunkSizeFor(Objects.requireNonNull(items, "items").size()));
    }

    /**
     * Starts a map and returns at once; the future completes with the results in order, or
     * exceptionally with the first failure (the map's chunks still queued are then removed).
     * Cancelling it removes its queued chunks.
     */
    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<T, R> f, List<T> items, int chunkSize) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(items, "items");
        checkChunkSize(chunkSize);
        checkAccepting();
        int n = items.size();
        if (n == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        byte[] fn = RedisPoolFrames.function(codec, f);
        // NOTE: in longs: n + chunkSize - 1 overflowed for a chunkSize near Integer.MAX_VALUE
        int chunks = (int) ((n + (long) chunkSize - 1) / chunkSize);
        List<byte[]> messages = new ArrayList<>(chunks);
        long firstId = ids.getAndAdd(chunks);
        for (int i = 0; i < chunks; i++) {
            int from = i * chunkSize;
            messages.add(RedisPoolFrames.chunk(caller, firstId + i, RedisPoolFrames.MAP, fn, codec,
                    items.subList(from, (int) Math.min(n, (long) from + chunkSize))));
        }
        // NOTE: a map's parts are unqueued together when it fails (withdraw), not one LREM each: a LREM
        // scans the queue, and a failed map of 100,000 chunks kept Redis busy for minutes
        List<CompletableFuture<Object>> parts = track(firstId, messages, (id, i) -> "map chunk id=" + id
                + " (items " + (long) i * chunkSize + ".." + (Math.min(n, (i + 1L) * chunkSize) - 1) + ")", false, false);
        AtomicInteger handedOver = new AtomicInteger();
        Object[] results = new Object[n];
        MapFuture<List<R>> map = new MapFuture<>(parts);
        AtomicInteger left = new AtomicInteger(chunks);
        for (int i = 0; i < chunks; i++) {
            int from = i * chunkSize;
            parts.get(i).whenComplete((v, e) -> {
                if (e != null) {
                    // a task's own CancellationException stays wrapped (Invocations.taskFailure): the map failed, it was not cancelled
                    map.completeExceptionally(e instanceof CompletionException ce && ce.getCause() != null
                            && !(ce.getCause() instanceof CancellationException) ? ce.getCause() : e);
                    return;
                }
                List<?> values = (List<?>) v;
                synchronized (results) {
                    for (int k = 0; k < values.size(); k++) {
                        results[from + k] = values.get(k);
                    }
                }
                if (left.decrementAndGet() == 0) {
                    synchronized (results) {
                        @SuppressWarnings("unchecked")
                        List<R> all = (List<R>) Arrays.asList(results);
                        map.complete(all);
                    }
                }
            });
        }
        map.whenComplete((v, e) -> {
            if (e != null) {
                parts.forEach(p -> p.cancel(false)); // a failed map's chunks are not work: unqueue them
                withdraw(messages, handedOver.get());
            }
        });
        send(messages, parts, handedOver);
        return map;
    }

    /** A map's (or a submit's) future: cancelling it cancels its chunks. */
    private final class MapFuture<R> extends CompletableFuture<R> {
        private final List<CompletableFuture<Object>> parts;

        MapFuture(List<CompletableFuture<Object>> parts) {
            this.parts = parts;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            List<Long> withdrawn = new ArrayList<>();
            for (CompletableFuture<Object> p : parts) {
                // NOTE: done before means not this call's to interrupt: CompletableFuture.cancel answers true
                // again for one cancelled already (cancel(false), then cancel(true) must not interrupt it)
                if (!p.isDone() && p.cancel(false) && mayInterruptIfRunning && p instanceof ChunkFuture c) {
                    withdrawn.add(c.id);
                }
            }
            if (!withdrawn.isEmpty()) {
                interruptRunning(withdrawn); // one request for all of them: a map's chunks are many
            }
            return cancelled;
        }
    }

    /**
     * A chunk's future. {@code cancel(true)} also asks the worker running the chunk, if one is, to interrupt
     * it (a queued chunk is removed from the queue by {@link #track}'s completion hook): as the local Pool's
     * {@code cancel(true)} and {@code ExecutorService}'s contract. CompletableFuture alone ignores the flag.
     */
    private final class ChunkFuture extends CompletableFuture<Object> {
        private final long id;

        ChunkFuture(long id) {
            this.id = id;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            // NOTE: CompletableFuture.cancel answers true again for one cancelled already: only the call that
            // cancels it may interrupt (cancel(false), then cancel(true), must let the task run on)
            boolean wasDone = isDone();
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (!wasDone && cancelled && mayInterruptIfRunning) {
                interruptRunning(List.of(id));
            }
            return cancelled;
        }
    }

    /** Asks the workers to interrupt this caller's chunks {@code ids} (null: all) that are running; best effort, not waited for. */
    private void interruptRunning(List<Long> ids) {
        try {
            store.interruptRunning(caller, ids);
        } catch (RuntimeException e) {
            // NOTE: Redis away or the client shut down: the chunk's future is cancelled all the same, and a
            // running chunk's result is dropped when it comes
            LOG.log(System.Logger.Level.DEBUG, "Redis pool " + name() + ": cannot ask the workers to interrupt cancelled chunks: " + e);
        }
    }

    /** A lazy ordered map, one item per chunk. */
    public <T, R> PoolIterator<R> imap(SerializableFunction<T, R> f, Iterable<T> items) {
        return imap(f, items, 1);
    }

    /**
     * A lazy ordered map: reads {@code items} only as results are consumed (a bounded window of chunks
     * in flight), so an endless or huge Iterable works in bounded memory.
     */
    public <T, R> PoolIterator<R> imap(SerializableFunction<T, R> f, Iterable<T> items, int chunkSize) {
        return lazyMap(f, items, chunkSize, true);
    }

    public <T, R> PoolIterator<R> imapUnordered(SerializableFunction<T, R> f, Iterable<T> items) {
        return imapUnordered(f, items, 1);
    }

    /** Like {@link #imap}, with results in the order chunks complete. */
    public <T, R> PoolIterator<R> imapUnordered(SerializableFunction<T, R> f, Iterable<T> items, int chunkSize) {
        return lazyMap(f, items, chunkSize, false);
    }

    private <T, R> PoolIterator<R> lazyMap(SerializableFunction<T, R> f, Iterable<T> items, int chunkSize, boolean ordered) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(items, "items");
        checkChunkSize(chunkSize);
        checkAccepting();
        byte[] fn = RedisPoolFrames.function(codec, f);
        int window = 2 * Math.max(1, liveWorkers) + 2;
        RedisPoolIterator<T, R> it = new RedisPoolIterator<>(items.iterator(), chunkSize, window, ordered, slice -> {
            long id = ids.getAndIncrement();
            List<byte[]> message = List.of(RedisPoolFrames.chunk(caller, id, RedisPoolFrames.MAP, fn, codec, slice));
            List<CompletableFuture<Object>> part = track(id, message, (i, k) -> "imap chunk id=" + i, true, true);
            send(message, part, new AtomicInteger());
            return part.getFirst();
        }, this::inputRead);
        synchronized (this) {
            checkAccepting();
            reading.add(it);
        }
        return it;
    }

    /** A lazy map has read its input to the end (or was ended): termination no longer waits for it. */
    private synchronized void inputRead(RedisPoolIterator<?, ?> it) {
        reading.remove(it);
        checkTerminated();
    }

    /** Ends every lazy map's input with {@code why} (lock held); their iterators report it after the results already sent for. */
    private void endReadingLocked(RuntimeException why) {
        for (RedisPoolIterator<?, ?> it : reading) {
            it.end(why);
        }
        reading.clear();
    }

    /** Runs {@code task} on a worker; Python's {@code apply_async}. */
    public <R> CompletableFuture<R> applyAsync(SerializableCallable<R> task) {
        return call(task, task);
    }

    // ------------------------------------------------------------------ ExecutorService

    @Override
    public <T> Future<T> submit(Callable<T> task) {
        return call(task, task);
    }

    @Override
    public Future<?> submit(Runnable task) {
        return call(new RunnableCall(Objects.requireNonNull(task, "task")), task);
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
        CompletableFuture<Object> inner = call(new RunnableCall(Objects.requireNonNull(task, "task")), task);
        // NOTE: not inner.thenApply: cancelling a dependent future would leave the task queued
        MapFuture<T> outer = new MapFuture<>(List.of(inner));
        inner.whenComplete((ignored, failure) -> {
            if (failure != null) {
                outer.completeExceptionally(failure);
            } else {
                outer.complete(result);
            }
        });
        return outer;
    }

    /** Runs {@code command} on a worker; a failure is logged (there is no future to report it to). */
    @Override
    public void execute(Runnable command) {
        call(new RunnableCall(Objects.requireNonNull(command, "command")), command).whenComplete((r, e) -> {
            if (e != null && !(e instanceof CancellationException)) {
                LOG.log(System.Logger.Level.WARNING, name() + ": task " + command.getClass().getName() + " failed", e);
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

    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> call(Callable<?> task, Object original) {
        Objects.requireNonNull(task, "task");
        checkAccepting();
        byte[] fn;
        try {
            fn = RedisPoolFrames.function(codec, task);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("task " + original.getClass().getName()
                    + " cannot be sent to a Redis pool worker: " + e.getCause().getMessage(), e.getCause());
        }
        long id = ids.getAndIncrement();
        List<byte[]> message = List.of(RedisPoolFrames.chunk(caller, id, RedisPoolFrames.CALL, fn, codec, null));
        List<CompletableFuture<Object>> f = track(id, message, (i, k) -> "task id=" + i + " (" + original.getClass().getName() + ")");
        send(message, f, new AtomicInteger());
        return (CompletableFuture<T>) f.getFirst();
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

    /** Python's {@code close()}: no new tasks; pending ones still complete. */
    @Override
    public synchronized void shutdown() {
        if (state == State.RUNNING) {
            state = State.SHUTDOWN;
        }
        checkTerminated();
    }

    /**
     * Shuts down, removes this caller's queued chunks and fails its pending work with
     * CancellationException. Returns an empty list: the work is in Redis, not in this JVM, and chunks
     * already taken by a worker may be running.
     */
    @Override
    public List<Runnable> shutdownNow() {
        terminate();
        return List.of();
    }

    /**
     * Fails this caller's pending work now (CancellationException) and removes its queued chunks, waiting at
     * most a second for Redis to do so (decision 208); the workers go on.
     */
    public void terminate() {
        synchronized (this) {
            if (state == State.STOPPED) {
                return;
            }
            state = State.STOPPED;
            endReadingLocked(new CancellationException("Redis pool " + name() + " was terminated before this imap's input was read to the end"));
        }
        failAll(new CancellationException("Redis pool " + name() + " was terminated before this task finished"));
        // NOTE: after the queued chunks' removal, so that every chunk of this caller still running gets it; the
        // workers are shared and go on, their chunk of this caller interrupted (Python's terminate() kills them)
        interruptRunning(null);
        checkTerminated();
    }

    /**
     * ExecutorService.close: shuts down, waits for pending work, disconnects. As the local Pool's
     * {@code close()}, an imap stops reading its input: its iterator gives the results of the items it
     * had read, then throws CancellationException (waiting for an input nobody reads would never end).
     */
    @Override
    public void close() {
        synchronized (this) {
            closing = true;
            endReadingLocked(new CancellationException("Redis pool " + name() + " was closed before this imap's input was read "
                    + "to the end: read an imap to the end before close(), or call shutdown() and read on"));
        }
        shutdown();
        boolean interrupted = false;
        while (!terminated.isDone()) {
            try {
                terminated.get();
            } catch (InterruptedException e) {
                interrupted = true;
                terminate();
            } catch (ExecutionException cannot) {
                throw new AssertionError(cannot);
            }
        }
        try {
            monitor.join(10_000);
            reader.thread.join(10_000);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
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

    /**
     * Waits until this caller's work is over; Python's {@code join()}, as the local Pool's: call
     * {@link #shutdown()} or {@link #terminate()} first (IllegalStateException otherwise). The workers are
     * shared with other callers and go on; {@link #close()} disconnects.
     */
    public void join() throws InterruptedException {
        checkNotRunning();
        try {
            terminated.get();
        } catch (ExecutionException cannot) {
            throw new AssertionError(cannot);
        }
    }

    /** Waits at most {@code timeout} until this caller's work is over; true if it is. */
    public boolean join(Duration timeout) throws InterruptedException {
        long nanos = io.multiproc.wait.Waiting.nanos(timeout);
        checkNotRunning();
        return awaitTermination(nanos, TimeUnit.NANOSECONDS);
    }

    private synchronized void checkNotRunning() {
        if (state == State.RUNNING) {
            throw new IllegalStateException("Redis pool " + name() + " is running: call shutdown() or terminate() before join()");
        }
    }

    @Override
    public synchronized boolean isShutdown() {
        return state != State.RUNNING;
    }

    @Override
    public boolean isTerminated() {
        return terminated.isDone();
    }

    @Override
    public String toString() {
        return "RedisPool[" + name() + " at " + address + ", " + liveWorkers + " live workers, " + pending.size() + " pending]";
    }

    private synchronized void checkTerminated() {
        if (state != State.RUNNING && pending.isEmpty() && reading.isEmpty()) {
            terminated.complete(null);
        }
    }

    // ------------------------------------------------------------------ chunks

    private synchronized void checkAccepting() {
        checkAccepting(false);
    }

    /** {@code lazyMap}: a lazy map's further chunks, which shutdown() lets through until close(). */
    private synchronized void checkAccepting(boolean lazyMap) {
        if (state != State.RUNNING && !(lazyMap && state == State.SHUTDOWN && !closing)) {
            throw new RejectedExecutionException("Redis pool " + name() + (state == State.STOPPED ? " was terminated" : " was shut down"));
        }
    }

    /** Describes chunk {@code index} of a call, whose id is {@code id}, for WorkerDiedException's message. */
    private interface Describe {
        String what(long id, int index);
    }

    /**
     * Registers chunks with ids {@code firstId}, {@code firstId + 1}... before they are queued; a chunk
     * cancelled or failed here is unqueued (best effort). Rejects them all if the pool does not accept
     * work: under this pool's lock with the state check, so none is added after termination.
     */
    private List<CompletableFuture<Object>> track(long firstId, List<byte[]> messages, Describe describe) {
        return track(firstId, messages, describe, false, true);
    }

    /** {@code unqueueEach}: unqueue a chunk as soon as it is withdrawn (false: its caller unqueues its chunks together). */
    private List<CompletableFuture<Object>> track(long firstId, List<byte[]> messages, Describe describe, boolean lazyMap,
                                                  boolean unqueueEach) {
        List<CompletableFuture<Object>> futures = new ArrayList<>(messages.size());
        synchronized (this) {
            checkAccepting(lazyMap);
            for (int i = 0; i < messages.size(); i++) {
                long id = firstId + i;
                CompletableFuture<Object> f = new ChunkFuture(id);
                pending.put(id, new Pending(messages.get(i), f, describe.what(id, i)));
                futures.add(f);
            }
        }
        for (int i = 0; i < messages.size(); i++) {
            long id = firstId + i;
            byte[] message = messages.get(i);
            futures.get(i).whenComplete((v, e) -> {
                if (pending.remove(id) != null && unqueueEach) { // not completed by its reply: cancelled or failed here
                    unqueue(message);
                }
                checkTerminated();
            });
        }
        return futures;
    }

    private void unqueue(byte[] message) {
        if (state == State.STOPPED) {
            return; // failAll removes all of them at once
        }
        store.unqueue(message); // asynchronous: a caller cancelling many chunks does not wait for each
    }

    /**
     * Queues the chunks of {@code parts} that are still wanted: a map can fail or be cancelled, or the
     * pool be terminated, while its later groups are still being queued. Waits for Redis to take chunks under
     * 1 MB at most {@link #SEND_WAIT} (not at all while an earlier send has not been answered within it), so that a
     * caller's timed get, next or invokeAll keeps its time while Redis is down or hung (decision 227); what
     * Redis then answers reaches the chunks' futures.
     */
    private void send(List<byte[]> messages, List<CompletableFuture<Object>> parts, AtomicInteger handedOver) {
        CompletableFuture<Void> queued;
        try {
            // NOTE: a part completed exceptionally before its group was sent was withdrawn here (it had no
            // reply yet); one completed so just after is rarely a worker's reply (workers take the oldest
            // chunks first), and removing a chunk that ran finds nothing
            queued = store.enqueue(messages, i -> parts.get(i).isCompletedExceptionally(), handedOver);
        } catch (RuntimeException e) {
            throw sendFailed(messages, parts, e);
        }
        if (largest(messages) >= RedisPoolStore.LEAST_BULK_LIMIT) {
            // NOTE: a chunk Redis may refuse for its size: the refusal is thrown at the call, as the README
            // says, though it takes Redisson's retries when Redis cuts the write off
            while (!queued.isDone()) {
                waitQuietly(queued, Duration.ofMinutes(1));
            }
        }
        CompletableFuture<?> slow = unanswered;
        if (!queued.isDone() && (slow == null || slow.isDone()) && !waitQuietly(queued, SEND_WAIT) && !queued.isDone()) {
            unanswered = queued;
        }
        if (!queued.isDone()) {
            // NOTE: off Redisson's threads: deciding whether Redis refused this call may ask Redis (cutOff),
            // and failing the futures runs the callers' dependent stages
            queued.whenCompleteAsync((v, e) -> {
                if (e != null) {
                    sendFailed(messages, parts, RedisPoolStore.cause(e));
                }
            });
            return;
        }
        try {
            queued.join();
        } catch (CompletionException e) {
            throw sendFailed(messages, parts, RedisPoolStore.cause(e));
        }
    }

    /** Fails what a send that Redis refused or could not take leaves pending; the exception for its caller. */
    private RuntimeException sendFailed(List<byte[]> messages, List<CompletableFuture<Object>> parts, RuntimeException e) {
        // NOTE: a write cut short while Redis still answers is Redis closing the connection on a bulk
        // over its limit, not Redis failing: failing all pending work as lost would be wrong
        boolean cutOff = !RedisPoolStore.refused(e) && store.cutOff(e, largest(messages));
        if (cutOff || RedisPoolStore.refused(e)) {
            // Redis is fine and refused this call (a chunk too big): it alone fails; its chunks
            // already queued are removed through their parts
            IllegalArgumentException refused = refused(messages, e, cutOff);
            parts.forEach(p -> p.completeExceptionally(refused));
            return refused;
        }
        failAllRedis(e); // NOTE: out of pending first, so no unqueue goes to the failed Redis per chunk
        return redisFailed(e);
    }

    /**
     * Unqueues a failed map's chunks that were handed to Redis ({@code handedOver}: how many), in one pass
     * over the queue, asynchronously (this may run on the reader thread). One that
     * reaches the queue after this removal is removed by {@link RedisPoolStore#enqueue} itself.
     */
    private void withdraw(List<byte[]> messages, int handedOver) {
        if (handedOver == 0 || state == State.STOPPED) {
            return; // none queued yet; or failAll removes all of them at once
        }
        store.unqueueSome(messages.subList(0, handedOver), false);
    }

    private static int largest(List<byte[]> messages) {
        int largest = 0;
        for (byte[] m : messages) {
            largest = Math.max(largest, m.length);
        }
        return largest;
    }

    private IllegalArgumentException refused(List<byte[]> messages, RuntimeException e, boolean cutOff) {
        int largest = largest(messages);
        String how = cutOff ? " closed the connection while this call's chunks were written, and answers again" : " refused this call's chunks";
        return new IllegalArgumentException("Redis pool " + name() + ": Redis at " + address + how
                + " (the largest is " + largest + " bytes: its task and captured values, and its items; "
                + "Redis takes at most proto-max-bulk-len, 512 MB unless configured): " + e.getMessage(), e);
    }

    private IllegalStateException redisFailed(RuntimeException e) {
        return new IllegalStateException("Redis pool " + name() + ": Redis at " + address + " failed ("
                + e.getMessage() + "); this caller's pending tasks are lost", e);
    }

    /** Fails every pending chunk of this caller with {@code cause} and removes its queued chunks. */
    private void failAll(Throwable cause) {
        failAll(cause, true);
    }

    /** Redis failed: fails every pending chunk, without asking that Redis to unqueue them. */
    private void failAllRedis(RuntimeException e) {
        failAll(redisFailed(e), false);
    }

    /** Tests only: runs between {@link #failAll}'s taking of the pending work and its unqueueing. */
    static volatile Runnable afterFailSnapshot;

    private void failAll(Throwable cause, boolean unqueue) {
        List<Pending> all = new ArrayList<>();
        for (Long id : new ArrayList<>(pending.keySet())) {
            Pending p = pending.remove(id);
            if (p != null) {
                all.add(p);
                if (!unqueue) {
                    lost.add(p.message);
                }
            }
        }
        Runnable hook = afterFailSnapshot;
        if (hook != null) {
            hook.run();
        }
        try {
            if (unqueue && state == State.STOPPED) {
                // NOTE: all of this caller's, even with nothing pending: a chunk withdrawn while its map was
                // still being queued may have been queued after its own removal; nothing new comes now.
                // Waited for at most TERMINATE_UNQUEUE_WAIT (decision 208): while Redis did not answer,
                // terminate() held every future for Redisson's timeout and retries (about 6 s)
                CompletableFuture<Long> removal = store.unqueueAll(callerPrefix);
                unqueueing = removal;
                if (!waitQuietly(removal, TERMINATE_UNQUEUE_WAIT)) {
                    LOG.log(System.Logger.Level.DEBUG, "Redis pool " + name() + ": Redis has not removed the queued chunks within "
                            + TERMINATE_UNQUEUE_WAIT.toMillis() + " ms; failing the pending work now");
                }
            } else if (unqueue && !all.isEmpty()) {
                // NOTE: exactly these: a task submitted meanwhile by another thread is queued and pending,
                // and removed by this caller's prefix it would never run nor fail
                store.unqueueSome(all.stream().map(Pending::message).toList(), true);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot unqueue failed chunks: " + e.getMessage());
        }
        Runnable fail = () -> {
            for (Pending p : all) {
                p.result.completeExceptionally(cause);
            }
            checkTerminated();
        };
        if (Thread.currentThread() == monitor && !all.isEmpty()) {
            // NOTE: completing runs the callers' dependent stages: one that blocks must not stop the
            // monitor (heartbeat, reaping, the no-worker bound, relieving a stuck reader)
            Thread.ofPlatform().daemon().name("multiproc-redis-pool-fail").start(fail);
        } else {
            fail.run();
        }
    }

    // ------------------------------------------------------------------ reader and monitor threads

    /**
     * A reader thread and when it began the completion it runs now (0: none; written by that thread,
     * volatile, read by the monitor).
     */
    private static final class Reader {
        final Thread thread;
        volatile long completingSince;

        Reader(RedisPool pool, String name) {
            this.thread = new Thread(() -> pool.read(this), name);
            this.thread.setDaemon(true);
        }
    }

    /** Makes (does not start) the next reader and makes it the current one. */
    private Reader newReader() {
        int n = readers++;
        Reader r = new Reader(this, "multiproc-redis-pool-reader" + (n == 0 ? "" : "-" + n));
        reader = r;
        return r;
    }

    /** How long a reader may run one completion while work is pending before the monitor starts another. */
    private static final long STUCK_NANOS = 100_000_000L;

    /** From the monitor: a new reader if the current one has been stuck in a completion with work pending. */
    private void relieveStuckReader() {
        long since = reader.completingSince;
        if (since != 0 && System.nanoTime() - since >= STUCK_NANOS && !pending.isEmpty() && !terminated.isDone()) {
            newReader().thread.start();
        }
    }

    private void read(Reader me) {
        while (!terminated.isDone()) {
            byte[] message = inbox.poll();
            if (message != null) {
                me.completingSince = System.nanoTime() | 1; // NOTE: never 0, which means "none"
                try {
                    onReply(message);
                } catch (RuntimeException | Error e) {
                    LOG.log(System.Logger.Level.ERROR, "Redis pool " + name() + ": completing a task failed", e);
                } finally {
                    me.completingSince = 0;
                }
                if (reader != me) {
                    return; // relieved while it ran a caller's stage: its successor reads on
                }
                continue;
            }
            try {
                byte[] first = store.nextResult(caller, READ_WAIT);
                if (first == null) {
                    continue;
                }
                inbox.add(first);
                inbox.addAll(store.moreResults(caller, 256));
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (terminated.isDone()) {
                    return;
                }
                me.completingSince = System.nanoTime() | 1; // NOTE: failing runs the callers' stages too
                try {
                    failAllRedis(e);
                } finally {
                    me.completingSince = 0;
                }
                if (reader != me) {
                    return;
                }
                RedisPoolWorkers.sleepQuietly(MONITOR_PERIOD.toMillis());
            }
        }
    }

    private void onReply(byte[] message) {
        Pending p = pending.remove(RedisPoolFrames.replyId(message));
        if (p == null) {
            return; // cancelled, failed or terminated meanwhile
        }
        RedisPoolFrames.Reply r;
        try {
            r = RedisPoolFrames.decodeReply(codec, message);
        } catch (RuntimeException | LinkageError e) {
            p.result.completeExceptionally(new IllegalStateException("the reply of a Redis pool worker cannot be decoded here: " + e, e));
            return;
        }
        switch (r.status()) {
            case RedisPoolFrames.OK -> p.result.complete(r.payload());
            // NOTE: through taskFailure, as the local Pool: a CancellationException the task threw, set as is,
            // made its future look cancelled (isCancelled() true, get() threw it instead of ExecutionException)
            case RedisPoolFrames.FAILED -> p.result.completeExceptionally(r.payload() instanceof RemoteFailure f
                    ? Invocations.taskFailure(f.toThrowable(RemoteFailure.ANY_CLASS))
                    : new IllegalStateException("not a failure: " + r.payload()));
            default -> p.result.completeExceptionally(died((List<?>) r.payload(), p.what));
        }
    }

    private static WorkerDiedException died(List<?> payload, String what) {
        String worker = (String) payload.get(0);
        Integer exitCode = (Integer) payload.get(1);
        long pid = RedisPoolWorker.pidOf(worker);
        return exitCode != null ? new WorkerDiedException(pid, exitCode, what + " on " + worker)
                : new WorkerLostException(worker, pid, what);
    }

    private void monitor() {
        long noWorkerSince = 0;
        while (!terminated.isDone()) {
            try {
                Thread.sleep(MONITOR_PERIOD.toMillis());
            } catch (InterruptedException e) {
                break;
            }
            try {
                if (!store.callerBeat(caller, CALLER_LEASE)) {
                    failAll(new IllegalStateException("Redis pool " + name() + ": Redis at " + address
                            + " lost this caller's queued chunks and results (restarted without persistence?)"));
                }
                unqueueLost();
                relieveStuckReader();
                int live = countWorkers();
                if (live > 0 || pending.isEmpty()) {
                    noWorkerSince = 0;
                } else if (noWorkerSince == 0) {
                    noWorkerSince = System.nanoTime();
                } else if (System.nanoTime() - noWorkerSince > io.multiproc.wait.Waiting.nanos(noWorkerTimeout)) {
                    noWorkerSince = 0;
                    failAll(new IllegalStateException("Redis pool " + name() + ": no live worker for "
                            + noWorkerTimeout.toMillis() + " ms; start some with: multiproc worker --redis URL --pool " + name()));
                }
            } catch (RuntimeException e) {
                failAllRedis(e);
            }
        }
        release();
    }

    /** Redis answers again: removes the chunks failed as lost meanwhile that it still has queued. */
    private void unqueueLost() {
        List<byte[]> some = new ArrayList<>();
        for (byte[] m = lost.poll(); m != null; m = lost.poll()) {
            some.add(m); // NOTE: all of them: one pass over the queue removes any number
        }
        if (!some.isEmpty()) {
            try {
                store.unqueueSome(some, true);
            } catch (RuntimeException e) {
                lost.addAll(some); // Redis failed again: next time
                throw e;
            }
        }
    }

    /** Reaps workers whose heartbeat expired (answering their chunks with DIED) and returns how many are live. */
    private int countWorkers() {
        int live = 0;
        for (String w : store.workers()) {
            if (store.isAlive(w)) {
                live++;
                continue;
            }
            store.reap(w, false, chunk -> RedisPoolFrames.died(codec, chunk, w, null));
        }
        liveWorkers = live;
        return live;
    }

    private void release() {
        Clients.forgetAtProgramEnd(endWithProgram);
        // NOTE: a terminate()'s removal of the queued chunks still under way (Redis slow or away) ends first:
        // shut down under it, the client dropped it and the chunks stayed queued to run for nobody
        waitQuietly(unqueueing, Duration.ofSeconds(10));
        try {
            store.forgetCaller(caller);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove the caller's keys: " + e.getMessage());
        }
        client.shutdown();
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Waits at most {@code timeout} for {@code f} whatever this thread's interrupt status, which stays as
     * it was; true if it completed normally.
     */
    private static boolean waitQuietly(CompletableFuture<?> f, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    return true;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException | CancellationException | TimeoutException e) {
                    if (e instanceof ExecutionException ee) {
                        LOG.log(System.Logger.Level.DEBUG, "Redis pool: a command failed: " + ee.getCause());
                    }
                    return false;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private int chunkSizeFor(int n) {
        if (chunkSize > 0) {
            return chunkSize;
        }
        int workers = Math.max(1, liveWorkers);
        return Math.max(1, (int) ((n + 4L * workers - 1) / (4L * workers)));
    }

    private static void checkChunkSize(int chunkSize) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunkSize=" + chunkSize + " must be > 0");
        }
    }

    /** Waits for a map; throws its failure (unchecked as is, checked inside a CompletionException). */
    private static <R> R await(CompletableFuture<R> future) {
        return Invocations.await(future, "the Redis pool");
    }

    static RuntimeException unwrap(Throwable t) {
        return Invocations.unwrap(t);
    }

    /** Settings of a Redis pool connection; {@link #build()} connects. */
    public static final class Builder {
        private Config config;
        private String address;
        private String pool;
        private Codec codec;
        private int chunkSize;
        private Duration noWorkerTimeout = Duration.ofSeconds(60);

        private Builder() {
        }

        /** The server at {@code url} ({@code redis://host:port} or {@code rediss://...}). */
        public Builder url(String url) {
            this.config = singleServer(url);
            this.address = url;
            return this;
        }

        /** Redisson's own configuration (cluster, sentinel, TLS, auth). */
        public Builder config(Config config) {
            this.config = Objects.requireNonNull(config, "config");
            // NOTE: useSingleServer() on another kind of config would turn it into a single-server one
            this.address = config.isSingleConfig() ? config.useSingleServer().getAddress()
                    : config.isClusterConfig() ? "a Redis Cluster" : config.isSentinelConfig() ? "Redis Sentinel" : "Redis";
            return this;
        }

        /** The pool's name: callers and workers with the same name share its queue. */
        public Builder pool(String pool) {
            this.pool = checkName(pool);
            return this;
        }

        /** How tasks, items and results are encoded; the workers must be started with the same codec. */
        public Builder codec(Codec codec) {
            if (!(Objects.requireNonNull(codec, "codec") instanceof Serializable)) {
                throw new IllegalArgumentException("codec " + codec.getClass().getName()
                        + " must be Serializable: the workers need it too");
            }
            this.codec = codec;
            return this;
        }

        /** The chunk size of {@code map(f, items)}; default (0): CPython's, ceil(n / (4 * live workers)). */
        public Builder chunkSize(int chunkSize) {
            checkChunkSize(chunkSize);
            this.chunkSize = chunkSize;
            return this;
        }

        /** Pending work fails when no worker has been alive for this long (default 60 s). */
        public Builder noWorkerTimeout(Duration timeout) {
            java.util.Objects.requireNonNull(timeout, "noWorkerTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("noWorkerTimeout=" + timeout + " must be > 0");
            }
            this.noWorkerTimeout = timeout;
            return this;
        }

        /** Connects; IllegalStateException naming the address if Redis cannot be reached. */
        public RedisPool build() {
            if (config == null) {
                throw new IllegalStateException("no Redis given: call url(...) or config(...)");
            }
            if (pool == null) {
                throw new IllegalStateException("no pool name given: call pool(...)");
            }
            try {
                return new RedisPool(this);
            } catch (org.redisson.client.RedisException e) {
                throw new IllegalStateException("cannot connect to Redis at " + address + ": " + e.getMessage(), e);
            }
        }
    }
}
