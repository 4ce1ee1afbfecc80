package io.multiproc.process;

import io.multiproc.codec.Codec;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.queue.Connection;

import java.io.EOFException;
import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What a {@link Pool} worker JVM runs: the target of its {@link ChildProcess}. Not for users.
 *
 * <h2>Implementation overview</h2>
 * The main thread sends HELLO (the parent then knows the worker owns its ends), runs the initializer,
 * then loops: receive a task message from the data pipe, run it, send the reply. End of stream on the
 * data pipe (the pool closed its end, or died) ends the loop and the JVM exits 0; so does reaching
 * {@code maxTasks} (the parent never sends more than that, so nothing is lost).
 * <p>A daemon thread reads the one-way control pipe: a message is the id of a task to cancel (negative: do not interrupt it). If that
 * task is running it interrupts the main thread; otherwise it remembers the id and the main thread
 * skips the task when it comes (reply SKIPPED). {@link #runningId} and the interrupt are guarded by
 * {@code this}'s monitor, so an interrupt meant for one task never lands in the next one.
 * <p>A result the codec cannot write fails only that task: the reply becomes FAILED with the codec's
 * message. A huge result or exception spills like any large pipe message; the parent's reader thread
 * only receives, so neither side waits for the other.
 */
final class PoolWorkerMain implements SerializableRunnable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final long NONE = Long.MIN_VALUE;

    private final Connection data;
    private final Connection control;
    private final SerializableRunnable initializer;
    private final int maxTasks;
    /** Null: the default task codec. */
    private final Codec codec;

    /** The id of the task the main thread runs, or NONE; guarded by {@code this}. */
    private transient long runningId = NONE;
    private transient Thread runner;
    private transient Set<Long> cancelled;
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
        cancelled = ConcurrentHashMap.newKeySet();
        try {
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
            startControlThread();
            for (int done = 0; maxTasks == 0 || done < maxTasks; done++) {
                byte[] message;
                try {
                    message = data.recvBytes();
                } catch (EOFException endOfWork) {
                    return;
                }
                send(runOne(c, message));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the pool is gone: nothing to report to
        } finally {
            System.out.flush();
            System.err.flush();
        }
    }

    private byte[] runOne(Codec c, byte[] message) {
        PoolFrames.Task task;
        Object outcome;
        int status;
        long id;
        try {
            task = PoolFrames.decodeTask(c, message);
        } catch (RuntimeException | LinkageError e) {
            return failure(c, readId(message), e);
        }
        id = task.id();
        synchronized (this) {
            if (cancelled.remove(id)) {
                return PoolFrames.reply(id, PoolFrames.SKIPPED, c, null);
            }
            runningId = id;
        }
        try {
            outcome = run(c, task);
            status = PoolFrames.OK;
        } catch (Throwable t) {
            outcome = RemoteFailure.of(t);
            status = PoolFrames.FAILED;
        } finally {
            synchronized (this) {
                runningId = NONE;
                Thread.interrupted(); // a cancel that came as the task ended must not reach the next one
            }
        }
        try {
            return PoolFrames.reply(id, status, c, outcome);
        } catch (RuntimeException e) {
            return failure(c, id, new IllegalArgumentException("the result of task id=" + id
                    + " cannot be sent back to the pool: " + e.getMessage(), e));
        }
    }

    private Object run(Codec c, PoolFrames.Task task) throws Exception {
        Object fn = function(c, task.fn());
        if (task.kind() == PoolFrames.CALL) {
            return ((Callable<?>) fn).call();
        }
        @SuppressWarnings("unchecked")
        Function<Object, Object> f = (Function<Object, Object>) fn;
        List<?> items = (List<?>) task.payload();
        List<Object> out = new ArrayList<>(items.size());
        for (Object item : items) {
            out.add(f.apply(item));
        }
        return out;
    }

    /** The decoded function, reusing the previous chunk's when its bytes are the same. */
    private Object function(Codec c, byte[] fnBytes) {
        if (lastFnBytes == null || !Arrays.equals(lastFnBytes, fnBytes)) {
            lastFn = c.decode(io.multiproc.codec.SegmentSource.of(fnBytes));
            lastFnBytes = fnBytes;
        }
        return lastFn;
    }

    private static long readId(byte[] message) {
        return message.length >= 8 ? io.multiproc.codec.SegmentSource.of(message).readLong() : 0;
    }

    private static byte[] failure(Codec c, long id, Throwable t) {
        return PoolFrames.reply(id, PoolFrames.FAILED, c, RemoteFailure.of(t));
    }

    private void send(byte[] reply) throws IOException {
        data.sendBytes(reply);
    }

    private void startControlThread() {
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    long id = (Long) control.recv();
                    synchronized (this) {
                        if (runningId == Math.abs(id)) {
                            if (id > 0) {
                                runner.interrupt();
                            }
                        } else {
                            cancelled.add(Math.abs(id));
                        }
                    }
                }
            } catch (IOException | RuntimeException endOrClosed) {
                // the pool closed the control pipe or died: the main thread finds out on its own
            }
        }, "multiproc-pool-control");
        t.setDaemon(true);
        t.start();
    }
}
