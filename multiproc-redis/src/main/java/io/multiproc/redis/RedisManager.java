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
            client.shutdown();
        }
    }

    @Override
    public String toString() {
        return "RedisManager[" + name + " at " + address + "]";
    }

    // ---- synchronization --------------------------------------------------------------------------

    @Override
    public Lock lock() {
        throw notYet("lock");
    }

    @Override
    public Lock rlock() {
        throw notYet("rlock");
    }

    @Override
    public Condition condition(Lock lock) {
        throw notYet("condition");
    }

    @Override
    public SemaphoreProxy semaphore(int permits) {
        throw notYet("semaphore");
    }

    @Override
    public EventProxy event() {
        throw notYet("event");
    }

    @Override
    public BarrierProxy barrier(int parties) {
        throw notYet("barrier");
    }

    private static UnsupportedOperationException notYet(String what) {
        return new UnsupportedOperationException("RedisManager." + what + " is being built (issue 10)");
    }
}
