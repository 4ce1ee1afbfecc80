package io.multiproc.process;

import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.InFlight;
import io.multiproc.internal.Releases;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.queue.Connection;

import java.io.IOException;
import java.io.Serial;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * What a {@link Pool} worker JVM runs: the target of its {@link ChildProcess}. Not for users.
 *
 * <h2>Implementation overview</h2>
 * The main thread (the runner) sends HELLO, runs the initializer, sends READY, then receives tasks from
 * the data pipe itself, runs them one at a time and sends each reply; it is the only sender and the
 * only receiver on the data pipe. Receiving directly (no receiver thread handing tasks over a local
 * queue) keeps one thread of this JVM spinning between back-to-back tasks instead of two, which on a
 * machine with few cores is what a short round trip needs (decision 097). The pipe waits with the
 * pool's {@link PoolIdle}: it spins briefly, then sleeps up to a second at a time (the parent's send
 * wakes it), so an idle worker costs next to no CPU; the parent's death kills this JVM through the
 * parent-death signal anyway.
 * <p>Cancellations come on a separate one-way control pipe, read by a daemon canceller thread, so a
 * cancel reaches a running task: if the task is running, the canceller interrupts the runner (CANCEL)
 * or lets it finish (CANCEL_QUIETLY); otherwise it remembers the id and the runner skips that task
 * (reply SKIPPED). {@link #runningId}, {@link #cancelled} and the interrupt are guarded by
 * {@code this}'s monitor, so an interrupt meant for one task never lands in the next one.
 * <p>End of stream on the data pipe (the pool closed its end, or died) ends the loop and the JVM exits
 * 0; so does reaching {@code maxTasks} (the parent never sends more than that, so nothing is lost).
 * Anything else a wait on the pipes throws (the pool's idle strategy's exception) is sent as WAIT_FAILED,
 * which breaks the pool with it, and ends the JVM with an error (decision 221). A
 * result the codec cannot write fails only that task: the reply becomes FAILED with the codec's
 * message. A huge result or exception spills like any large pipe message; the parent's reader thread
 * only receives, so neither side waits for the other.
 */
final class PoolWorkerMain implements SerializableRunnable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final long NONE = Long.MIN_VALUE;
    private final Connection data;
    /** The receiving end of the control pipe: cancellations. */
    private final Connection control;
    private final SerializableRunnable initializer;
    private final int maxTasks;
    /** Null: the default task codec. */
    private final Codec codec;

    /** The id of the task the runner runs, or NONE; guarded by {@code this}. */
    private transient long runningId = NONE;
    /** Ids cancelled before they started; guarded by {@code this}. */
    private transient Set<Long> cancelled;
    private transient Thread runner;
    /** Set by the runner when the first task came: the idle warm-up stops before its next iteration. */
    private transient volatile boolean taskArrived;
    /** What ended the canceller when it was not the end of its pipe (the idle strategy threw); the runner reports it. */
    private transient volatile Throwable cancellerFailure;
    private transient byte[] lastFnBytes;
    private transient Object lastFn;

    PoolWorkerMain(Connection data, Connection control, SerializableRunnable initializer, int maxTasks, Codec codec) {
        this.data = data;
        this.control = control;
        this.initializer = initializer;
        this.maxTasks = maxTasks;
        this.codec = codec;
    }

    @Override
    public void run() {
        Codec c = codec != null ? codec : TaskCodec.codec();
        runner = Thread.currentThread();
        cancelled = new HashSet<>();
        PoolIdle.inWorker = true;
        try {
            // NOTE: before HELLO: the pool may send a task to a worker that is still in its initializer, and a
            // cancel of it that arrived before the canceller ran was read too late: the task ran anyway
            startCanceller();
            send(PoolFrames.reply(0, PoolFrames.HELLO, c, ProcessHandle.current().pid()));
            if (initializer != null) {
                try {
                    initializer.run();
                } catch (Throwable t) {
                    send(PoolFrames.reply(0, PoolFrames.INIT_FAILED, c, RemoteFailure.of(t)));
                    throw t;
                }
            }
            send(PoolFrames.reply(0, PoolFrames.READY, c, null));
            if (codec == null) {
                warmUpWhileIdle();
            }
            for (int done = 0; maxTasks == 0 || done < maxTasks; done++) {
                byte[] message = nextOrReport(c);
                if (message == null) {
                    return;
                }
                taskArrived = true;
                send(runOne(c, message));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the pool is gone: nothing to report to
        } finally {
            System.out.flush();
            System.err.flush();
        }
    }

    /**
     * {@link #next()}; if this worker cannot wait on its pipes (the pool's idle strategy threw, here or in
     * the canceller), tells the pool with WAIT_FAILED, which breaks it with that exception, and throws it.
     */
    private byte[] nextOrReport(Codec c) throws IOException {
        Throwable failed = cancellerFailure;
        byte[] message = null;
        if (failed == null) {
            try {
                message = next();
            } catch (RuntimeException | Error e) {
                failed = e;
            }
        }
        if (failed == null) {
            return message;
        }
        // NOTE: taken for the end of the pipe, a strategy's exception made the worker exit 0: the pool replaced
        // it after each task, and a task it held failed with "died (exit code 0)", the user's exception lost
        try {
            send(PoolFrames.reply(0, PoolFrames.WAIT_FAILED, c, RemoteFailure.of(failed)));
        } catch (IOException | RuntimeException | Error notSent) {
            failed.addSuppressed(notSent);
        }
        if (failed instanceof RuntimeException r) {
            throw r;
        }
        throw (Error) failed;
    }

    /** The next task message, or null at end of stream (the pool closed its end, or died). */
    private byte[] next() {
        while (true) {
            try {
                return data.recvBytes();
            } catch (java.io.InterruptedIOException stale) {
                // a cancel that raced with the end of its task; no task runs now
                synchronized (this) {
                    Thread.interrupted();
                }
            } catch (IOException end) {
                return null;
            } catch (IllegalStateException e) {
                if (data.closed()) {
                    return null; // this end was closed
                }
                throw e; // not the pipe's: the idle strategy's own
            }
        }
    }

    private byte[] runOne(Codec c, byte[] message) {
        long id = PoolFrames.idOf(message);
        synchronized (this) {
            if (cancelled.remove(id)) {
                return PoolFrames.reply(id, PoolFrames.SKIPPED, c, null);
            }
            runningId = id;
        }
        Object outcome;
        int status;
        // NOTE: what the task's decodes attach (the shared objects its function and items carry) is let go
        // once the task's code no longer reaches it: the pool holds them only while the task is in flight
        // (decision 191), so a long-lived worker must not keep each task's objects mapped until it exits
        InFlight flight = InFlight.here();
        int mark = flight.beginCollect();
        try {
            outcome = run(c, PoolFrames.decodeTask(c, message));
            status = PoolFrames.OK;
        } catch (Throwable t) {
            outcome = RemoteFailure.of(t);
            status = PoolFrames.FAILED;
        } finally {
            Releases.releaseWhenUnreachable(flight.endCollect(mark));
            synchronized (this) {
                runningId = NONE;
                Thread.interrupted(); // a cancel that came as the task ended must not reach the next one
            }
        }
        try {
            return PoolFrames.reply(id, status, c, outcome);
        } catch (RuntimeException e) {
            return PoolFrames.reply(id, PoolFrames.FAILED, c, RemoteFailure.of(new IllegalArgumentException(
                    "the result of task id=" + id + " cannot be sent back to the pool: " + e.getMessage(), e)));
        }
    }

    private Object run(Codec c, PoolFrames.Task task) throws Exception {
        Object fn = function(c, task.fn());
        if (task.kind() == PoolFrames.CALL) {
            return ((Callable<?>) fn).call();
        }
        @SuppressWarnings("unchecked")
        Function<Object, Object> f = (Function<Object, Object>) fn;
        return PackedItems.applyPacked(c, f, task.payload());
    }

    /** The decoded function, reusing the previous chunk's when its bytes are the same. */
    private Object function(Codec c, byte[] fnBytes) {
        if (lastFnBytes == null || !Arrays.equals(lastFnBytes, fnBytes)) {
            lastFn = c.decode(SegmentSource.of(fnBytes));
            lastFnBytes = fnBytes;
        }
        return lastFn;
    }

    private void send(byte[] reply) throws IOException {
        data.sendBytes(reply);
    }

    /**
     * Until the first task comes, warms the map path ({@link HotPaths.Path#POOL_FRAMES}) on a daemon
     * thread, unless this JVM's spare warm-up already ran it to its end: a pool takes its spares as they
     * are, and spares taken soon after they booted (a pool created early in a program, or just after
     * another closed) had not reached it. Paced like a spare's warm-up (it sleeps while the program or a
     * sibling JVM uses the CPU, decision 124), so it runs in the program's idle moments, and followed by
     * the same full GC, so an idle worker stays as small as a spare (decision 161). Its first step waits
     * for one quiet pacing window after READY (decision 178).
     * {@code -Dmultiproc.workerWarmUp=false} turns it off (for measuring).
     */
    private void warmUpWhileIdle() {
        if (!WORKER_WARM_UP || HotPaths.completed(HotPaths.Path.POOL_FRAMES) || !io.multiproc.internal.Native.isAvailable()) {
            return;
        }
        long parentPid = ChildProcess.parent().map(ProcessInfo::pid).orElse(-1L);
        Thread t = new Thread(() -> {
            try {
                BooleanSupplier stop = () -> taskArrived;
                BooleanSupplier pace = ChildMain.PACE && parentPid > 0 ? new ChildMain.IdlePacer(parentPid, stop)::stopOrPause : stop;
                // NOTE: one pacing window, then the pacer's verdict, before the warm-up's first step: a
                // pool that maps at once is encoding its first chunk then (the parent is busy), and the
                // first steps (loading classes, making private segments) took 30-45 ms of CPU beside it.
                if (taskWithin(ChildMain.IdlePacer.WINDOW_MILLIS * 1_000_000L) || pace.getAsBoolean()) {
                    return;
                }
                HotPaths.run(HotPaths.Path.POOL_FRAMES, pace);
                if (!taskArrived && ChildMain.SPARE_GC) {
                    System.gc(); // as a spare after its warm-up: the idle worker goes back to ~70 MB resident
                }
            } catch (RuntimeException | Error e) {
                // only a warm-up; tasks report their own problems
            }
        }, WARM_UP_THREAD);
        t.setDaemon(true);
        t.start();
    }

    /** On the warm-up thread: true if the first task came within {@code nanos} (checked every 2 ms). */
    private boolean taskWithin(long nanos) {
        long deadline = System.nanoTime() + nanos;
        while (!taskArrived) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Math.min(left, 2_000_000L));
        }
        return true;
    }

    /** The idle warm-up thread's name; at most 15 characters, so /proc/PID/task/TID/comm shows it whole. */
    static final String WARM_UP_THREAD = "mp-pool-warm-up";
    private static final boolean WORKER_WARM_UP = !"false".equals(System.getProperty("multiproc.workerWarmUp"));

    private void startCanceller() {
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    byte[] m = control.recvBytes();
                    cancel(PoolFrames.idOf(m), PoolFrames.kindOf(m) == PoolFrames.CANCEL);
                }
            } catch (IOException endOrClosed) {
                // the pool closed its end or died: the runner sees the same on the data pipe
            } catch (RuntimeException | Error e) {
                if (!control.closed()) {
                    cancellerFailure = e; // cancels no longer reach this worker: the runner reports it before the next task
                }
            }
        }, "multiproc-pool-canceller");
        t.setDaemon(true);
        t.start();
    }

    private synchronized void cancel(long id, boolean interrupt) {
        if (runningId == id) {
            if (interrupt) {
                runner.interrupt();
            }
        } else {
            cancelled.add(id);
        }
    }
}
