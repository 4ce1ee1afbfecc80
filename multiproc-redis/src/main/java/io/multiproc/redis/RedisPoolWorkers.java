package io.multiproc.redis;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;
import io.multiproc.process.ChildProcess;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The worker JVMs of a {@link RedisPool} on this host: what {@code multiproc worker --redis URL --pool NAME
 * --workers N} and {@link RedisPool#serveWorkers} run. It starts N worker JVMs (warm children, as a local
 * Pool's), and when one exits or is killed it answers the chunk that worker held with a DIED reply
 * carrying the exit code (the caller sees {@link io.multiproc.process.WorkerDiedException}) and starts a
 * replacement.
 *
 * <pre>{@code
 * try (RedisPoolWorkers w = RedisPoolWorkers.start(config, "images", 4, Duration.ofSeconds(5), null)) {
 *     w.join();   // serves until this JVM is stopped
 * }
 * }</pre>
 *
 * <p>Why JVMs and not threads (decision 109): a task that crashes, exhausts the heap or calls
 * {@code halt} takes one worker with it and fails one chunk, not the whole host's share of the pool; the
 * supervisor, which runs no tasks, reports it at once with the real exit code. Worker JVMs die with the
 * supervisor (parent-death signal), so killing the supervisor leaves nothing running; their chunks are
 * then reaped by callers when the heartbeats expire.
 *
 * <h2>Implementation overview</h2>
 * One supervisor thread takes exit events from {@link #exits} (pushed by each child's onExit) and, for
 * each, reaps the dead worker's held list and starts a replacement unless closed; a worker that died
 * within {@link #FAST_EXIT} of its start is replaced after a pause, so a worker that cannot connect does
 * not spin. {@link #slots} is guarded by {@code this}.
 */
public final class RedisPoolWorkers implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RedisPoolWorkers.class.getName());
    private static final Duration FAST_EXIT = Duration.ofSeconds(5);
    private static final Duration RESTART_PAUSE = Duration.ofSeconds(1);
    /** A worker host is declared dead one lease after its last heartbeat: longer than a day is a mistake, not a lease. */
    static final Duration MAX_LEASE = Duration.ofDays(1);

    private final RedissonClient client;
    private final RedisPoolStore store;
    /** The workers' target, but for its incarnation (each start gets a new one). */
    private final RedisPoolWorker target;
    private final Codec codec;
    private final ChildProcess[] slots;
    private final long[] startedAt;
    /** The worker id of each slot's worker (guarded by this, as slots). */
    private final String[] ids;
    private final LinkedBlockingQueue<Integer> exits = new LinkedBlockingQueue<>();
    private final Thread supervisor;
    private volatile boolean closed;

    private RedisPoolWorkers(Config config, String pool, int workers, Duration lease, Codec codec) {
        RedisCodec.ensureOn(config);
        String yaml;
        try {
            yaml = config.toYAML();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Redisson configuration for the workers", e);
        }
        // NOTE: the per-worker arrays before the client: nothing here closes a client whose constructor then threw
        this.slots = new ChildProcess[workers];
        this.startedAt = new long[workers];
        this.ids = new String[workers];
        this.client = Redisson.create(config);
        this.store = new RedisPoolStore(client, pool);
        this.target = new RedisPoolWorker(yaml, pool, lease.toMillis(), codec, "");
        this.codec = codec != null ? codec : BuiltinCodec.taskCodec();
        this.supervisor = new Thread(this::supervise, "multiproc-redis-pool-supervisor");
        this.supervisor.setDaemon(true);
    }

    /**
     * Starts {@code workers} worker JVMs serving pool {@code pool} and returns.
     *
     * @param lease how long a worker's heartbeat lives: a host that dies is noticed after about this long
     * @param codec the codec the callers use (null: the default task codec)
     */
    public static RedisPoolWorkers start(Config config, String pool, int workers, Duration lease, Codec codec) {
        Objects.requireNonNull(config, "config");
        RedisPool.checkName(pool);
        // NOTE: the bound of a local Pool (decision 220), checked before the client connects: the slots are made
        // up front, and workers=Integer.MAX_VALUE threw OutOfMemoryError with the client's threads left running
        if (workers <= 0 || workers > io.multiproc.process.Pool.MAX_WORKERS) {
            throw new IllegalArgumentException("workers=" + workers + (workers <= 0 ? " must be > 0"
                    : " must be <= " + io.multiproc.process.Pool.MAX_WORKERS + " (Pool.MAX_WORKERS: no kernel runs more processes)"));
        }
        Objects.requireNonNull(lease, "lease");
        if (lease.compareTo(Duration.ofMillis(100)) < 0 || lease.compareTo(MAX_LEASE) > 0) {
            throw new IllegalArgumentException("lease=" + lease + " must be between 100 ms and " + MAX_LEASE);
        }
        if (codec != null && !(codec instanceof java.io.Serializable)) {
            throw new IllegalArgumentException("codec " + codec.getClass().getName() + " must be Serializable: the workers need it too");
        }
        RedisPoolWorkers w = new RedisPoolWorkers(config, pool, workers, lease, codec);
        try {
            for (int i = 0; i < workers; i++) {
                w.startSlot(i);
            }
        } catch (RuntimeException | Error e) {
            // NOTE: the workers started so far would serve with nobody to answer for their deaths, and
            // the client's (non-daemon) threads would keep this JVM alive
            try {
                w.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        w.supervisor.start();
        return w;
    }

    private void startSlot(int slot) {
        String incarnation = RedisPoolWorker.newIncarnation();
        ChildProcess child = ChildProcess.builder().name("redis-pool-" + store.pool() + "-worker-" + slot).daemon(true)
                .target(new RedisPoolWorker(target.config(), target.pool(), target.leaseMillis(), target.codec(), incarnation))
                .start();
        synchronized (this) {
            if (closed) {
                // NOTE: close() took its list of workers while this one started (a replacement): it
                // would serve on, unsupervised, until this JVM exits
                child.kill();
                return;
            }
            slots[slot] = child;
            startedAt[slot] = System.nanoTime();
            ids[slot] = RedisPoolWorker.id(child.pid(), incarnation);
        }
        child.onExit().thenRun(() -> exits.add(slot));
    }

    private void supervise() {
        while (!closed) {
            int slot;
            try {
                slot = exits.take();
            } catch (InterruptedException e) {
                return;
            }
            ChildProcess dead;
            String id;
            long lived;
            synchronized (this) {
                dead = slots[slot];
                id = ids[slot];
                lived = System.nanoTime() - startedAt[slot];
            }
            reap(dead, id);
            if (closed) {
                return;
            }
            try {
                if (lived < FAST_EXIT.toNanos()) {
                    Thread.sleep(RESTART_PAUSE.toMillis());
                }
                startSlot(slot);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot start a replacement Redis pool worker", e);
                exits.add(slot); // try again after the pause
            }
        }
    }

    /** Answers the chunks a dead worker held with DIED and its exit code. */
    private void reap(ChildProcess dead, String id) {
        Integer exitCode = dead.exitCode().isPresent() ? dead.exitCode().getAsInt() : null;
        try {
            store.reap(id, true, chunk -> RedisPoolFrames.died(codec, chunk, id, exitCode));
        } catch (RuntimeException e) {
            // Redis unreachable: the chunk stays held; a caller reaps it when the heartbeat expires
            LOG.log(System.Logger.Level.WARNING, "cannot report the death of Redis pool worker " + id + ": " + e.getMessage());
        }
    }

    /** The pids of the worker JVMs running now. */
    public synchronized List<Long> workerPids() {
        List<Long> pids = new ArrayList<>();
        for (ChildProcess c : slots) {
            if (c != null && c.isAlive()) {
                pids.add(c.pid());
            }
        }
        return pids;
    }

    /** Serves until this thread is interrupted or {@link #close()} is called from another thread. */
    public void join() throws InterruptedException {
        supervisor.join();
    }

    /** Stops the worker JVMs (SIGTERM, then SIGKILL after a few seconds) and disconnects. */
    @Override
    public void close() {
        // NOTE: an interrupted caller (Ctrl-C in a program that interrupts, a test) still reaps its workers:
        // Redisson fails every call made with the interrupt flag set, so it is restored only at the end
        boolean interrupted = Thread.interrupted();
        try {
            stopAll();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void stopAll() {
        List<ChildProcess> all;
        List<String> allIds;
        synchronized (this) {
            closed = true; // under the lock startSlot records a worker under: none is added after the list
            all = new ArrayList<>(List.of(slots));
            allIds = new ArrayList<>(java.util.Arrays.asList(ids));
        }
        supervisor.interrupt();
        for (ChildProcess c : all) {
            if (c != null) {
                c.terminate();
            }
        }
        for (int i = 0; i < all.size(); i++) {
            ChildProcess c = all.get(i);
            if (c != null) {
                try {
                    if (!c.join(Duration.ofSeconds(5))) {
                        c.kill();
                        c.join(Duration.ofSeconds(5));
                    }
                } catch (InterruptedException e) {
                    c.kill(); // interrupted again while closing: do not wait any longer
                }
                reap(c, allIds.get(i));
            }
        }
        client.shutdown();
    }

    static void sleepQuietly(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
