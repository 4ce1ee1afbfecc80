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
 * Two pipes per worker: a duplex data pipe (tasks out, replies back; this side keeps the left end,
 * the worker takes the right one) and a one-way control pipe for cancellations (this side sends on the
 * right end). Sends happen under the pool's lock and never wait ({@code sendBytes(.., ZERO)}): a full
 * ring means the chunk goes back to the pending deque, so no thread ever waits for a worker while
 * holding the lock, and the reader thread, which only receives, always drains replies.
 * <p>{@link #inFlight} and {@link #sent} are written under the pool's lock only. The reader thread
 * receives until end of stream: the worker closed its end (normal exit) or its process died (the
 * pipe's liveness check, within ~25 ms), or this side closed its end (retirement). Every reply sent
 * before a death is received before the end of stream, so a chunk completed just before a SIGKILL is
 * not failed. A worker that died before it took its ends over never causes end of stream; the process
 * exit callback sets {@link #exited} and the reader's timed receive notices it.
 */
final class PoolWorker {
    /** How long the reader's receive waits before it looks at {@link #exited}. */
    private static final Duration POLL = Duration.ofMillis(100);
    static final long CONTROL_CAPACITY = 4096;

    final int slot;
    final ChildProcess child;
    private final Pool pool;
    private final Pipe data;
    private final Pipe control;
    private final Connection out;
    private final Connection ctl;
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

    private PoolWorker(Pool pool, int slot, Pipe data, Pipe control, ChildProcess child) {
        this.pool = pool;
        this.slot = slot;
        this.data = data;
        this.control = control;
        this.out = data.left();
        this.ctl = control.right();
        this.child = child;
    }

    /** Starts a worker JVM (a spare when one is ready and no JVM options are set) and its reader thread. */
    static PoolWorker start(Pool pool, int slot, String name, List<String> jvmOptions, IdleStrategy idle,
                            SerializableRunnable initializer, int maxTasks, Codec codec) {
        Pipe data = Pipe.open(true, idle);
        Pipe control = null;
        try {
            control = Pipe.open(false, CONTROL_CAPACITY, IdleStrategy.blocking(), Codec.defaultCodec());
            PoolWorkerMain main = new PoolWorkerMain(data.right(), control.left(), initializer, maxTasks, codec);
            ChildProcess child = ChildProcess.builder().name(name).daemon(true).jvmOptions(jvmOptions).target(main).start();
            PoolWorker w = new PoolWorker(pool, slot, data, control, child);
            child.process().onExit().thenRun(() -> w.exited = true);
            Thread reader = new Thread(w::readLoop, "mpool-reader-" + slot);
            reader.setDaemon(true);
            reader.start();
            return w;
        } catch (RuntimeException | Error e) {
            data.close();
            if (control != null) {
                control.close();
            }
            throw e;
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
        return true;
    }

    /** Asks the worker to skip chunk {@code id} if it has not started, and to interrupt it if it has and {@code interrupt}. */
    void cancel(long id, boolean interrupt) {
        try {
            ctl.send(interrupt ? id : -id, Duration.ZERO);
        } catch (IOException | IllegalStateException gone) {
            // the worker is gone or leaving: its chunks end anyway
        }
    }

    /** Closes this side's data end: the worker sees end of stream and exits once idle. Pool lock. */
    void retire() {
        retiring = true;
        out.close();
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

    /** Releases both pipes (the worker's ends are its own by now, or the worker is dead). */
    void closePipes() {
        data.close();
        control.close();
    }

    private void readLoop() {
        try {
            while (true) {
                byte[] message;
                try {
                    message = out.recvBytes(POLL);
                } catch (TimeoutException quiet) {
                    if (exited) {
                        break;
                    }
                    continue;
                }
                pool.onReply(this, message);
            }
        } catch (EOFException | IllegalStateException endOrRetired) {
            // the worker exited or died, or this side closed its end
        } catch (IOException | RuntimeException | Error e) {
            Pool.LOG.log(System.Logger.Level.ERROR, "pool reader of worker " + child + " failed", e);
        }
        pool.onWorkerGone(this);
    }

    @Override
    public String toString() {
        return "PoolWorker[slot=" + slot + ", " + child + "]";
    }
}
