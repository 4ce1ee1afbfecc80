package io.multiproc.redis;

import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.manager.SerializableSupplier;
import io.multiproc.manager.SharedValueProxy;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.regex.Pattern;

/**
 * The {@link Manager} interface on Redis or Valkey, through Redisson: the same user code that runs on a
 * local manager runs across hosts.
 *
 * <pre>{@code
 * try (Manager m = RedisManager.connect("redis://10.0.0.5:6379")) {
 *     ConcurrentMap<String, Integer> hits = m.dict("hits");   // the same map on every host
 *     hits.merge("page", 1, Integer::sum);                    // atomic across hosts
 * }
 * }</pre>
 *
 * <p>Keys: every object lives under {@code mp:<manager name>:<kind>:{<object name>}}; the braces are a
 * Redis Cluster hash tag, so the keys of one object stay on one shard while different objects spread.
 * Named objects ({@code dict("hits")}) are shared by every connection with the same manager name;
 * unnamed ones get a random object name.
 */
public final class RedisManager implements Manager {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    /** The manager name {@link #connect(String)} uses. */
    public static final String DEFAULT_NAME = "default";

    private final RedissonClient client;
    private final String name;
    private final String address;
    /** Keys of unnamed objects this connection created; written by any thread of this JVM. */
    private final Set<String> created = ConcurrentHashMap.newKeySet();

    private RedisManager(RedissonClient client, String name, String address) {
        this.client = client;
        this.name = name;
        this.address = address;
    }

    /** Connects to the server at {@code url} ({@code redis://host:port} or {@code rediss://...}) as manager "default". */
    public static Manager connect(String url) {
        return connect(url, DEFAULT_NAME);
    }

    /** Connects to the server at {@code url} as the manager called {@code name}. */
    public static Manager connect(String url, String name) {
        Objects.requireNonNull(url, "url");
        Config config = new Config();
        config.useSingleServer().setAddress(url);
        config.setLockWatchdogTimeout(DEFAULT_LOCK_LEASE.toMillis()); // dead holders' locks free in seconds, not 30 s
        return connect(config, name);
    }

    /** Connects with Redisson's own configuration (cluster, sentinel, TLS, auth) as manager "default". */
    public static Manager connect(Config config) {
        return connect(config, DEFAULT_NAME);
    }

    /** Connects with Redisson's own configuration as the manager called {@code name}. */
    public static Manager connect(Config config, String name) {
        Objects.requireNonNull(config, "config");
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name=" + name + " must be 1-64 letters, digits, '_' or '-'");
        }
        return new RedisManager(Redisson.create(config), name, String.valueOf(config));
    }

    @Override
    public String name() {
        return name;
    }

    /** The Redisson client this manager uses (for operations the Manager interface does not have). */
    public RedissonClient redisson() {
        return client;
    }

    /** The key of the named object {@code objectName} of kind {@code kind} (for example "dict"). */
    String key(String kind, String objectName) {
        return "mp:" + name + ":" + kind + ":{" + objectName + "}";
    }

    /** A fresh key for an unnamed object of {@code kind}, removed when this connection closes. */
    String newKey(String kind) {
        String key = key(kind, UUID.randomUUID().toString());
        created.add(key);
        return key;
    }

    // ---- containers -------------------------------------------------------------------------------

    @Override
    public <E> List<E> list() {
        throw notYet("list");
    }

    @Override
    public <E> List<E> list(String name) {
        throw notYet("list");
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict() {
        throw notYet("dict");
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict(String name) {
        throw notYet("dict");
    }

    @Override
    public Namespace namespace() {
        throw notYet("namespace");
    }

    @Override
    public Namespace namespace(String name) {
        throw notYet("namespace");
    }

    @Override
    public <T> SharedValueProxy<T> value(T initial) {
        throw notYet("value");
    }

    @Override
    public <T> SharedValueProxy<T> value(String name, T initial) {
        throw notYet("value");
    }

    @Override
    public <E> BlockingQueue<E> queue() {
        throw notYet("queue");
    }

    @Override
    public <E> BlockingQueue<E> queue(int maxItems) {
        throw notYet("queue");
    }

    @Override
    public <T> void register(String typeId, SerializableSupplier<? extends T> factory, Class<T> exposedInterface) {
        throw notYet("register");
    }

    @Override
    public <T> T create(String typeId) {
        throw notYet("create");
    }

    // ---- lifetime ---------------------------------------------------------------------------------

    @Override
    public void close() {
        try {
            if (!created.isEmpty()) {
                client.getKeys().delete(created.toArray(String[]::new));
            }
        } finally {
            try {
                closeSync();
            } finally {
                client.shutdown();
            }
        }
    }

    @Override
    public String toString() {
        return "RedisManager[" + name + " at " + address + "]";
    }

    // ---- synchronization --------------------------------------------------------------------------

    /**
     * The lease of locks made through {@link #connect(String)}: a lock whose holder JVM died is free this
     * long after the holder's last renewal. With {@link #connect(Config)} it is the Config's
     * {@code lockWatchdogTimeout}.
     */
    public static final Duration DEFAULT_LOCK_LEASE = Duration.ofSeconds(5);

    /** Locks, conditions and waits of this connection; created on first use, stopped by close. */
    private volatile RedisSync sync;

    private RedisSync sync() {
        RedisSync s = sync;
        if (s == null) {
            synchronized (this) {
                s = sync;
                if (s == null) {
                    s = new RedisSync(client, client.getConfig().getLockWatchdogTimeout());
                    sync = s;
                }
            }
        }
        return s;
    }

    private void closeSync() {
        RedisSync s;
        synchronized (this) {
            s = sync;
        }
        if (s != null) {
            s.close();
        }
    }

    /** The lease of this connection's locks (see {@link RedisLock}). */
    public Duration lockLease() {
        return Duration.ofMillis(client.getConfig().getLockWatchdogTimeout());
    }

    /** A new Python-style lock (any JVM may unlock), removed when this connection closes. */
    @Override
    public RedisLock lock() {
        return new RedisLock(sync(), "(unnamed)", newKey("lock"), false, true);
    }

    /** The Python-style lock called {@code name}: every connection of this manager name shares it. */
    public RedisLock lock(String name) {
        return new RedisLock(sync(), checkName(name), key("lock", name), false, false);
    }

    /** A new reentrant lock, removed when this connection closes. */
    @Override
    public RedisLock rlock() {
        return new RedisLock(sync(), "(unnamed)", newKey("rlock"), true, true);
    }

    /** The reentrant lock called {@code name}. */
    public RedisLock rlock(String name) {
        return new RedisLock(sync(), checkName(name), key("rlock", name), true, false);
    }

    /** A condition over {@code lock}, which must be a {@link RedisLock} of a Redis manager. */
    @Override
    public RedisCondition condition(Lock lock) {
        return redisLock(lock).newCondition();
    }

    /** The condition called {@code name} over {@code lock} (a RedisLock): every JVM naming both shares it. */
    public RedisCondition condition(String name, Lock lock) {
        return new RedisCondition(sync(), redisLock(lock), checkName(name), false);
    }

    @Override
    public RedisSemaphore semaphore(int permits) {
        return semaphore(newKey("semaphore"), "(unnamed)", permits);
    }

    /** The semaphore called {@code name}, created with {@code permits} permits if it does not exist. */
    public RedisSemaphore semaphore(String name, int permits) {
        return semaphore(key("semaphore", checkName(name)), name, permits);
    }

    private RedisSemaphore semaphore(String key, String name, int permits) {
        return new RedisSemaphore(sync(), name, key, permits);
    }

    @Override
    public RedisEvent event() {
        return new RedisEvent(sync(), "(unnamed)", newKey("event"));
    }

    /** The event called {@code name} (clear when first made). */
    public RedisEvent event(String name) {
        return new RedisEvent(sync(), checkName(name), key("event", name));
    }

    @Override
    public RedisBarrier barrier(int parties) {
        return new RedisBarrier(sync(), "(unnamed)", newKey("barrier"), parties);
    }

    /** The barrier called {@code name}; IllegalArgumentException if it exists with another party count. */
    public RedisBarrier barrier(String name, int parties) {
        return new RedisBarrier(sync(), checkName(name), key("barrier", name), parties);
    }

    private static RedisLock redisLock(Lock lock) {
        if (lock instanceof RedisLock r) {
            return r;
        }
        throw new IllegalArgumentException("lock=" + lock + " is not a lock from a Redis manager's lock() or rlock()");
    }

    private static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name=" + name + " must be 1-64 letters, digits, '_' or '-'");
        }
        return name;
    }

    private static UnsupportedOperationException notYet(String what) {
        return new UnsupportedOperationException("RedisManager." + what + " is being built (issue 10)");
    }
}
