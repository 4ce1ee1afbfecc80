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
import java.util.concurrent.TimeoutException;

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
 * <p>Idle costs nothing: when the worker holds nothing ({@link #held} is 0) for {@link #LINGER}, the
 * reader parks on {@link #signal} until a chunk is sent or the process exits, instead of waking every
 * 20 ms in the pipe's wait to check its peer (a /proc read each time).
 */
final class PoolWorker {
    /**
     * How long the reader's receive waits before it looks at {@link #exited}: the process exit callback
     * is how a death is noticed promptly (the pipe's own check of its peer may sleep up to
     * {@link PoolIdle#maxSleepNanos()} between looks).
     */
    private static final Duration POLL = Duration.ofMillis(10);
    /** How long a reader whose worker holds nothing keeps waiting in the pipe before it parks. */
    private static final Duration LINGER = Duration.ofMillis(5);
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
    /** The reader parks on it while the worker holds nothing. */
    private final Object signal = new Object();
    /** {@code inFlight.size()}, for the reader: written under the pool's lock, read without it. */
    private volatile int held;
    /** Chunks sent and not yet answered, in send order. Pool lock. */
    final LinkedHashMap<Long, PoolWork.Chunk> inFlight = new LinkedHashMap<>();
    /** Chunks sent in this worker's life (for maxTasksPerChild). Pool lock. */
    int sent;
    /** Closing down: takes no more chunks. Pool lock. */
    boolean retiring;
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
            ChildProcess child = ChildProcess.builder().name(name).daemon(true).jvmOptions(jvmOptions).target(main).start();
            PoolWorker w = new PoolWorker(pool, slot, data, control, child, codec);
            child.process().onExit().thenRun(w::onExit);
            Thread reader = new Thread(w::readLoop, "mpool-reader-" + slot);
            reader.setDaemon(true);
            reader.start();
            return w;
        } catch (RuntimeException | Error e) {
            data.close();
            control.close();
            throw e;
        }
    }

    private void onExit() {
        exited = true;
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** True if this worker may be sent one more chunk while it holds fewer than {@code limit}. Pool lock. */
    boolean canTake(int limit, int maxTasks) {
        return !retiring && !exited && inFlight.size() < limit && (maxTasks == 0 || sent < maxTasks);
    }

    /** Sends {@code c} if the ring has room now; never waits. Pool lock. */
    boolean trySend(PoolWork.Chunk c) {
        try {
            if (!out.sendBytes(c.message, Duration.ZERO)) {
                return false;
            }
        } catch (IOException | IllegalStateException brokenOrClosed) {
            retiring = true; // the worker is gone; its reader thread is about to notice
            return false;
        }
        inFlight.put(c.id, c);
        sent++;
        if (held++ == 0) {
            synchronized (signal) {
                signal.notifyAll(); // NOTE: after held was raised: a reader about to park re-checks it under the monitor
            }
        }
        return true;
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
        synchronized (signal) {
            signal.notifyAll();
        }
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
        data.close();
        control.close();
    }

    private void readLoop() {
        try {
            while (true) {
                byte[] message;
                Duration wait = ready && held == 0 ? LINGER : POLL;
                try {
                    message = out.recvBytes(wait);
                } catch (TimeoutException quiet) {
                    if (exited) {
                        break;
                    }
                    if (wait == LINGER) {
                        parkWhileIdle();
                    }
                    continue;
                }
                pool.onReply(this, message);
            }
        } catch (EOFException | IllegalStateException endOrRetired) {
            // the worker exited or died, or this side closed its end
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            Pool.LOG.log(System.Logger.Level.ERROR, "pool reader of worker " + child + " failed", e);
        }
        pool.onWorkerGone(this);
    }

    private void parkWhileIdle() throws InterruptedException {
        synchronized (signal) {
            while (held == 0 && !exited && !out.closed()) {
                signal.wait(1000);
            }
        }
    }

    @Override
    public String toString() {
        return "PoolWorker[slot=" + slot + ", " + child + "]";
    }
}
