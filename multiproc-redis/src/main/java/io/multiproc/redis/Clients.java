package io.multiproc.redis;

import io.multiproc.internal.PlatformThreads;
import io.multiproc.internal.TaskEndHooks;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@link RedissonClient} per configuration per JVM, shared by every manager and attached proxy that
 * uses that configuration (a client costs threads and connections). Counted: the last
 * {@link #release} shuts the client down; the clients that proxies arriving from other JVMs attached stay
 * until this JVM exits, when a shutdown hook closes every client left.
 */
final class Clients {
    private static final Map<String, Entry> CLIENTS = new HashMap<>(); // guarded by Clients.class

    private static final class Entry {
        final RedissonClient client;
        int users;

        Entry(RedissonClient client) {
            this.client = client;
        }
    }

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Clients::shutdownAll, "mp-redis-clients-shutdown"));
        // In a child JVM, Redisson's non-daemon threads (event loop, timer) would keep the child from exiting
        // after its task: close the clients when the task ends (decision 103).
        TaskEndHooks.register(Clients::shutdownAtTaskEnd);
    }

    private static void shutdownAtTaskEnd() {
        RedisManager.forgetAttached();
        shutdownAll();
    }

    private Clients() {
    }

    /** Names of the threads Redisson starts (its event loops, timer and executor): "redisson-...". */
    private static final String REDISSON_THREADS = "redisson-";
    /** How often the watcher looks; a forgotten manager delays the program's end by up to this. */
    private static final long WATCH_MILLIS = 250;
    /** Whether the watcher runs (guarded by Clients.class). */
    private static boolean watching;
    /** What else ends with the program (a RedisPool's terminate: it owns a client of its own). */
    private static final java.util.Set<Runnable> AT_PROGRAM_END = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Runs {@code end} when only Redisson's threads are left (see {@link #watchForProgramEnd}) unless forgotten first. */
    static void atProgramEnd(Runnable end) {
        AT_PROGRAM_END.add(end);
        watchForProgramEnd();
    }

    static void forgetAtProgramEnd(Runnable end) {
        AT_PROGRAM_END.remove(end);
    }

    /**
     * Redisson's threads are not daemon threads (its timer's cannot be made so), so a program that
     * returns from main without closing its Redis manager would never end; a Python program using a
     * Redis client does. A daemon thread looks every {@link #WATCH_MILLIS} ms: once no live non-daemon
     * thread but Redisson's is left (main has returned and the program's own threads have ended: the
     * point where the JVM would exit), it shuts this JVM's clients down and the JVM ends. It never acts
     * while any other non-daemon thread lives, and it stops when no client is left.
     */
    private static void watchForProgramEnd() {
        synchronized (Clients.class) {
            if (watching) {
                return;
            }
            watching = true;
        }
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(WATCH_MILLIS);
                    synchronized (Clients.class) {
                        if (CLIENTS.isEmpty() && AT_PROGRAM_END.isEmpty()) {
                            watching = false;
                            return;
                        }
                    }
                    if (onlyRedissonThreadsLeft()) {
                        for (Runnable end : AT_PROGRAM_END) {
                            try {
                                end.run();
                            } catch (RuntimeException e) {
                                // the program is ending: the next look tries the rest again
                            }
                        }
                        RedisManager.forgetAttached();
                        shutdownAll();
                    }
                }
            } catch (InterruptedException e) {
                synchronized (Clients.class) {
                    watching = false;
                }
            }
        }, "mp-redis-exit-watch");
        t.setDaemon(true);
        t.start();
    }

    private static boolean onlyRedissonThreadsLeft() {
        int redisson = 0;
        for (Thread th : PlatformThreads.live()) {
            if (th.isDaemon() || "DestroyJavaVM".equals(th.getName())) {
                continue;
            }
            if (!th.getName().startsWith(REDISSON_THREADS)) {
                return false;
            }
            redisson++;
        }
        return redisson > 0;
    }

    /** The configuration as YAML: the key of the shared client and what a {@link RedisHandle} carries. */
    static String yamlOf(Config config) {
        try {
            return config.toYAML();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot describe the Redisson configuration as YAML", e);
        }
    }

    static Config fromYaml(String yaml) {
        return Config.fromYAML(yaml);
    }

    /** Whether a client of this JVM uses {@code yaml} now. */
    static synchronized boolean uses(String yaml) {
        Entry e = CLIENTS.get(yaml);
        return e != null && !e.client.isShutdown();
    }

    /** The shared client for {@code yaml}, created (and connected) if there is none; count it as used. */
    static RedissonClient acquire(String yaml, Config config) {
        synchronized (Clients.class) {
            Entry e = CLIENTS.get(yaml);
            if (e != null && !e.client.isShutdown()) {
                e.users++;
                return e.client;
            }
        }
        RedissonClient client = create(config); // outside the lock: connecting may take a connect timeout
        synchronized (Clients.class) {
            Entry e = CLIENTS.get(yaml);
            if (e != null && !e.client.isShutdown()) {
                client.shutdown(); // another thread connected first: use its client
            } else {
                e = new Entry(client);
                CLIENTS.put(yaml, e);
                // NOTE: after the put, under the lock the watcher's "nothing left" check takes: a
                // watcher about to stop either sees this client or has stopped, and a new one starts
                watchForProgramEnd();
            }
            e.users++;
            return e.client;
        }
    }

    /** One user of {@code yaml}'s client is done; the last one shuts it down. */
    static void release(String yaml) {
        RedissonClient stop = null;
        synchronized (Clients.class) {
            Entry e = CLIENTS.get(yaml);
            if (e != null && --e.users <= 0) {
                CLIENTS.remove(yaml);
                stop = e.client;
            }
        }
        if (stop != null) {
            stop.shutdown();
        }
    }

    private static RedissonClient create(Config config) {
        try {
            return Redisson.create(config);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot connect to Redis at " + addressOf(config) + ": " + e.getMessage(), e);
        }
    }

    /** The server address(es) a configuration names, for messages. */
    static String addressOf(Config config) {
        try {
            if (config.isSingleConfig()) {
                return config.useSingleServer().getAddress();
            }
            if (config.isClusterConfig()) {
                List<String> nodes = config.useClusterServers().getNodeAddresses();
                return "cluster " + nodes;
            }
        } catch (RuntimeException ignored) {
            // an unusual configuration: fall back to a generic description
        }
        return "the configured servers";
    }

    static void shutdownAll() {
        RedisSync.leaveAllBarriers(); // NOTE: before the clients go: a JVM that ends normally is no dead party
        QueueReceipts.flushAll(); // NOTE: before the clients go: an unsent receipt leaves its pending list for ever
        List<Entry> all;
        synchronized (Clients.class) {
            all = List.copyOf(CLIENTS.values());
            CLIENTS.clear();
        }
        for (Entry e : all) {
            try {
                e.client.shutdown();
            } catch (RuntimeException ignored) {
                // the JVM is exiting: nothing more to do
            }
        }
    }
}
