package io.multiproc.redis;

import io.multiproc.internal.TaskEndHooks;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

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
        Thread watch = new Thread(Clients::watchForExit, "mp-redis-exit-watch");
        watch.setDaemon(true);
        watch.start();
    }

    /** How often the exit watch looks whether the user's program has finished. */
    private static final long WATCH_MILLIS = 200;

    /**
     * Redisson's timer thread ("redisson-timer") is non-daemon and cannot be configured: once the JVM's
     * main has returned (the launcher's "DestroyJavaVM" thread waits for non-daemon threads) and only
     * Redisson's threads are left, shut every client down so the JVM exits as it would without Redis
     * (decision 123). In a child JVM, {@link TaskEndHooks} does it at task end instead.
     */
    private static void watchForExit() {
        while (true) {
            try {
                Thread.sleep(WATCH_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            if (!OWNED.isEmpty() && onlyRedissonKeepsTheJvmAlive()) {
                RedisManager.forgetAttached();
                shutdownAll();
                for (RedissonClient c : List.copyOf(OWNED.keySet())) {
                    try {
                        shutdown(c); // a RedisPool's or its workers' client
                    } catch (RuntimeException ignored) {
                        // the JVM is exiting
                    }
                }
            }
        }
    }

    private static boolean onlyRedissonKeepsTheJvmAlive() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] threads = new Thread[root.activeCount() + 16];
        int n = root.enumerate(threads, true);
        boolean mainReturned = false;
        for (int i = 0; i < n; i++) {
            Thread t = threads[i];
            if (t.getName().equals("DestroyJavaVM")) {
                mainReturned = true;
            } else if (!t.isDaemon() && t.isAlive() && !t.getName().startsWith("redisson-")) {
                return false;
            }
        }
        return mainReturned;
    }

    /**
     * What {@link #create} made for a client beyond Redisson's own (a daemon executor),
     * stopped by {@link #shutdown}; written by creating and shutting-down threads of this JVM.
     */
    private static final Map<RedissonClient, Runnable> OWNED = new ConcurrentHashMap<>();
    private static final AtomicInteger THREADS = new AtomicInteger();

    private static void shutdownAtTaskEnd() {
        RedisManager.forgetAttached();
        shutdownAll();
    }

    private Clients() {
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

    /** The shared client for {@code yaml}, created (and connected) if there is none; count it as used. */
    static RedissonClient acquire(String yaml, Config config) {
        synchronized (Clients.class) {
            Entry e = CLIENTS.get(yaml);
            if (e != null && !e.client.isShutdown()) {
                e.users++;
                return e.client;
            }
        }
        RedissonClient client = connect(config); // outside the lock: connecting may take a connect timeout
        synchronized (Clients.class) {
            Entry e = CLIENTS.get(yaml);
            if (e != null && !e.client.isShutdown()) {
                client.shutdown(); // another thread connected first: use its client
            } else {
                e = new Entry(client);
                CLIENTS.put(yaml, e);
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
            shutdown(stop);
        }
    }

    /**
     * A new Redisson client for {@code config} (every client multiproc makes goes through here: the
     * manager's, a RedisPool's and its workers'). Redisson's threads are non-daemon and would keep an
     * unclosed client's JVM alive, which the local Pool and Manager do not: a configuration without its
     * own executor is given a daemon one, which {@link #shutdown} stops with the client (a user's own is
     * left alone); the event loop and timer threads are ended by the exit watch (decision 123). Not a
     * daemon event loop group: with one given, a RedisPool did not recover from a Redis restart in tests.
     */
    static RedissonClient create(Config config) {
        Config c = new Config(RedisCodec.ensureOn(config));
        ExecutorService executor = null;
        if (c.getExecutor() == null) {
            int threads = c.getThreads() > 0 ? c.getThreads() : 2 * Runtime.getRuntime().availableProcessors();
            executor = Executors.newFixedThreadPool(threads, daemon("mp-redis-exec-"));
            c.setExecutor(executor);
        }
        RedissonClient client;
        try {
            client = Redisson.create(c);
        } catch (RuntimeException e) {
            stopOwned(executor);
            throw e;
        }
        ExecutorService x = executor;
        OWNED.put(client, () -> stopOwned(x));
        return client;
    }

    /** Shuts {@code client} down, then what {@link #create} made for it. */
    static void shutdown(RedissonClient client) {
        try {
            client.shutdown();
        } finally {
            Runnable owned = OWNED.remove(client);
            if (owned != null) {
                owned.run();
            }
        }
    }

    private static void stopOwned(ExecutorService executor) {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private static ThreadFactory daemon(String prefix) {
        return r -> {
            Thread t = new Thread(r, prefix + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static RedissonClient connect(Config config) {
        try {
            return create(config);
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
        List<Entry> all;
        synchronized (Clients.class) {
            all = List.copyOf(CLIENTS.values());
            CLIENTS.clear();
        }
        for (Entry e : all) {
            try {
                shutdown(e.client);
            } catch (RuntimeException ignored) {
                // the JVM is exiting: nothing more to do
            }
        }
    }
}
