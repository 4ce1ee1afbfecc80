package io.multiproc.redis;

import io.multiproc.codec.HandleSource;
import io.multiproc.codec.SharedHandle;
import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.manager.SerializableSupplier;
import io.multiproc.manager.SharedValueProxy;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisException;
import org.redisson.client.RedisResponseTimeoutException;
import org.redisson.client.RedisTimeoutException;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
public final class RedisManager implements Manager, HandleSource, Serializable {

    @Serial
    private static final long serialVersionUID = 1L;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    /** The manager name {@link #connect(String)} uses. */
    public static final String DEFAULT_NAME = "default";

    /**
     * Timeouts of {@link #connect(String)}: a server that is down fails the connect after one connect
     * timeout, and a command to a server that died mid-run fails after at most
     * {@code (COMMAND_TIMEOUT + RETRY_DELAY) x (RETRY_ATTEMPTS + 1)}, about 8 s (decision 104). A script
     * whose reply is late is not sent again but fails after one timeout (decision 141).
     */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);
    static final Duration RETRY_DELAY = Duration.ofMillis(500);
    static final int RETRY_ATTEMPTS = 2;

    /** Managers that proxies arriving from other JVMs attached, by configuration and name; never closed. */
    private static final Map<List<String>, RedisManager> ATTACHED = new ConcurrentHashMap<>();

    private final transient RedissonClient client;
    private final transient String name;
    private final transient String address;
    /** The configuration as YAML: the shared client's key, and what travelling proxies carry. */
    private final transient String configYaml;
    /** False for a manager a travelling proxy attached: its close would remove nothing. */
    private final transient boolean owner;
    /** Set by close() (any thread of this JVM); proxies read it before each operation. */
    private transient volatile boolean closed;
    /** Set by the one close() that does the work (any thread). */
    private final transient java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    /**
     * Unnamed objects this connection created, by key, until close or their release (decision 166)
     * removes them; written by any thread of this JVM and by the release thread.
     */
    private final transient Map<String, Made> created = new ConcurrentHashMap<>();
    final transient Nesting nesting = new Nesting(this);
    /** Receipts of pops from this connection's unbounded queues, sent in batches (decision 255). */
    final transient QueueReceipts receipts = new QueueReceipts(this);

    private RedisManager(RedissonClient client, String name, String address, String configYaml, boolean owner) {
        this.client = client;
        this.name = name;
        this.address = address;
        this.configYaml = configYaml;
        this.owner = owner;
    }

    /** Connects to the server at {@code url} ({@code redis://host:port} or {@code rediss://...}) as manager "default". */
    public static Manager connect(String url) {
        return connect(url, DEFAULT_NAME);
    }

    /**
     * Connects to the server at {@code url} as the manager called {@code name}, with short timeouts: a
     * server that is down fails within {@link #CONNECT_TIMEOUT}, naming the address.
     */
    public static Manager connect(String url, String name) {
        return connect(configFor(url), name);
    }

    /** Connects with Redisson's own configuration (cluster, sentinel, TLS, auth) as manager "default". */
    public static Manager connect(Config config) {
        return connect(config, DEFAULT_NAME);
    }

    /**
     * Connects with Redisson's own configuration as the manager called {@code name}. The manager's objects
     * use {@link RedisCodec} whatever the configuration's codec (a configuration without one is given
     * RedisCodec). Connections with the same configuration in one JVM share one Redisson client. Proxies
     * carry the configuration (as YAML, a password included) when they travel to another JVM.
     */
    public static Manager connect(Config config, String name) {
        Objects.requireNonNull(config, "config");
        checkManagerName(name);
        // Redisson's copy constructor fills a missing codec with its default, Kryo, which is not on the class path
        RedisCodec.ensureOn(config);
        Config copy = new Config(config);
        copy.setCodec(RedisCodec.INSTANCE);
        String yaml = Clients.yamlOf(copy);
        RedissonClient client = Clients.acquire(yaml, copy);
        return new RedisManager(client, name, Clients.addressOf(copy), yaml, true);
    }

    /**
     * Redisson's configuration for {@code url} with the timeouts of {@link #connect(String, String)} and
     * {@link RedisCodec}: a start for {@link #connect(Config, String)} or for plain Redisson beside a manager.
     */
    public static Config configFor(String url) {
        Objects.requireNonNull(url, "url");
        Config config = new Config();
        config.useSingleServer().setAddress(url)
                .setConnectTimeout((int) CONNECT_TIMEOUT.toMillis())
                .setTimeout((int) COMMAND_TIMEOUT.toMillis())
                .setRetryAttempts(RETRY_ATTEMPTS)
                .setRetryDelay(new ConstantDelay(RETRY_DELAY))
                .setConnectionMinimumIdleSize(1)
                .setSubscriptionConnectionMinimumIdleSize(1);
        config.setLockWatchdogTimeout(DEFAULT_LOCK_LEASE.toMillis()); // dead holders' locks free in seconds, not 30 s
        config.setCodec(RedisCodec.INSTANCE);
        return config;
    }

    /** The manager a proxy from another JVM attaches to: this JVM's shared client for {@code yaml}. */
    static RedisManager attached(String yaml, String name) {
        return ATTACHED.computeIfAbsent(List.of(yaml, name), k -> {
            Config config = Clients.fromYaml(yaml);
            config.setCodec(RedisCodec.INSTANCE);
            return new RedisManager(Clients.acquire(yaml, config), name, Clients.addressOf(config), yaml, false);
        });
    }

    /** The attached managers' clients are being shut down (a child's task ended): attach afresh next time. */
    static void forgetAttached() {
        for (RedisManager m : ATTACHED.values()) {
            RedisSync s = m.sync;
            if (s != null) {
                s.stopKeeper();
            }
        }
        ATTACHED.clear();
    }

    /**
     * Deletes every key of the manager called {@code name} on the server at {@code url}, named objects
     * included (they outlive {@link #close()} on purpose); returns how many keys were deleted.
     */
    public static long deleteAll(String url, String name) {
        checkManagerName(name);
        try (RedisManager m = (RedisManager) connect(url, name)) {
            // destroy() keeps bounded queues' capacity semaphores for proxies still in use; after a crash
            // nothing uses them, and they are Redisson's keys outside the manager's prefix
            return m.destroy() + m.client.getKeys().deleteByPattern(CAPACITY_PREFIX + "mp:" + name + ":*");
        }
    }

    /** Redisson's prefix of a bounded queue's capacity semaphore: prefixName("redisson_bqs", key). */
    private static final String CAPACITY_PREFIX = "redisson_bqs:";

    /** The capacity semaphore's key of the bounded queue at {@code queueKey}. */
    static String capacityKey(String queueKey) {
        return CAPACITY_PREFIX + queueKey;
    }

    /**
     * Deletes every key of this manager's name, named objects included, for every connection using the
     * name; returns how many keys were deleted. The manager stays usable (its objects start empty).
     */
    public long destroy() {
        check();
        // created stays: the manager stays usable, and an unnamed object used again after this must still go at close
        // A bounded queue's free capacity is a Redisson semaphore outside mp:<name>:*: deleting only the items
        // left it at zero (offer false, put blocked forever); deleting it too would do the same, since a
        // missing semaphore has no permits and the bound is stored nowhere else. So each bounded queue's items
        // go in one script that counts them, and as many permits come back (waking a put waiting for room).
        // The queues are left out of the bulk delete: a put woken by the release, or an offer racing with
        // destroy, must not have its item deleted after its permit was taken.
        java.util.Set<String> queues = new java.util.HashSet<>();
        for (String capacity : client.getKeys().getKeysByPattern(CAPACITY_PREFIX + "mp:" + name + ":*")) {
            queues.add(capacity.substring(CAPACITY_PREFIX.length()));
        }
        long deleted = 0;
        List<String> batch = new java.util.ArrayList<>();
        for (String key : client.getKeys().getKeysByPattern("mp:" + name + ":*")) {
            if (!queues.contains(key)) {
                batch.add(key);
            }
            if (batch.size() == 1000) {
                deleted += client.getKeys().delete(batch.toArray(String[]::new));
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            deleted += client.getKeys().delete(batch.toArray(String[]::new));
        }
        for (String queue : queues) {
            long items = Lua.<Long>eval(client, queue, Lua.QUEUE_TAKE_COUNT, org.redisson.api.RScript.ReturnType.LONG,
                    List.of(queue));
            if (items > 0) {
                deleted++;
                client.getSemaphore(CAPACITY_PREFIX + queue).release((int) items);
            }
        }
        return deleted;
    }

    /** A manager captured by a child's task or sent through a queue re-attaches in the receiving JVM. */
    @Serial
    Object writeReplace() {
        return new Handle(configYaml, name);
    }

    /** How a manager travels: its configuration and name (see {@link RedisHandle} for proxies). */
    record Handle(String config, String manager) implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            RedisCodec.checkFromRedis(config);
            return attached(config, manager);
        }
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

    /**
     * A fresh key for an unnamed object of {@code kind}, removed when this connection closes. A manager
     * that arriving proxies attached never closes: its objects are named as nested ones, so that counting
     * frees them (decision 155).
     */
    String newKey(String kind) {
        String key = key(kind, (owner ? "~" : NESTED) + UUID.randomUUID());
        created.put(key, new Made(kind));
        return key;
    }

    /**
     * An unnamed object this connection made (decision 166). {@code escaped} is set (volatile) by any
     * thread of this JVM when a proxy of it is written for another process or stored into a container;
     * the release thread reads it.
     */
    static final class Made {
        final String kind;
        volatile boolean escaped;

        Made(String kind) {
            this.kind = kind;
        }
    }

    /** Releases unnamed objects whose proxies became garbage (conditions too); its one daemon thread may wait on Redis. */
    static final java.lang.ref.Cleaner RELEASES = java.lang.ref.Cleaner.create(r -> {
        Thread t = new Thread(r, "multiproc-redis-release");
        t.setDaemon(true);
        return t;
    });

    /**
     * Returns {@code proxy}, the one proxy this JVM has of the unnamed object at {@code key} it just made:
     * once the proxy is garbage, the object is removed unless it escaped (decision 166). Without this, a
     * program making an object per job on one long-lived connection grew Redis (and {@link #created})
     * until it closed the manager.
     */
    private <T> T released(T proxy, String key) {
        Made made = created.get(key);
        if (made != null) {
            RELEASES.register(proxy, () -> release(key, made));
        }
        return proxy;
    }

    /**
     * Marks the unnamed object at {@code key} as known outside this JVM, referenced, or the source of a
     * nested proxy ({@link Nesting#fromStored}): it stays until close.
     */
    void escaped(String key) {
        Made made = created.get(key);
        if (made != null) {
            made.escaped = true;
        }
    }

    /** From the release thread: the last proxy of an object that never escaped is garbage. */
    private void release(String key, Made made) {
        // NOTE: remove(key, made) decides between this and close(): whichever removes the entry drops it
        if (made.escaped || closed || !created.remove(key, made)) {
            return;
        }
        try {
            drop(key, made.kind);
        } catch (RuntimeException serverOrClientDown) {
            if (!closed) {
                created.putIfAbsent(key, made); // close tries again
            }
        }
    }

    /**
     * Removes the unnamed object at {@code key}: a container only if no container references it (else it is
     * marked to go with its last reference), a synchronization object with the keys derived from it.
     */
    private void drop(String key, String label) {
        Kind kind = kindOrNull(label);
        if (kind != null) {
            nesting.dropIfUnreferenced(kind, key);
            return;
        }
        RedisSync s;
        synchronized (this) {
            s = sync;
        }
        List<String> keys = new java.util.ArrayList<>();
        keys.add(key);
        if (s != null) {
            keys.addAll(s.forget(key));
        }
        client.getKeys().delete(keys.toArray(String[]::new));
    }

    /** How many keys derived from unnamed objects (markers, condition queues) this connection tracks: for tests. */
    int derivedKeys() {
        RedisSync s;
        synchronized (this) {
            s = sync;
        }
        return s == null ? 0 : s.derivedKeyCount();
    }

    /** How many unnamed objects this connection would remove at close: for tests. */
    int unnamedObjects() {
        return created.size();
    }

    /**
     * A fresh key for a nested object: it lives while a container references it (decision 102). Its name
     * starts with "~n", which a made object's ("~" and a UUID's hex digit) never does.
     */
    String nestedKey(Kind kind) {
        return key(kind.label, NESTED + UUID.randomUUID());
    }

    private static final String NESTED = "~n";

    /** Unnamed objects' names start with '~', which user names cannot contain. */
    boolean isUnnamed(String key) {
        return key.contains(":{~");
    }

    /**
     * True for an unnamed object a manager made (m.list(), m.queue(n), ...) rather than one nested by
     * storing a plain collection: it is its manager's until that manager closes.
     */
    boolean isMade(String key) {
        return isUnnamed(key) && !key.contains(":{" + NESTED);
    }

    String configYaml() {
        return configYaml;
    }

    boolean sameServer(RedisManager other) {
        return other == this || configYaml.equals(other.configYaml);
    }

    /** The server's address, for the messages of the objects this manager made. */
    String address() {
        return address;
    }

    /** Throws IllegalStateException naming the manager once it is closed. */
    void check() {
        if (closed) {
            throw new IllegalStateException("RedisManager '" + name + "' at " + address + " is closed");
        }
    }

    /**
     * What an operation throws when Redisson could not reach the server (connection refused or lost, no
     * answer within the command timeout after the retries of decision 104): IllegalStateException naming
     * the manager and the address. Other Redis errors pass through unchanged.
     */
    RuntimeException unavailable(RedisException e) {
        boolean connection = e instanceof RedisConnectionException || e instanceof RedisTimeoutException
                || e instanceof RedisResponseTimeoutException;
        for (Throwable c = e.getCause(); c != null && !connection; c = c.getCause()) {
            connection = c instanceof java.io.IOException;
        }
        if (!connection) {
            return e;
        }
        return new IllegalStateException("RedisManager '" + name + "': the server at " + address
                + " did not answer (" + e.getMessage() + "); operations fail like this until it is back", e);
    }

    /** One operation of a proxy on the server; {@code X} lets a blocking one throw InterruptedException. */
    @FunctionalInterface
    interface Call<T, X extends Exception> {
        T run() throws X;
    }

    /** {@link Call} with no result. */
    @FunctionalInterface
    interface Exec<X extends Exception> {
        void run() throws X;
    }

    /**
     * The one wrapper every proxy method goes through: a closed manager throws IllegalStateException
     * naming it ({@link #check}), a server that cannot be reached becomes {@link #unavailable}. The
     * calling thread's interrupt is set aside during the call and given back afterwards, as the local
     * manager's containers do: Redisson's synchronous calls throw for an interrupted thread, some after
     * the command was sent, so an {@code add} that threw might have happened (or, retried, happen twice).
     * Only the blocking queue calls answer interrupts ({@link #callBlocking}).
     */
    <T, X extends Exception> T call(Call<T, X> op) throws X {
        check();
        boolean interrupted = Thread.interrupted();
        try {
            return op.run();
        } catch (RedisException down) {
            throw unavailable(down);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@link #call} for an operation with no result. */
    <X extends Exception> void exec(Exec<X> op) throws X {
        call(() -> {
            op.run();
            return null;
        });
    }

    /** {@link #call} for a call that may wait (a queue's put, take, timed offer and poll): an interrupt ends it with InterruptedException. */
    <T> T callBlocking(Call<T, InterruptedException> op) throws InterruptedException {
        check();
        if (Thread.interrupted()) {
            throw new InterruptedException(); // before anything is sent: nothing happened
        }
        try {
            return op.run();
        } catch (RedisException down) {
            if (down.getCause() instanceof InterruptedException) {
                InterruptedException e = new InterruptedException("interrupted while waiting on RedisManager '" + name + "'");
                e.initCause(down);
                throw e;
            }
            throw unavailable(down);
        }
    }

    /** A proxy of the object of {@code kind} at {@code key}. */
    @SuppressWarnings("unchecked")
    <T> T proxy(Kind kind, String key) {
        check();
        return (T) switch (kind) {
            case LIST -> new RedisList<>(this, key);
            case DICT -> new RedisDict<>(this, key);
            case NAMESPACE -> new RedisNamespace(this, key);
            case SET -> new RedisSet<>(this, key);
            case VALUE -> new RedisValue<>(this, key);
            case QUEUE -> new RedisQueue<>(this, key, false);
            case BOUNDED_QUEUE -> new RedisQueue<>(this, key, true);
        };
    }

    /** A proxy of a new unnamed object of {@code kind}, released when it is garbage (decision 166). */
    private <T> T made(Kind kind) {
        String key = newKey(kind.label);
        return released(proxy(kind, key), key);
    }

    // ---- containers -------------------------------------------------------------------------------

    @Override
    public <E> List<E> list() {
        return made(Kind.LIST);
    }

    @Override
    public <E> List<E> list(String name) {
        return proxy(Kind.LIST, key(Kind.LIST.label, checkName(name)));
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict() {
        return made(Kind.DICT);
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict(String name) {
        return proxy(Kind.DICT, key(Kind.DICT.label, checkName(name)));
    }

    @Override
    public Namespace namespace() {
        return made(Kind.NAMESPACE);
    }

    @Override
    public Namespace namespace(String name) {
        return proxy(Kind.NAMESPACE, key(Kind.NAMESPACE.label, checkName(name)));
    }

    @Override
    public <T> SharedValueProxy<T> value(T initial) {
        RedisValue<T> v = made(Kind.VALUE);
        v.set(initial);
        return v;
    }

    @Override
    public <T> SharedValueProxy<T> value(String name, T initial) {
        RedisValue<T> v = proxy(Kind.VALUE, key(Kind.VALUE.label, checkName(name)));
        v.setIfAbsent(initial);
        return v;
    }

    @Override
    public <E> BlockingQueue<E> queue() {
        return made(Kind.QUEUE);
    }

    @Override
    public <E> BlockingQueue<E> queue(int maxItems) {
        if (maxItems <= 0) {
            throw new IllegalArgumentException("maxItems=" + maxItems + " must be > 0");
        }
        RedisQueue<E> q = made(Kind.BOUNDED_QUEUE);
        q.bound(maxItems);
        return q;
    }

    /**
     * Refused: a custom type's object would need a server process holding it, which is what Redis
     * replaces (decision 105). Keep such objects in a local manager, or store their state in a dict.
     */
    @Override
    public <T> void register(String typeId, SerializableSupplier<? extends T> factory, Class<T> exposedInterface) {
        throw customTypes();
    }

    /** Refused, like {@link #register}. */
    @Override
    public <T> T create(String typeId) {
        throw customTypes();
    }

    private static UnsupportedOperationException customTypes() {
        return new UnsupportedOperationException("RedisManager has no custom types (register/create): they need a"
                + " server process holding the object; use a local Manager for them, or keep their state in a dict"
                + " (decision 105)");
    }

    // ---- lifetime ---------------------------------------------------------------------------------

    /**
     * Removes the unnamed objects this connection created that no container references (and the nested
     * objects only they referenced), then releases the connection. Named objects persist for other
     * connections; {@link #destroy()} or {@link #deleteAll} removes them. A proxy used afterwards throws
     * IllegalStateException naming the manager. A manager that arriving proxies attached is not closed.
     * <p>With the server down or slow, every object is still tried and the connection is still released;
     * then IllegalStateException names the manager and how many objects stayed in Redis (removed by
     * {@link #destroy()} or {@link #deleteAll} later), with the first failure as its cause.
     */
    @Override
    public void close() {
        // NOTE: one close does the work: two at once released the shared client twice, shutting it down
        // under the other managers of this JVM that use it
        if (closed || !owner || !closing.compareAndSet(false, true)) {
            return;
        }
        RuntimeException failed = null;
        int tried = 0;
        int kept = 0;
        boolean syncKept = false;
        try {
            // NOTE: before the drops: a receipt that ran after its queue was deleted could put an item back into it
            receipts.flushNow();
            // NOTE: every entry is tried, not up to the first failure: a close that stopped there left each later
            // object in Redis for ever (no TTL, and closed=true stops later cleanups); a slow server may answer them
            for (Map.Entry<String, Made> e : created.entrySet()) {
                Made made = e.getValue();
                if (!created.remove(e.getKey(), made)) {
                    continue; // released meanwhile
                }
                tried++;
                try {
                    drop(e.getKey(), made);
                } catch (RuntimeException notDropped) {
                    kept++;
                    failed = firstOrSuppressed(failed, notDropped);
                }
            }
        } finally {
            closed = true;
            try {
                closeSync();
            } catch (RuntimeException syncKeysKept) {
                syncKept = true;
                failed = firstOrSuppressed(failed, syncKeysKept);
            } finally {
                Clients.release(configYaml);
            }
        }
        if (failed != null) {
            throw notClosedCleanly(kept, tried, syncKept, failed);
        }
    }

    /** At close: deletes one unnamed object this connection made, unless a container references it. */
    private void drop(String key, Made made) {
        Kind kind = kindOrNull(made.kind);
        if (kind == null) {
            client.getKeys().delete(key); // a synchronization object: its derived keys go with closeSync
        } else {
            nesting.dropIfUnreferenced(kind, key);
        }
    }

    private static RuntimeException firstOrSuppressed(RuntimeException first, RuntimeException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /** What close throws when the server failed some of its deletions: the first failure is the cause. */
    private IllegalStateException notClosedCleanly(int kept, int tried, boolean syncKept, RuntimeException first) {
        return new IllegalStateException("RedisManager '" + name + "' at " + address + " closed, but " + kept + " of "
                + tried + " unnamed objects" + (syncKept ? " and the keys of its synchronization objects" : "")
                + " could not be dropped and stay in Redis until destroy() or deleteAll(url, \""
                + name + "\") (" + first.getMessage() + ")", first);
    }

    private static Kind kindOrNull(String label) {
        for (Kind k : Kind.values()) {
            if (k.label.equals(label)) {
                return k;
            }
        }
        return null;
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

    RedisSync sync() {
        check(); // a keeper started after close would never be stopped
        RedisSync s = sync;
        if (s == null) {
            synchronized (this) {
                s = sync;
                if (s == null) {
                    check(); // NOTE: again under the monitor closeSync reads it under: a close between the two left a keeper running
                    s = new RedisSync(this, client, client.getConfig().getLockWatchdogTimeout(), !owner);
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
        String key = newKey(RedisSync.LOCK);
        return released(new RedisLock(sync(), "(unnamed)", key, false, true), key);
    }

    /** The Python-style lock called {@code name}: every connection of this manager name shares it. */
    public RedisLock lock(String name) {
        return new RedisLock(sync(), checkName(name), key(RedisSync.LOCK, name), false, false);
    }

    /** A new reentrant lock, removed when this connection closes. */
    @Override
    public RedisLock rlock() {
        String key = newKey(RedisSync.RLOCK);
        return released(new RedisLock(sync(), "(unnamed)", key, true, true), key);
    }

    /** The reentrant lock called {@code name}. */
    public RedisLock rlock(String name) {
        return new RedisLock(sync(), checkName(name), key(RedisSync.RLOCK, name), true, false);
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
        String key = newKey(RedisSync.SEMAPHORE);
        return released(semaphore(key, "(unnamed)", permits), key);
    }

    /** The semaphore called {@code name}, created with {@code permits} permits if it does not exist. */
    public RedisSemaphore semaphore(String name, int permits) {
        return semaphore(key(RedisSync.SEMAPHORE, checkName(name)), name, permits);
    }

    private RedisSemaphore semaphore(String key, String name, int permits) {
        return new RedisSemaphore(sync(), name, key, permits);
    }

    @Override
    public RedisEvent event() {
        String key = newKey(RedisSync.EVENT);
        return released(new RedisEvent(sync(), "(unnamed)", key), key);
    }

    /** The event called {@code name} (clear when first made). */
    public RedisEvent event(String name) {
        return new RedisEvent(sync(), checkName(name), key(RedisSync.EVENT, name));
    }

    @Override
    public RedisBarrier barrier(int parties) {
        String key = newKey(RedisSync.BARRIER);
        return released(new RedisBarrier(sync(), "(unnamed)", key, parties), key);
    }

    /** The barrier called {@code name}; IllegalArgumentException if it exists with another party count. */
    public RedisBarrier barrier(String name, int parties) {
        return new RedisBarrier(sync(), checkName(name), key(RedisSync.BARRIER, name), parties);
    }

    /**
     * The synchronization object a {@link RedisHandle} from another JVM names, on this (attached)
     * manager: it is not this connection's to delete, so nothing is registered for removal at close.
     */
    Object syncObject(String kind, String key, RedisHandle.Sync s) {
        check();
        return switch (kind) {
            case RedisSync.LOCK -> new RedisLock(sync(), s.name(), key, false, false);
            case RedisSync.RLOCK -> new RedisLock(sync(), s.name(), key, true, false);
            case RedisSync.CONDITION -> new RedisCondition(sync(), s.lock(), s.name(), false);
            case RedisSync.SEMAPHORE -> semaphore(key, s.name(), s.count());
            case RedisSync.EVENT -> new RedisEvent(sync(), s.name(), key);
            case RedisSync.BARRIER -> new RedisBarrier(sync(), s.name(), key, s.count());
            default -> throw new IllegalArgumentException("kind=" + kind
                    + " is not one of lock, rlock, condition, semaphore, event, barrier");
        };
    }

    private static RedisLock redisLock(Lock lock) {
        if (lock instanceof RedisLock r) {
            return r;
        }
        throw new IllegalArgumentException("lock=" + lock + " is not a lock from a Redis manager's lock() or rlock()");
    }

    /** A manager's name: an object's name, and not "pool", whose key prefix is every Redis pool's ({@code mp:pool:}). */
    private static String checkManagerName(String name) {
        checkName(name);
        if (name.equals("pool")) {
            throw new IllegalArgumentException("name=pool is reserved: mp:pool: is the prefix of every Redis pool's keys, "
                    + "so deleteAll(url, \"pool\") would delete them");
        }
        return name;
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
