package io.multiproc.redis;

import org.redisson.api.RBlockingQueue;
import org.redisson.api.RFuture;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisBusyException;
import org.redisson.client.RedisClusterDownException;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisException;
import org.redisson.client.RedisLoadingException;
import org.redisson.client.RedisMasterDownException;
import org.redisson.client.RedisNoReplicasException;
import org.redisson.client.RedisNodeNotFoundException;
import org.redisson.client.RedisReconnectedException;
import org.redisson.client.RedisRedirectException;
import org.redisson.client.RedisResponseTimeoutException;
import org.redisson.client.RedisRetryException;
import org.redisson.client.RedisTimeoutException;
import org.redisson.client.RedisTryAgainException;
import org.redisson.client.RedisWaitException;
import org.redisson.client.WriteRedisConnectionException;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.codec.StringCodec;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * The Redis side of one {@link RedisPool}: its keys and every operation on them, used by callers
 * ({@link RedisPool}), workers ({@link RedisPoolWorker}) and worker supervisors alike, so the key scheme
 * and the atomic steps live in one place.
 *
 * <h2>Implementation overview</h2>
 * Keys, all with the hash tag {@code {NAME}} so a pool's keys share one Redis Cluster slot and the Lua
 * scripts below may touch several of them:
 * <pre>
 * mp:pool:{NAME}:queue            list  chunk messages; callers LPUSH, workers BRPOPLPUSH (FIFO)
 * mp:pool:{NAME}:held:WORKER      list  what WORKER took and has not answered (the reliable hand-off)
 * mp:pool:{NAME}:alive:WORKER     string, PX lease: WORKER's heartbeat
 * mp:pool:{NAME}:workers          set   worker ids that may hold chunks
 * mp:pool:{NAME}:caller:CALLER    string, PX lease: the caller's heartbeat (also "Redis kept our data")
 * mp:pool:{NAME}:results:CALLER   list  reply messages for CALLER; workers RPUSH, the caller BLPOPs; PX as caller:CALLER
 * </pre>
 * A chunk moves queue → held by one atomic BRPOPLPUSH, and held → results by one Lua script that pushes
 * the reply only if the chunk was still held ({@link #complete}): each chunk gets at most one reply even
 * if a worker thought dead comes back, or two reapers answer the same dead worker. {@link #reap} answers
 * each of a dead worker's held chunks with a DIED reply through that same script, and forgets the worker
 * only once its held list is empty; so no chunk is lost (a reaper may die half way) and none runs twice.
 */
final class RedisPoolStore {
    private static final String BEAT =
            "redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]); redis.call('sadd', KEYS[2], ARGV[1]); return 1";
    /**
     * Push the reply only if the chunk was still held, and only for a caller that is still there; the
     * replies live as long as the caller's heartbeat (a caller killed with SIGKILL leaves nothing for ever).
     * Returns how many chunks the worker still holds (a take whose reply was lost leaves one).
     */
    private static final String COMPLETE =
            "if redis.call('lrem', KEYS[1], 1, ARGV[1]) == 1 and redis.call('exists', KEYS[3]) == 1 then "
            + "redis.call('rpush', KEYS[2], ARGV[2]) local ttl = redis.call('pttl', KEYS[3]) "
            + "if ttl > 0 then redis.call('pexpire', KEYS[2], ttl) end end return redis.call('llen', KEYS[1])";
    /** A dead worker's held chunks (they stay held until answered); unless forced, only when its heartbeat expired. */
    private static final String REAP =
            "if ARGV[1] == '0' and redis.call('exists', KEYS[2]) == 1 then return {} end "
            + "return redis.call('lrange', KEYS[1], 0, -1)";
    /** Forget a dead worker once it holds nothing (unless forced, only while its heartbeat is still expired). */
    private static final String FORGET =
            "if redis.call('llen', KEYS[1]) > 0 or (ARGV[1] == '0' and redis.call('exists', KEYS[2]) == 1) then return 0 end "
            + "redis.call('del', KEYS[1], KEYS[2]) redis.call('srem', KEYS[3], ARGV[2]) return 1";
    private static final String CALLER_BEAT =
            "local had = redis.call('exists', KEYS[1]) redis.call('set', KEYS[1], '1', 'PX', ARGV[1]) "
            + "redis.call('pexpire', KEYS[2], ARGV[1]) return had";
    private static final String ENQUEUE = "return redis.call('lpush', KEYS[1], unpack(ARGV))";
    /** Remove every queued chunk whose message starts with ARGV[1] (one caller's prefix). */
    private static final String REMOVE_CALLER =
            "local all = redis.call('lrange', KEYS[1], 0, -1) local n = 0 redis.call('del', KEYS[1]) "
            + "for _, m in ipairs(all) do if string.sub(m, 1, #ARGV[1]) == ARGV[1] then n = n + 1 "
            + "else redis.call('rpush', KEYS[1], m) end end return n";
    private static final String REMOVE_SOME =
            "local n = 0 for _, m in ipairs(ARGV) do n = n + redis.call('lrem', KEYS[1], 1, m) end return n";
    /**
     * Remove every queued chunk whose header (caller and id: its first 16 bytes) is one of those the ARGVs
     * hold end to end: one pass over the queue for any number of chunks, where a group of headers per
     * call made a failed map of 100,000 chunks 13 passes that held the single-threaded server 3.1 s
     * (200,000 queued chunks; one pass: 0.54 s). Each ARGV holds at most {@link #HEADERS_PER_ARG}
     * headers (512 KB): Redis takes no argument over its proto-max-bulk-len, which is at least 1 MB.
     */
    private static final String REMOVE_HEADERS =
            "local drop = {} for _, hs in ipairs(ARGV) do for i = 1, #hs, " + RedisPoolFrames.HEADER_BYTES
            + " do drop[string.sub(hs, i, i + " + (RedisPoolFrames.HEADER_BYTES - 1) + ")] = true end end "
            + "local all = redis.call('lrange', KEYS[1], 0, -1) local n = 0 local kept = {} "
            + "for _, m in ipairs(all) do if drop[string.sub(m, 1, " + RedisPoolFrames.HEADER_BYTES + ")] then n = n + 1 "
            + "else kept[#kept + 1] = m end end "
            + "if n > 0 then redis.call('del', KEYS[1]) for i = 1, #kept, 1000 do "
            + "redis.call('rpush', KEYS[1], unpack(kept, i, math.min(i + 999, #kept))) end end return n";
    static final int HEADERS_PER_ARG = 32_768;
    private static final System.Logger LOG = System.getLogger(RedisPoolStore.class.getName());
    /** Lua's unpack takes a few thousand values at most: push in groups. */
    private static final int ENQUEUE_GROUP = 512;
    /** Redis refuses no bulk under this (proto-max-bulk-len's least value): a shorter write cut off is the network's doing. */
    static final int LEAST_BULK_LIMIT = 1 << 20;

    /**
     * Test hook (RedisPoolFaultTest), folded away when off: this JVM halts after reading a dead worker's
     * held chunks, before answering them, as a reaper killed at that point would.
     */
    private static final boolean HALT_AFTER_REAP = Boolean.getBoolean("io.multiproc.redis.test.haltAfterReap");

    private final RedissonClient client;
    private final String pool;
    private final String prefix;

    RedisPoolStore(RedissonClient client, String pool) {
        this.client = client;
        this.pool = pool;
        this.prefix = "mp:pool:{" + pool + "}:";
    }

    String pool() {
        return pool;
    }

    String queueKey() {
        return prefix + "queue";
    }

    /**
     * The pub/sub channel on which a caller asks the workers to interrupt its running chunks: messages
     * {@code CALLER:ID,ID,...} (the caller's id in hex, chunk ids in decimal) or {@code CALLER:*} (all of
     * that caller's). Pub/sub, not a key: a request is only for the chunks running when it is published
     * (one still queued is removed from the queue instead), and nothing is left in Redis.
     */
    String cancelChannel() {
        return prefix + "cancel";
    }

    /** Asks the workers to interrupt chunks {@code ids} of {@code caller} (null: all of its chunks), without waiting. */
    void interruptRunning(long caller, java.util.Collection<Long> ids) {
        StringBuilder m = new StringBuilder(Long.toHexString(caller)).append(':');
        if (ids == null) {
            m.append('*');
        } else {
            for (Long id : ids) {
                m.append(id).append(',');
            }
            m.setLength(m.length() - 1);
        }
        client.getTopic(cancelChannel(), StringCodec.INSTANCE).publishAsync(m.toString());
    }

    /** The channel of {@link #cancelChannel()}, for a worker to listen on. */
    org.redisson.api.RTopic cancels() {
        return client.getTopic(cancelChannel(), StringCodec.INSTANCE);
    }

    String heldKey(String worker) {
        return prefix + "held:" + worker;
    }

    String aliveKey(String worker) {
        return prefix + "alive:" + worker;
    }

    String workersKey() {
        return prefix + "workers";
    }

    String callerKey(long caller) {
        return prefix + "caller:" + Long.toHexString(caller);
    }

    String resultsKey(long caller) {
        return prefix + "results:" + Long.toHexString(caller);
    }

    private RScript bytes() {
        return client.getScript(ByteArrayCodec.INSTANCE);
    }

    private RScript strings() {
        return client.getScript(StringCodec.INSTANCE);
    }

    private static List<Object> keys(String... keys) {
        return List.of((Object[]) keys);
    }

    // ---- callers

    /**
     * Queues chunk messages (FIFO: workers take from the other end), in groups, leaving out message
     * {@code i} once {@code withdrawn(i)} says so (its caller no longer wants it: cancelled, failed,
     * terminated). A message withdrawn while its group was on its way is removed again at once: the
     * caller's own removal of it may have reached Redis before the group did; one withdrawn after its
     * group was queued is the caller's to remove. {@code handedOver}: how many messages went to Redis.
     * Returns at once: the future completes once every group is queued, or with Redisson's failure (the
     * groups after a failed one are not sent). A caller bounds its own wait on it (decision 227).
     */
    CompletableFuture<Void> enqueue(List<byte[]> messages, IntPredicate withdrawn, AtomicInteger handedOver) {
        return enqueueFrom(0, messages, withdrawn, handedOver);
    }

    private CompletableFuture<Void> enqueueFrom(int from, List<byte[]> messages, IntPredicate withdrawn, AtomicInteger handedOver) {
        for (; from < messages.size(); from += ENQUEUE_GROUP) {
            int to = Math.min(messages.size(), from + ENQUEUE_GROUP);
            // NOTE: set before withdrawn is asked, and the caller withdraws before it reads handedOver (both
            // volatile): a message is either left out here or in the caller's own removal
            handedOver.set(to);
            List<Integer> sent = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                if (!withdrawn.test(i)) {
                    sent.add(i);
                }
            }
            if (sent.isEmpty()) {
                continue;
            }
            return bytes().evalAsync(RScript.Mode.READ_WRITE, ENQUEUE, RScript.ReturnType.LONG, keys(queueKey()),
                    sent.stream().map(messages::get).toArray()).toCompletableFuture().thenCompose(pushed -> {
                List<Object> late = new ArrayList<>();
                for (int i : sent) {
                    if (withdrawn.test(i)) {
                        late.add(messages.get(i));
                    }
                }
                // NOTE: just pushed: LREM finds them near the head, where LPUSH put them
                CompletableFuture<?> removal = late.isEmpty() ? CompletableFuture.completedFuture(null)
                        : bytes().evalAsync(RScript.Mode.READ_WRITE, REMOVE_SOME, RScript.ReturnType.LONG, keys(queueKey()),
                                late.toArray()).toCompletableFuture();
                return removal.thenCompose(removed -> enqueueFrom(to, messages, withdrawn, handedOver));
            });
        }
        return CompletableFuture.completedFuture(null);
    }

    /** The failure of an asynchronous command as its synchronous call throws it. */
    static RuntimeException cause(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c instanceof RuntimeException r ? r : new CompletionException(c);
    }

    /**
     * Waits for a command run on a caller's thread ({@code submit}, {@code terminate}) whatever that
     * thread's interrupt status, which stays as it was; Redisson's timeout and retries bound the wait.
     * Its failure is thrown as Redisson's synchronous call throws it.
     */
    private static <T> T uninterruptibly(RFuture<T> command) {
        // NOTE: not the synchronous eval: a caller interrupted while submitting (invokeAll interrupted
        // while it queued its tasks, a thread pool's shutdownNow) got a RedisException for the
        // InterruptedException, taken for Redis failing, and every pending task of the pool was failed
        // with "Redis failed ...; this caller's pending tasks are lost". A JDK executor's submit ignores
        // interrupts; the command runs to its end either way, so the caller learns its real outcome.
        try {
            return command.toCompletableFuture().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Removes one queued chunk (cancelled before a worker took it), asynchronously: nothing to wait for,
     * since a chunk a worker took already is answered anyway and its reply dropped.
     */
    void unqueue(byte[] message) {
        bytes().evalAsync(RScript.Mode.READ_WRITE, "return redis.call('lrem', KEYS[1], 1, ARGV[1])",
                RScript.ReturnType.LONG, keys(queueKey()), message);
    }

    /**
     * Removes these chunks if they are still queued, asynchronously unless {@code wait}, in one pass over
     * the queue (a LREM each would scan the queue once per chunk).
     */
    void unqueueSome(List<byte[]> messages, boolean wait) {
        if (messages.isEmpty()) {
            return;
        }
        Object[] args = new Object[(messages.size() + HEADERS_PER_ARG - 1) / HEADERS_PER_ARG];
        for (int a = 0; a < args.length; a++) {
            int from = a * HEADERS_PER_ARG;
            int n = Math.min(HEADERS_PER_ARG, messages.size() - from);
            byte[] headers = new byte[n * RedisPoolFrames.HEADER_BYTES];
            for (int i = 0; i < n; i++) {
                System.arraycopy(messages.get(from + i), 0, headers, i * RedisPoolFrames.HEADER_BYTES, RedisPoolFrames.HEADER_BYTES);
            }
            args[a] = headers;
        }
        RFuture<Long> removed = bytes().evalAsync(RScript.Mode.READ_WRITE, REMOVE_HEADERS, RScript.ReturnType.LONG,
                keys(queueKey()), args);
        if (wait) {
            uninterruptibly(removed);
        } else {
            removed.whenComplete((n, e) -> {
                if (e != null) {
                    LOG.log(System.Logger.Level.WARNING, "Redis pool " + pool + ": could not remove " + messages.size()
                            + " withdrawn chunks from the queue (they may still run; their results are dropped): " + e);
                }
            });
        }
    }

    /**
     * Starts removing every queued chunk of the caller whose messages start with {@code callerPrefix};
     * the future completes with how many were removed, or with Redisson's failure.
     */
    java.util.concurrent.CompletableFuture<Long> unqueueAll(byte[] callerPrefix) {
        return bytes().<Long>evalAsync(RScript.Mode.READ_WRITE, REMOVE_CALLER, RScript.ReturnType.LONG, keys(queueKey()),
                callerPrefix).toCompletableFuture();
    }

    /** Refreshes the caller's heartbeat; false if the key was gone (first call, or Redis lost its data). */
    boolean callerBeat(long caller, Duration lease) {
        Long had = strings().eval(RScript.Mode.READ_WRITE, CALLER_BEAT, RScript.ReturnType.LONG,
                keys(callerKey(caller), resultsKey(caller)), Long.toString(lease.toMillis()));
        return had != null && had == 1;
    }

    /** The next reply for {@code caller}, waiting at most {@code timeout}; null if none came. */
    byte[] nextResult(long caller, Duration timeout) throws InterruptedException {
        return results(caller).poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Up to {@code max} replies that are already there, without waiting. */
    List<byte[]> moreResults(long caller, int max) {
        return results(caller).poll(max);
    }

    private RBlockingQueue<byte[]> results(long caller) {
        return client.getBlockingQueue(resultsKey(caller), ByteArrayCodec.INSTANCE);
    }

    /** Removes what a caller leaves behind when it closes. */
    void forgetCaller(long caller) {
        client.getKeys().delete(callerKey(caller), resultsKey(caller));
    }

    /** The ids of the workers that may hold chunks (live or not yet reaped). */
    Set<String> workers() {
        return client.<String>getSet(workersKey(), StringCodec.INSTANCE).readAll();
    }

    boolean isAlive(String worker) {
        return client.getBucket(aliveKey(worker), StringCodec.INSTANCE).isExists();
    }

    // ---- workers

    /** Refreshes worker {@code worker}'s heartbeat for {@code lease} and (re)lists it. */
    void beat(String worker, Duration lease) {
        strings().eval(RScript.Mode.READ_WRITE, BEAT, RScript.ReturnType.LONG,
                keys(aliveKey(worker), workersKey()), worker, Long.toString(lease.toMillis()));
    }

    /** The next chunk, moved atomically into {@code worker}'s held list; null if none came within {@code timeout}. */
    byte[] take(String worker, Duration timeout) throws InterruptedException {
        RBlockingQueue<byte[]> queue = client.getBlockingQueue(queueKey(), ByteArrayCodec.INSTANCE);
        return queue.pollLastAndOfferFirstTo(heldKey(worker), timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Answers a held chunk (the reply is dropped if the chunk was no longer held, reaped meanwhile, or its
     * caller is gone). Returns how many chunks {@code worker} still holds: more than none means a take
     * whose reply never reached it ({@link #oldestHeld}).
     */
    long complete(String worker, byte[] chunk, long caller, byte[] reply) {
        Long n = bytes().eval(RScript.Mode.READ_WRITE, COMPLETE, RScript.ReturnType.LONG,
                keys(heldKey(worker), resultsKey(caller), callerKey(caller)), chunk, reply);
        return n != null ? n : 0;
    }

    /**
     * The oldest chunk in {@code worker}'s held list, or null. A live worker answers each chunk before
     * its next take, so one it holds and is not running is a take whose reply was lost on the way
     * (Redis moved it; the worker never saw it): never run, so running it now keeps "at most once".
     */
    byte[] oldestHeld(String worker) {
        return client.<byte[]>getDeque(heldKey(worker), ByteArrayCodec.INSTANCE).peekLast();
    }


    // ---- anyone

    /**
     * Whether {@code e} is Redis's error reply to a command it refused (too big, wrong type, out of
     * memory...), as opposed to Redis being unreachable, slow, loading or failing over: retrying the same
     * command cannot help, and Redis itself is fine.
     */
    static boolean refused(RuntimeException e) {
        // NOTE: an error reply is a RedisException without a cause; Redisson wraps a failure on the way to
        // Redis in a plain RedisException too ("Unexpected exception while processing command"), with a cause
        return e instanceof RedisException && e.getCause() == null && !(e instanceof RedisConnectionException || e instanceof RedisTimeoutException
                || e instanceof RedisResponseTimeoutException || e instanceof RedisNodeNotFoundException
                || e instanceof RedisRetryException || e instanceof RedisReconnectedException || e instanceof RedisLoadingException
                || e instanceof RedisBusyException || e instanceof RedisClusterDownException || e instanceof RedisMasterDownException
                || e instanceof RedisTryAgainException || e instanceof RedisNoReplicasException || e instanceof RedisRedirectException
                || e instanceof RedisWaitException);
    }

    /**
     * Whether Redisson could not finish writing a command on its connection: Redis closes the connection
     * as soon as it reads a bulk length over its {@code proto-max-bulk-len}, so a client still writing a
     * big command sees this, not the error reply (always for tens of MB; on a loaded machine at 2 MB).
     * Only a command with a bulk of at least {@link #LEAST_BULK_LIMIT} can be refused so: see
     * {@link #cutOff}.
     */
    static boolean writeFailed(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof WriteRedisConnectionException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code e}, for a command whose largest bulk is {@code largestBulk} bytes, is Redis refusing
     * that bulk by closing the connection (decision 179): the write was cut, the bulk is one Redis may
     * refuse, and Redis answers a trivial script on the queue's node within 2 s. A shorter write cut off is
     * the network's doing, a failure as before.
     */
    boolean cutOff(RuntimeException e, long largestBulk) {
        return largestBulk >= LEAST_BULK_LIMIT && writeFailed(e) && answers(Duration.ofSeconds(2));
    }

    /** Whether Redis answers a trivial script on the queue's node within {@code within}, whatever the thread's interrupt status. */
    private boolean answers(Duration within) {
        java.util.concurrent.CompletableFuture<Object> probe = bytes()
                .evalAsync(RScript.Mode.READ_ONLY, "return 1", RScript.ReturnType.LONG, keys(queueKey())).toCompletableFuture();
        long deadline = System.nanoTime() + within.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    probe.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    return true;
                } catch (InterruptedException ie) {
                    interrupted = true; // NOTE: kept for the caller; an interrupted submit is no Redis failure
                } catch (ExecutionException | TimeoutException failed) {
                    return false;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Answers the chunks a dead {@code worker} held with {@code died(chunk)} and then forgets the worker:
     * always when {@code force} (its supervisor saw it exit), else only if its heartbeat has expired.
     * Each chunk leaves the held list in the same script that pushes its answer ({@link #complete}), and
     * the worker's keys go only once it holds nothing: a reaper that dies or fails half way leaves what
     * it did not answer held, for the next reaper (any caller, once the heartbeat has expired).
     */
    void reap(String worker, boolean force, Function<byte[], byte[]> died) {
        byte[] forced = (force ? "1" : "0").getBytes(StandardCharsets.UTF_8);
        List<Object> held = bytes().eval(RScript.Mode.READ_WRITE, REAP, RScript.ReturnType.LIST,
                keys(heldKey(worker), aliveKey(worker)), forced);
        if (held != null) {
            for (Object o : held) {
                byte[] chunk = (byte[]) o;
                if (HALT_AFTER_REAP) {
                    Runtime.getRuntime().halt(99);
                }
                complete(worker, chunk, RedisPoolFrames.header(chunk)[0], died.apply(chunk));
            }
        }
        bytes().eval(RScript.Mode.READ_WRITE, FORGET, RScript.ReturnType.LONG,
                keys(heldKey(worker), aliveKey(worker), workersKey()), forced, worker.getBytes(StandardCharsets.UTF_8));
    }
}
