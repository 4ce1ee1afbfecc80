package io.multiproc.redis;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.process.SerializableRunnable;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisException;
import org.redisson.config.Config;

import java.io.Serial;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * What one Redis pool worker JVM runs (the target of a {@link io.multiproc.process.ChildProcess} that
 * {@link RedisPoolWorkers} starts). Not for users: run {@code multiproc worker} or
 * {@link RedisPool#serveWorkers}.
 *
 * <h2>Implementation overview</h2>
 * The main thread takes one chunk at a time from the pool's queue into this worker's held list (one
 * atomic BRPOPLPUSH, waiting at most {@link #TAKE_WAIT}), runs it, and answers it with one Lua script
 * that removes it from the held list and pushes the reply ({@link RedisPoolStore#complete}). A take whose
 * reply was lost on the way leaves a chunk in the held list that this worker never saw: after a take
 * that failed or found nothing, and after an answer that reports chunks still held, it runs the oldest
 * held chunk before taking another ({@link RedisPoolStore#oldestHeld}). A daemon
 * thread refreshes the heartbeat key every lease/3. If this JVM dies, its supervisor (same host) sees the
 * exit at once and answers the held chunk with DIED and the exit code; if the whole host dies, the
 * heartbeat expires after the lease and a caller reaps it the same way. Redis errors never end the loop:
 * the worker waits and retries, so it serves again once Redis is back.
 *
 * @param config  the Redisson configuration as YAML ({@link Config#toYAML()})
 * @param pool    the pool name
 * @param leaseMillis how long the heartbeat key lives without a refresh
 * @param codec   null: the default task codec
 * @param incarnation this worker JVM's part of its id, new for every start: see {@link #id}
 */
record RedisPoolWorker(String config, String pool, long leaseMillis, Codec codec, String incarnation) implements SerializableRunnable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger(RedisPoolWorker.class.getName());
    static final Duration TAKE_WAIT = Duration.ofSeconds(1);
    /** How long a finished chunk's reply is retried while Redis is unreachable before it is dropped. */
    private static final Duration ANSWER_RETRY = Duration.ofSeconds(60);
    /** The exit code of a worker that could not store a chunk's answer (its supervisor reports the chunk DIED). */
    static final int UNANSWERABLE = 70;

    /**
     * The id of the worker running in JVM {@code pid} on this host: {@code pid@host#incarnation}. The
     * incarnation tells apart workers that had the same pid on the same host name (a restarted container
     * reuses both): with {@code pid@host} alone, a new worker's heartbeat kept a dead one's chunks held.
     */
    static String id(long pid, String incarnation) {
        return pid + "@" + host() + "#" + incarnation;
    }

    /** A new incarnation, for a worker about to start. */
    static String newIncarnation() {
        return Long.toString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 16, 36);
    }

    /** The pid in a worker id, or -1 if the id is not of that form. */
    static long pidOf(String worker) {
        int at = worker.indexOf('@');
        try {
            return Long.parseLong(at < 0 ? worker : worker.substring(0, at));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String host() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = Files.readString(Path.of("/etc/hostname")).trim();
            } catch (java.io.IOException | RuntimeException e) {
                h = "localhost";
            }
        }
        return h.isBlank() ? "localhost" : h;
    }

    @Override
    public void run() {
        Codec c = codec != null ? codec : BuiltinCodec.taskCodec();
        RedissonClient client = Redisson.create(RedisCodec.ensureOn(Config.fromYAML(config)));
        RedisPoolStore store = new RedisPoolStore(client, pool);
        String id = id(ProcessHandle.current().pid(), incarnation);
        Duration lease = Duration.ofMillis(leaseMillis);
        store.beat(id, lease); // NOTE: heartbeat before the first take, so a held chunk always has a live key or a reaper
        startHeartbeat(store, id, lease);
        Loop loop = new Loop(c);
        listenForInterrupts(store, loop, id);
        boolean lookInHeld = false;
        while (!Thread.currentThread().isInterrupted()) {
            byte[] chunk = null;
            try {
                if (lookInHeld) {
                    chunk = store.oldestHeld(id);
                    lookInHeld = false;
                }
                if (chunk == null) {
                    chunk = store.take(id, TAKE_WAIT);
                    lookInHeld = chunk == null;
                }
            } catch (RedisException e) {
                lookInHeld = true;
                pause("cannot take a chunk from Redis", e);
                continue;
            } catch (InterruptedException e) {
                break;
            }
            if (chunk != null) {
                lookInHeld = answer(store, id, c, chunk, loop.runOne(chunk)) > 0;
            }
        }
        client.shutdown();
    }

    /**
     * Answers a chunk, retrying while Redis is unreachable (the chunk stays held meanwhile). A reply Redis
     * refuses (an error reply such as "invalid bulk length": too big) is replaced by a small FAILED reply
     * saying so. If no answer can be stored, this JVM exits: its supervisor then answers the chunk with
     * DIED, where a worker that went on serving would keep it held forever and its caller waiting.
     *
     * @return how many chunks this worker still holds
     */
    private static long answer(RedisPoolStore store, String id, Codec codec, byte[] chunk, byte[] reply) {
        try {
            long held = tryAnswer(store, id, chunk, reply);
            if (held >= 0) {
                return held;
            }
        } catch (RedisException refused) {
            long taskId = RedisPoolFrames.header(chunk)[1];
            byte[] failed = RedisPoolFrames.reply(taskId, RedisPoolFrames.FAILED, codec, RemoteFailure.of(new IllegalStateException(
                    "the result of task id=" + taskId + " (a reply of " + reply.length + " bytes) could not be stored in Redis: "
                    + refused.getMessage())));
            try {
                long held = tryAnswer(store, id, chunk, failed);
                if (held >= 0) {
                    return held;
                }
            } catch (RedisException again) {
                refused.addSuppressed(again);
            }
            LOG.log(System.Logger.Level.ERROR, "redis pool worker " + id + ": Redis refuses even a failure reply; exiting "
                    + "so that the supervisor reports the chunk as lost", refused);
            Runtime.getRuntime().halt(UNANSWERABLE);
        }
        LOG.log(System.Logger.Level.ERROR, "redis pool worker " + id + ": Redis unreachable for " + ANSWER_RETRY
                + " while answering a chunk; exiting so that the chunk is reported as lost");
        Runtime.getRuntime().halt(UNANSWERABLE);
        return 0; // not reached
    }

    /**
     * Tries to store {@code reply} while Redis is unreachable, for at most {@link #ANSWER_RETRY}: once
     * stored (or no longer wanted), how many chunks this worker still holds; -1 if Redis stayed
     * unreachable; the RedisException of an error reply, or of a write Redis cut short
     * while it still answers.
     */
    private static long tryAnswer(RedisPoolStore store, String id, byte[] chunk, byte[] reply) {
        long caller = RedisPoolFrames.header(chunk)[0];
        long deadline = System.nanoTime() + ANSWER_RETRY.toNanos();
        while (true) {
            try {
                return store.complete(id, chunk, caller, reply);
            } catch (RedisException e) {
                // NOTE: a write cut short while Redis still answers is Redis closing the connection on a
                // reply over its bulk limit: retrying it cannot help, and halting would fail the task as
                // DIED instead of saying why
                if (RedisPoolStore.refused(e) || store.cutOff(e, Math.max(chunk.length, reply.length))) {
                    throw e;
                }
                if (System.nanoTime() > deadline) {
                    return -1;
                }
                pause("cannot answer a chunk", e);
            }
        }
    }

    private static void pause(String what, RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "redis pool worker: " + what + " (retrying): " + e.getMessage());
        try {
            Thread.sleep(500);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Subscribes to the pool's interrupt requests ({@link RedisPoolStore#cancelChannel()}). Without the
     * subscription (Redis away at start) a cancelled running chunk runs to its end; Redisson subscribes
     * again after a reconnection.
     */
    private static void listenForInterrupts(RedisPoolStore store, Loop loop, String id) {
        try {
            store.cancels().addListener(String.class, (channel, request) -> loop.interruptIfRunning(request));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "redis pool worker " + id + ": cannot listen for interrupt requests"
                    + " (a cancelled running task will run to its end): " + e.getMessage());
        }
    }

    private static void startHeartbeat(RedisPoolStore store, String id, Duration lease) {
        long period = Math.max(10, lease.toMillis() / 3);
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(period);
                    store.beat(id, lease);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "redis pool worker: heartbeat failed: " + e.getMessage());
                }
            }
        }, "multiproc-redis-pool-heartbeat");
        t.setDaemon(true);
        t.start();
    }

    /** Runs chunks; keeps the previous chunk's decoded function when the bytes are the same. */
    private static final class Loop {
        private final Codec codec;
        private byte[] lastFnBytes;
        private Object lastFn;

        /**
         * Guards the fields below: the loop's thread sets them around each chunk, Redisson's pub/sub thread
         * reads them to interrupt. Under one lock with the clearing of the interrupt, so a request that comes
         * late can never interrupt the loop's own Redis calls (an interrupted take would end the worker).
         */
        private final Object running = new Object();
        private long runningCaller;
        private long runningId;
        private Thread runner;
        /**
         * Requests for chunks that were not running when they came ("CALLER:ID" or "CALLER:*"): a chunk taken
         * just before its caller cancelled it is not started. Only the latest {@link #EARLY_KEPT}.
         */
        private final java.util.SequencedSet<String> early = new java.util.LinkedHashSet<>();
        private static final int EARLY_KEPT = 4096;

        Loop(Codec codec) {
            this.codec = codec;
        }

        /** A request of {@link RedisPoolStore#cancelChannel()}: interrupts the matching running chunk, or notes it. */
        void interruptIfRunning(String request) {
            int colon = request.indexOf(':');
            long caller;
            try {
                caller = Long.parseUnsignedLong(request.substring(0, Math.max(colon, 0)), 16);
            } catch (NumberFormatException e) {
                return; // not a request of ours
            }
            String callerKey = Long.toHexString(caller) + ":";
            String ids = request.substring(colon + 1);
            synchronized (running) {
                for (String one : ids.split(",")) {
                    if (runner != null && runningCaller == caller && (one.equals("*") || one.equals(Long.toString(runningId)))) {
                        runner.interrupt();
                    } else {
                        early.add(callerKey + one);
                        if (early.size() > EARLY_KEPT) {
                            early.removeFirst();
                        }
                    }
                }
            }
        }

        byte[] runOne(byte[] message) {
            long[] header = RedisPoolFrames.header(message);
            long id = header[1];
            String callerKey = Long.toHexString(header[0]) + ":";
            Object outcome;
            int status;
            try {
                synchronized (running) {
                    if (early.remove(callerKey + id) || early.contains(callerKey + "*")) {
                        throw new java.util.concurrent.CancellationException("task id=" + id + " was cancelled before it started");
                    }
                    runningCaller = header[0];
                    runningId = id;
                    runner = Thread.currentThread();
                }
                outcome = run(RedisPoolFrames.decodeChunk(codec, message));
                status = RedisPoolFrames.OK;
            } catch (Throwable t) {
                outcome = RemoteFailure.of(t);
                status = RedisPoolFrames.FAILED;
            } finally {
                synchronized (running) {
                    runner = null;
                    Thread.interrupted(); // a task's own interrupt, or a request's, must not end the loop
                }
            }
            try {
                return RedisPoolFrames.reply(id, status, codec, outcome);
            } catch (RuntimeException e) {
                return RedisPoolFrames.reply(id, RedisPoolFrames.FAILED, codec, RemoteFailure.of(new IllegalArgumentException(
                        "the result of task id=" + id + " cannot be sent back to the pool: " + e.getMessage(), e)));
            }
        }

        private Object run(RedisPoolFrames.Chunk chunk) throws Exception {
            Object fn = function(chunk.fn());
            if (chunk.kind() == RedisPoolFrames.CALL) {
                return ((Callable<?>) fn).call();
            }
            @SuppressWarnings("unchecked")
            Function<Object, Object> f = (Function<Object, Object>) fn;
            List<Object> out = new ArrayList<>(chunk.items().size());
            for (Object item : chunk.items()) {
                out.add(f.apply(item));
            }
            return out;
        }

        private Object function(byte[] fnBytes) {
            if (lastFnBytes == null || !Arrays.equals(lastFnBytes, fnBytes)) {
                lastFn = codec.decode(SegmentSource.of(fnBytes));
                lastFnBytes = fnBytes;
            }
            return lastFn;
        }
    }
}
