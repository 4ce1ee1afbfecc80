package io.multiproc.redis;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.redisson.client.codec.BaseCodec;
import org.redisson.client.protocol.Decoder;
import org.redisson.client.protocol.Encoder;
import org.redisson.client.protocol.RedisCommands;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * multiproc's {@link Codec} as a Redisson codec: every value a {@link RedisManager} stores in Redis is the
 * bytes {@link Codec#defaultCodec()} writes, so what travels through a local queue or manager travels
 * through Redis too (records, enums, JDK collections, allowed Serializable classes), with the same
 * allow-list on decoding. Never Kryo or Fory: both need {@code sun.misc.Unsafe}.
 *
 * <pre>{@code
 * RList<Trade> trades = redissonClient.getList("trades", new RedisCodec());
 * trades.add(new Trade(1, "ACME", 9.5, 100));   // stored as multiproc codec bytes
 * }</pre>
 *
 * <p>Thread-safe; the no-argument constructor is what Redisson's YAML configuration instantiates.
 */
public final class RedisCodec extends BaseCodec {

    /** The instance the manager's objects use. */
    public static final RedisCodec INSTANCE = new RedisCodec();

    private final Codec codec;

    private final Encoder encoder = this::encode;
    /** A hash's fields (Redisson's map key encoder): {@link Codec#encodeKey}, so equal keys are one field. */
    private final Encoder keyEncoder = this::encodeKey;
    private final Decoder<Object> decoder = (buf, state) -> decode(buf);

    /** Over {@link Codec#defaultCodec()}. */
    public RedisCodec() {
        this(Codec.defaultCodec());
    }

    /** Over {@code codec} (for example a {@code BuiltinCodec} with a narrower allow-list). */
    public RedisCodec(Codec codec) {
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    static {
        scriptsAreNotResent();
    }

    /**
     * Redisson sends a command again when its reply is later than the timeout (the retry attempts) unless
     * the command is blocking or named in {@link RedisCommands#NO_RETRY}; that list has RPUSH, INCR and
     * SETNX but no scripts, and every write of ours is a script (RMap.put too): a slow reply ran a put, a
     * semaphore release or a pool enqueue twice, and the second run's answer (put's previous value: its
     * own new value) came back. Named here, a late script fails the call after one timeout and runs at most
     * once; retries before a command is sent (no connection yet, Redis restarting) stay (decision 141).
     * NO_RETRY is Redisson's public mutable set, read by its I/O threads: the names go in once, when this
     * class loads, before multiproc creates a client (every create passes through {@link #ensureOn}).
     */
    private static void scriptsAreNotResent() {
        RedisCommands.NO_RETRY.addAll(java.util.List.of("EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL"));
    }

    /**
     * Gives {@code config} this codec if it has none, and returns it. Every {@code Redisson.create} of
     * multiproc goes through this: Redisson's default codec is Kryo, which multiproc-redis excludes (it
     * needs {@code sun.misc.Unsafe}), so a configuration without a codec would fail with
     * NoClassDefFoundError. Loading this class also stops Redisson re-sending scripts whose reply is late
     * ({@link #scriptsAreNotResent}).
     */
    public static org.redisson.config.Config ensureOn(org.redisson.config.Config config) {
        if (config.getCodec() == null) {
            config.setCodec(INSTANCE);
        }
        return config;
    }

    /** Bytes passed to a Lua script as they are (an index, a marker), not as codec bytes. */
    record Raw(byte[] bytes) {
        static Raw of(long number) {
            return new Raw(Long.toString(number).getBytes(StandardCharsets.US_ASCII));
        }

        static Raw of(String text) {
            return new Raw(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private ByteBuf encode(Object value) {
        if (value instanceof Raw raw) {
            return Unpooled.wrappedBuffer(raw.bytes());
        }
        BufferSink out = new BufferSink(64);
        codec.encode(value, out);
        return Unpooled.wrappedBuffer(out.array(), 0, out.size());
    }

    /**
     * A dict's key or a set's element: Redis finds a hash field or a set member by its bytes, so it is written
     * in the codec's key form, where values equal by {@code equals} share their bytes (a Set or Map in
     * canonical order, not its iteration order: an equal LinkedHashSet in another order, a Set.of of another
     * JVM). Decision 212.
     */
    private ByteBuf encodeKey(Object value) {
        if (value instanceof Raw raw) {
            return Unpooled.wrappedBuffer(raw.bytes());
        }
        BufferSink out = new BufferSink(64);
        codec.encodeKey(value, out);
        return Unpooled.wrappedBuffer(out.array(), 0, out.size());
    }

    /**
     * {@code k} as a script's argument or a set member: its key bytes ({@link #encodeKey}), which the
     * value encoder passes on as they are. A null stays null.
     */
    Object keyArg(Object k) {
        if (k == null || k instanceof Raw) {
            return k;
        }
        BufferSink out = new BufferSink(64);
        codec.encodeKey(k, out);
        return new Raw(out.toByteArray());
    }

    /**
     * Whether a match of {@code stored}'s bytes is a match by {@code equals} and a miss a miss: its class has
     * one encoding per equal value (strings, integral numbers, a non-NaN double, enums, a nested container's
     * ref), or compares by content here as Python's {@code ==} (primitive arrays, as Redis always did). Anything
     * else (a record, a List, a Set or Map inside) may be stored as other bytes than an equal value's (a Set
     * inside in another iteration order), so Redis's byte-comparing commands cannot find it (decision 213).
     */
    static boolean bytesDecideEquality(Object stored) {
        return stored == null || stored instanceof String || stored instanceof Integer || stored instanceof Long
                || stored instanceof Boolean || stored instanceof Short || stored instanceof Byte
                || stored instanceof Character || stored instanceof Enum<?> || stored instanceof NestedRef
                || stored instanceof Double d && !d.isNaN() || stored instanceof Float f && !f.isNaN()
                || stored.getClass().isArray() && stored.getClass().getComponentType().isPrimitive();
    }

    private Object decode(ByteBuf buf) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return decodeFromRedis(bytes);
    }

    /**
     * Set while a thread decodes bytes read from Redis. NOTE: whoever can write to the Redis can store a
     * proxy's or manager's handle there, and decoding one builds a Redisson client from the configuration
     * it carries (connecting where it says, with {@code ${ENV}} values filled in): read from Redis, a
     * handle decodes only if a client of this JVM already uses its configuration, compared as a string,
     * so a foreign one is never parsed (decision 186).
     */
    private static final ThreadLocal<Boolean> FROM_REDIS = new ThreadLocal<>();

    private Object decodeFromRedis(byte[] bytes) {
        boolean outer = FROM_REDIS.get() != null;
        FROM_REDIS.set(Boolean.TRUE);
        try {
            return codec.decode(SegmentSource.of(bytes));
        } finally {
            if (!outer) {
                FROM_REDIS.remove();
            }
        }
    }

    /** Refuses a handle read from Redis whose configuration no client of this JVM uses (see {@link #FROM_REDIS}). */
    static void checkFromRedis(String config) throws java.io.InvalidObjectException {
        if (FROM_REDIS.get() != null && !Clients.uses(config)) {
            throw new java.io.InvalidObjectException("a handle read from Redis names a Redis configuration no client of"
                    + " this JVM uses: refused, so that whoever can write to Redis cannot make this JVM connect"
                    + " elsewhere (decision 186)");
        }
    }

    /**
     * Arguments encoded as {@link #INSTANCE} does, replies handed back as the bytes stored ({@code byte[]}):
     * what a compare-and-set read must keep, since a value read back does not always encode to the same
     * bytes again (a HashSet inside a JDK-serialized part carries its table capacity).
     */
    static final BaseCodec STORED_BYTES = new BaseCodec() {
        @Override
        public Decoder<Object> getValueDecoder() {
            return org.redisson.client.codec.ByteArrayCodec.INSTANCE.getValueDecoder();
        }

        @Override
        public Encoder getValueEncoder() {
            return INSTANCE.getValueEncoder();
        }

        @Override
        public ClassLoader getClassLoader() {
            return RedisCodec.class.getClassLoader();
        }
    };

    /** The value stored as {@code bytes} (as read through {@link #STORED_BYTES}). */
    Object decodeStored(byte[] bytes) {
        return decodeFromRedis(bytes);
    }

    /**
     * Whether {@code key} can be encoded at all: lookups of one that cannot are simply absent (nothing
     * was stored under it; Map.get answers null, where a CodecException broke HashMap.equals).
     */
    static boolean encodes(Object key) {
        // The common key types always encode: skip the probe's second encode on every lookup.
        if (key instanceof String || key instanceof Integer || key instanceof Long) {
            return true;
        }
        try {
            INSTANCE.bytesOf(key);
            return true;
        } catch (IllegalArgumentException refused) { // CodecException is one
            return false;
        }
    }

    /** The bytes {@code value} is stored as (what a Lua script compares). */
    byte[] bytesOf(Object value) {
        BufferSink out = new BufferSink(64);
        codec.encode(value, out);
        return out.toByteArray();
    }

    @Override
    public Decoder<Object> getValueDecoder() {
        return decoder;
    }

    @Override
    public Encoder getValueEncoder() {
        return encoder;
    }

    @Override
    public Encoder getMapKeyEncoder() {
        return keyEncoder;
    }

    @Override
    public ClassLoader getClassLoader() {
        return RedisCodec.class.getClassLoader();
    }
}
