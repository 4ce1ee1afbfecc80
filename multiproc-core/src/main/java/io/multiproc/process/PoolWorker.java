package io.multiproc.process;

import io.multiproc.codec.Codec;
import io.multiproc.queue.Connection;
import io.multiproc.queue.Pipe;
import io.multiproc.wait.IdleStrategy;

import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The parent's side of one {@link Pool} worker: its child JVM, its two pipes, what it holds, and the
 * thread that reads its replies.
 *
 * <h2>Implementation overview</h2>
 * One duplex pipe per worker: tasks out, replies back; this side keeps the left end, the worker takes
 * the right one. Cancellations go on a second, one-way control pipe, so that the worker's runner is the
 * only reader of the data pipe. Sends happen under the pool's lock and never wait ({@code sendBytes(.., ZERO)}): a full
 * ring means the chunk goes back to the pending deque, so no thread ever waits for a worker while
 * holding the lock, and the reader thread, which only receives, always drains replies.
 * <p>{@link #inFlight} and {@link #sent} are written under the pool's lock only. The reader thread
 * receives until end of stream: the worker closed its end (normal exit) or its process died (the
 * pipe's liveness check, within ~25 ms), or this side closed its end (retirement). Every reply sent
 * before a death is received before the end of stream, so a chunk completed just before a SIGKILL is
 * not failed. The process exit callback sets {@link #exited}; the reader receives with a short
 * timeout and, when one expires with nothing left in the pipe and {@link #exited} set, ends (a dead
 * process sends nothing more, so every reply it sent has been received by then). This also covers a
 * worker that died before it took its end over, which never causes end of stream.
 * <p><b>Who reads the replies.</b> One thread at a time holds the right to read ({@link #right}: FREE,
 * READER, CALLER, ENDED; CAS), from a receive through the bookkeeping of that reply (the chunk leaves
 * {@link #inFlight}), so the end of stream is handled only after every reply before it. The reply's
 * completion (decoding, completing the future, which runs the caller's dependent stages) comes after
 * the right is released: a stage may wait for another task of this worker, whose reply someone else
 * must then read. A reader thread stuck in a completion while the worker holds chunks is relieved
 * ({@link #relieveIfStuck}, from the pool's watch): a new reader thread reads on, and the old one ends
 * when its completion returns (decision 163).
 * The reader thread waits for a message without the right ({@code poll}), then takes it to receive
 * and handle it. A caller blocked in {@code get()} of a single task that this worker holds takes the
 * right while it spins ({@link #attend}): it receives and handles the worker's replies itself (its
 * own, and any before it), so a tiny round trip hands off between two spinning threads (caller and
 * the worker's runner) instead of three (decision 112). Meanwhile the reader thread is parked off the
 * pipe: it parks while a caller holds the right, and while the worker holds nothing, and is unparked
 * by a send, by a caller leaving with chunks still held, or by the process's exit.
 * <p>So that back-to-back calls of one thread do not wake the reader each time: while callers have
 * been reading recently, the reader parks for at most {@link #CALLER_PARK_NANOS}, and a single task's
 * send does not unpark it (its caller is expected to read the reply; if it does not call
 * {@code get()}, the reader comes back within that bound). Otherwise the reader parks up to a second
 * and every send that finds it parked unparks it, so an idle pool costs nothing: no wake-ups every
 * 20 ms in the pipe's wait to check its peer (a /proc read each time).
 */
final class PoolWorker {
    /**
     * How long the reader's receive waits before it looks at {@link #exited}: the process exit callback
     * is how a death is noticed promptly (the pipe's own check of its peer may sleep up to
     * {@link PoolIdle#maxSleepNanos()} between looks).
     */
    private static final Duration POLL = Duration.ofMillis(10);
    /** Longest park of the reader thread while callers read replies (a single task's send does not unpark it then). */
    private static final long CALLER_PARK_NANOS = 1_000_000L;
    /** How long after a caller last read replies the reader still parks for {@link #CALLER_PARK_NANOS} only. */
    private static final long CALLERS_RECENT_NANOS = 20_000_000L;
    /** Longest park of an idle reader (every send unparks it). */
    private static final long IDLE_PARK_NANOS = 1_000_000_000L;
    /** Values of {@link #right}: who may receive and handle replies now. */
    private static final int FREE = 0;
    private static final int READER = 1;
    private static final int CALLER = 2;
    /** The reader thread has ended (end of stream, exit, retirement): nobody reads any more. */
    private static final int ENDED = 3;
    /** The control pipe's ring: a cancellation is a 16-byte header and an empty frame. */
    private static final long CONTROL_BYTES = 16_384;

    final int slot;
    final ChildProcess child;
    private final Pool pool;
    private final Pipe data;
    private final Connection out;
    /** Cancellations to the worker (this side sends on its right end), apart from tasks so its runner alone reads the data pipe. */
    private final Pipe control;
    private final Codec codec;
    /**
     * Who may receive on {@link #out} and handle the reply: FREE, READER (the reader thread), CALLER
     * (a caller in {@link #attend}), ENDED. Taken by CAS from FREE, released by its holder with a
     * volatile write; ENDED is set by the reader thread and never left.
     */
    private final AtomicInteger right = new AtomicInteger(FREE);
    /** The current reader thread; replaced when it is stuck in a completion ({@link #relieveIfStuck}). */
    private volatile Reader reader;
    /**
     * Reader threads made for this worker, for their names. Written by the thread that starts the worker,
     * then only by the pool's watch thread (which finds the worker in the pool's slots, under its lock).
     */
    private int readers;
    /** The reader thread is parked (off the pipe). Written by the reader thread, read by senders and callers. */
    private volatile boolean parked;
    /** The reader's park is the short one of {@link #CALLER_PARK_NANOS}. Written by the reader thread. */
    private volatile boolean shortPark;
    /** When a caller last took the right ({@link System#nanoTime()}). Written by callers. */
    private volatile long callerRead = System.nanoTime() - CALLERS_RECENT_NANOS;
    /** {@code inFlight.size()}, for the reader: written under the pool's lock, read without it. */
    private volatile int held;
    /** Chunks sent and not yet answered, in send order. Pool lock. */
    final LinkedHashMap<Long, PoolWork.Chunk> inFlight = new LinkedHashMap<>();
    /** Chunks sent in this worker's life (for maxTasksPerChild). Pool lock. */
    int sent;
    /** Closing down: takes no more chunks. Pool lock. */
    boolean retiring;
    /** Its JVM booted and ran {@link PoolWorkerMain} (HELLO came). Written by the thread that read the reply. */
    volatile boolean booted;
    /** Its initializer finished (READY came). Written by the reader thread. */
    volatile boolean ready;
    /** The process exited (set by the JDK's process reaper thread). */
    private volatile boolean exited;

    private PoolWorker(Pool pool, int slot, Pipe data, Pipe control, ChildProcess child, Codec codec) {
        this.pool = pool;
        this.slot = slot;
        this.data = data;
        this.out = data.left();
        this.control = control;
        this.child = child;
        this.codec = codec;
    }

    /** Starts a worker JVM (a spare when one is ready and no JVM options are set) and its reader thread. */
    static PoolWorker start(Pool pool, int slot, String name, List<String> jvmOptions, IdleStrategy idle,
                            SerializableRunnable initializer, int maxTasks, Codec userCodec, Codec codec) {
        Pipe data = Pipe.open(true, idle);
        Pipe control;
        try {
            control = Pipe.open(false, CONTROL_BYTES, idle, Codec.defaultCodec());
        } catch (RuntimeException | Error e) {
            data.close();
            throw e;
        }
        try {
            // NOTE: a one-way pipe's right end sends: this side keeps it, the worker receives on the left
            PoolWorkerMain main = new PoolWorkerMain(data.right(), control.left(), initializer, maxTasks, userCodec);
            // NOTE: not waiting for the child to load its task: a pool starts its workers all at once (a worker
            // that cannot load it breaks the pool, Pool.onWorkerGone).
            ChildProcess child = ChildProcess.builder().name(name).daemon(true).jvmOptions(jvmOptions).target(main).build()
                    .start(false);
            PoolWorker w = new PoolWorker(pool, slot, data, control, child, codec);
            Reader reader = w.newReader(); // NOTE: before the exit callback and the first send can unpark it
            child.process().onExit().thenRun(w::onExit);
            reader.thread.start();
            return w;
        } catch (RuntimeException | Error e) {
            data.close();
            control.close();
            throw e;
        }
    }

    /** Set by the one reader thread that hands this worker's end to {@link Pool#onWorkerGone}. */
    private final java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * One reader thread and when it began the completion it runs now (0: none). {@code completingSince}
     * is written by that thread only (volatile; cleared under the Reader's monitor), read by the pool's watch.
     */
    private static final class Reader {
        final Thread thread;
        volatile long completingSince;

        Reader(PoolWorker w, String name) {
            this.thread = new Thread(() -> w.readLoop(this), name);
            this.thread.setDaemon(true);
        }
    }

    /** Makes (does not start) the next reader thread and makes it the current one. */
    private Reader newReader() {
        int n = readers++;
        Reader r = new Reader(this, "mpool-reader-" + slot + (n == 0 ? "" : "-" + n));
        reader = r;
        return r;
    }

    /**
     * From the pool's watch: if the reader thread has been running one completion (a dependent stage of
     * the caller's) for {@code stuckNanos} or longer while this worker holds chunks, or has exited or is
     * being retired, starts a new reader thread, so the replies of those chunks are read (the stage may
     * be waiting for one of them) and the worker's end is handled (a pool's shutdown waits for it).
     * The old thread ends when its completion returns.
     *
     * @return true if a new reader was started
     */
    /** True while this worker's current reader runs a completion (the watch keeps ticking then). */
    boolean completing() {
        return reader.completingSince != 0;
    }

    boolean relieveIfStuck(long now, long stuckNanos) {
        Reader r = reader;
        Reader next;
        // NOTE: under r's monitor, as r's end of a completion (complete): r either sees its successor and
        // ends, or ended its completion before this look and goes on alone. Without it, a completion that
        // ended between the look and newReader() left two readers of one worker, and both handled its end.
        synchronized (r) {
            long since = r.completingSince;
            if (since == 0 || now - since < stuckNanos || right.get() == ENDED || (held == 0 && !exited && !out.closed())) {
                return false;
            }
            next = newReader();
        }
        next.thread.start();
        return true;
    }

    private void onExit() {
        exited = true;
        LockSupport.unpark(reader.thread);
    }

    /** True if this worker may be sent one more chunk while it holds fewer than {@code limit}. Pool lock. */
    boolean canTake(int limit, int maxTasks) {
        return !retiring && !exited && inFlight.size() < limit && (maxTasks == 0 || sent < maxTasks);
    }

    /** {@link #trySend}: sent. */
    static final int SENT = 0;
    /** {@link #trySend}: not sent (no room now, or the worker is gone); the chunk goes back. */
    static final int NOT_SENT = 1;
    /** {@link #trySend}: the chunk itself could not be sent and its job is being failed; it must not go back. */
    static final int CHUNK_FAILED = 2;

    /** Sends {@code c} if the ring has room now; never waits. Pool lock. */
    int trySend(PoolWork.Chunk c) {
        try {
            if (!out.sendBytes(c.message, Duration.ZERO)) {
                return NOT_SENT;
            }
        } catch (java.io.InterruptedIOException e) {
            // NOTE: the dispatching thread's interrupt (a caller's, or the imap feeder's that close()
            // interrupts), not the worker's end: taking it for a gone worker retired a live one for good,
            // and its chunks and the pool's close waited for ever. The pipe keeps the interrupt set.
            return NOT_SENT;
        } catch (IOException | IllegalStateException brokenOrClosed) {
            retiring = true; // the worker is gone; its reader thread is about to notice
            return NOT_SENT;
        } catch (RuntimeException e) {
            // NOTE: this chunk, not the worker (a large chunk's spill segment could not be made: /dev/shm
            // full). It is in no list now, so its job is failed here, or its caller would wait forever;
            // off the pool's lock, since completing a future runs the caller's dependent stages.
            java.util.concurrent.ForkJoinPool.commonPool().execute(() -> c.job.failed(c, e));
            return CHUNK_FAILED;
        }
        inFlight.put(c.id, c);
        sent++;
        held++;
        c.at = this;
        // NOTE: held is raised (volatile) before parked is read; the reader sets parked before it re-reads
        // held, so either it sees the chunk or this unparks it. A single task's caller reads the reply
        // itself while callers do (the reader's park is short then): no wake-up for it.
        if (parked && !(shortPark && c.job instanceof PoolWork.Single<?>)) {
            LockSupport.unpark(reader.thread);
        }
        return SENT;
    }

    /** Removes an answered chunk. Pool lock. */
    PoolWork.Chunk answered(long id) {
        PoolWork.Chunk c = inFlight.remove(id);
        held = inFlight.size();
        return c;
    }

    /** Removes everything held (the worker is gone or the pool stopped). Pool lock. */
    List<PoolWork.Chunk> takeAll() {
        List<PoolWork.Chunk> all = new java.util.ArrayList<>(inFlight.values());
        inFlight.clear();
        held = 0;
        return all;
    }

    /** Asks the worker to skip chunk {@code id} if it has not started, and to interrupt it if it has and {@code interrupt}. */
    void cancel(long id, boolean interrupt) {
        try {
            control.right().sendBytes(PoolFrames.cancel(id, interrupt, codec), Duration.ZERO);
        } catch (IOException | IllegalStateException gone) {
            // the worker is gone or leaving: its chunks end anyway
        }
    }

    /** Closes this side's data end: the worker sees end of stream and exits once idle. Pool lock. */
    void retire() {
        retiring = true;
        out.close();
        LockSupport.unpark(reader.thread);
    }

    void kill() {
        child.kill();
    }

    long pid() {
        return child.pid();
    }

    /** The exit code once the process has gone, waiting a little for the JDK to reap it. */
    int awaitExitCode() {
        try {
            if (!child.join(Duration.ofSeconds(5))) {
                child.kill();
                child.join(Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        OptionalInt code = child.exitCode();
        return code.orElse(Integer.MIN_VALUE);
    }

    /** Releases the pipes (the worker's ends are its own by now, or the worker is dead). */
    void closePipe() {
        // NOTE: a close that fails (the registry could not be written) must not stop the caller, the
        // dead worker's bookkeeping: its chunks must still fail and its slot be refilled
        for (Pipe p : new Pipe[] {data, control}) {
            try {
                p.close();
            } catch (RuntimeException e) {
                Pool.LOG.log(System.Logger.Level.ERROR, "pool: closing a pipe of worker " + child + " failed", e);
            }
        }
    }

    /**
     * The reader thread: handles replies while no caller does, then the end: every reply before the
     * end of stream (or before the process's exit) is handled first, then {@link Pool#onWorkerGone}.
     * A reader relieved while it ran a completion ({@link #relieveIfStuck}) just ends: its successor
     * reads on and handles the end.
     */
    private void readLoop(Reader me) {
        List<Runnable> drained = List.of();
        try {
            while (true) {
                if (stayOffPipe()) {
                    park();
                    continue;
                }
                // NOTE: waits without the right, so a caller can take it meanwhile; poll is also true at end of stream
                if (!out.poll(POLL)) {
                    if (exited && takeForGood()) {
                        drained = drain();
                        break;
                    }
                    continue;
                }
                if (!right.compareAndSet(FREE, READER)) {
                    continue; // a caller reads this reply
                }
                byte[] message;
                try {
                    message = out.recvBytes(POLL);
                } catch (TimeoutException deadPeerNotSeenYet) {
                    right.set(FREE);
                    continue;
                } catch (IOException | RuntimeException | Error e) {
                    right.set(ENDED); // NOTE: held, so no caller is between a receive and its handling
                    throw e;
                }
                Runnable completion;
                try {
                    completion = pool.onReply(this, message);
                } finally {
                    right.set(FREE);
                }
                if (completion != null && !complete(me, completion)) {
                    return;
                }
            }
        } catch (EOFException | IllegalStateException endOrRetired) {
            // the worker exited or died, or this side closed its end
        } catch (IOException | RuntimeException | Error e) {
            Pool.LOG.log(System.Logger.Level.ERROR, "pool reader of worker " + child + " failed", e);
        }
        takeForGood();
        if (!gone.compareAndSet(false, true)) {
            // NOTE: the worker's end is handled once: a second handling installed a second replacement
            drained.forEach(this::completeQuietly);
            return;
        }
        pool.onWorkerGone(this);
        // NOTE: after the chunks the worker still held have failed and its replacement is in: a stage
        // of one of these may wait for one of those, or for a task that needs the replacement
        drained.forEach(this::completeQuietly);
    }

    /**
     * Runs a reply's completion on reader {@code me}.
     *
     * @return false if {@code me} was relieved meanwhile and must end
     */
    private boolean complete(Reader me, Runnable completion) {
        me.completingSince = System.nanoTime() | 1; // NOTE: never 0, which means "none"
        pool.armWatch(); // NOTE: after the store above (see Pool#relieveStuckReaders)
        boolean stillCurrent;
        try {
            completeQuietly(completion);
        } finally {
            synchronized (me) { // see relieveIfStuck: one monitor enter for both
                me.completingSince = 0;
                stillCurrent = reader == me;
            }
        }
        return stillCurrent;
    }

    private void completeQuietly(Runnable completion) {
        try {
            completion.run();
        } catch (RuntimeException | Error e) {
            Pool.LOG.log(System.Logger.Level.ERROR, "pool: completing a task of worker " + child + " failed", e);
        }
    }

    /** True while a caller reads the replies, or (once READY came) while the worker holds nothing. */
    private boolean stayOffPipe() {
        if (exited || out.closed()) {
            return false;
        }
        return right.get() == CALLER || (ready && held == 0);
    }

    private void park() {
        boolean callers = right.get() == CALLER || System.nanoTime() - callerRead < CALLERS_RECENT_NANOS;
        shortPark = callers;
        parked = true;
        // NOTE: parked is set before the state is read again: a send, a caller leaving or the exit after
        // this read sees parked and unparks (a permit that makes this park return at once).
        if (stayOffPipe()) {
            LockSupport.parkNanos(this, callers ? CALLER_PARK_NANOS : IDLE_PARK_NANOS);
        }
        parked = false;
    }

    /** Takes the right for good (waiting for a caller to leave); false if this thread had already ended it. */
    private boolean takeForGood() {
        while (true) {
            int r = right.get();
            if (r == ENDED) {
                return false;
            }
            if (r != CALLER && right.compareAndSet(r, ENDED)) {
                return true;
            }
            LockSupport.parkNanos(10_000L); // a caller leaves within its spin (~100 µs)
        }
    }

    /**
     * After the exit: takes what the dead process sent before it died (it sends nothing more) off the
     * worker's books, and returns the completions, to run after {@link Pool#onWorkerGone}.
     */
    private List<Runnable> drain() throws IOException {
        List<Runnable> completions = new java.util.ArrayList<>();
        while (true) {
            byte[] message;
            try {
                message = out.recvBytes(Duration.ZERO);
            } catch (TimeoutException | EOFException nothingLeft) {
                return completions;
            }
            Runnable c = pool.onReply(this, message);
            if (c != null) {
                completions.add(c);
            }
        }
    }

    /**
     * Called by a caller spinning in {@code get()} for {@code future}, whose single chunk this worker
     * holds: if no other thread reads this worker's replies now, receives and handles them here until
     * the future is done or {@code deadline} passes.
     *
     * @return false if another thread holds the right (the caller goes on spinning on its future)
     */
    boolean attend(Future<?> future, long deadline) {
        if (!right.compareAndSet(FREE, CALLER)) {
            return false;
        }
        callerRead = System.nanoTime();
        Runnable completion = null;
        try {
            while (completion == null && !future.isDone()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                byte[] message;
                try {
                    message = out.recvBytes(Duration.ofNanos(left));
                } catch (TimeoutException late) {
                    break;
                } catch (IOException | IllegalStateException endInterruptedOrRetired) {
                    break; // the reader thread handles the end; an interrupt stays set for get() to throw
                }
                try {
                    completion = pool.onReply(this, message);
                } catch (RuntimeException | Error e) {
                    Pool.LOG.log(System.Logger.Level.ERROR, "pool: handling a reply of worker " + child + " failed", e);
                }
            }
        } finally {
            right.set(FREE);
            // NOTE: the right is released (volatile) before parked is read: a reader that re-reads the
            // right after setting parked sees FREE, or this sees parked and unparks it. A completion
            // about to run here is usually this caller's own future's.
            if (parked && (held > 0 || (completion == null && !future.isDone()))) {
                LockSupport.unpark(reader.thread);
            }
        }
        // NOTE: run without the right, as on the reader thread: it may be another caller's stage that waits
        // for a later reply of this worker
        if (completion != null) {
            completeQuietly(completion);
        }
        return true;
    }

    @Override
    public String toString() {
        return "PoolWorker[slot=" + slot + ", " + child + "]";
    }
}
