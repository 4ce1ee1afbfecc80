package io.multiproc.redis;

import io.multiproc.manager.SharedValueProxy;
import org.redisson.api.RBucket;
import org.redisson.api.RScript;

import java.io.Serial;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A {@link RedisManager}'s value: one Redis string of codec bytes ({@link RBucket}). {@code updateAndGet}
 * and {@code getAndUpdate} run the function here and store the result with Redisson's compare-and-set
 * (codec bytes compared on the server), retrying when another host changed it meanwhile: atomic across
 * hosts, no lock, the function may run more than once. A value holds a copy: containers stored in it are
 * not turned into nested containers, so a proxy of the same server below its top (in a record, a List) is
 * refused ({@link Nesting#checkValue}); nothing would count that reference.
 */
final class RedisValue<T> implements SharedValueProxy<T>, RedisProxy, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final transient RedisManager m;
    private final transient String key;
    private final transient RBucket<Object> bucket;

    RedisValue(RedisManager m, String key) {
        this.m = m;
        this.key = key;
        this.bucket = m.redisson().getBucket(key, RedisCodec.INSTANCE);
    }

    @Override
    public RedisManager manager() {
        return m;
    }

    @Override
    public String key() {
        return key;
    }

    @Override
    public Kind kind() {
        return Kind.VALUE;
    }

    @Serial
    Object writeReplace() {
        return handle();
    }

    /** A null value is a missing key (Redisson deletes the key for null), read back as null. */
    @SuppressWarnings("unchecked")
    @Override
    public T get() {
        return m.call(() -> (T) bucket.get());
    }

    @Override
    public void set(T value) {
        m.exec(() -> {
            m.nesting.checkValue(value);
            bucket.set(value);
        });
    }

    void setIfAbsent(T value) {
        m.exec(() -> {
            m.nesting.checkValue(value);
            bucket.setIfAbsent(value);
        });
    }

    @SuppressWarnings("unchecked")
    @Override
    public T getAndSet(T value) {
        return m.call(() -> {
            m.nesting.checkValue(value);
            Object[] args = value == null ? new Object[0] : new Object[] {value}; // null deletes, as set(null) does
            return (T) Lua.eval(m.redisson(), key, Lua.STRING_GET_SET, RScript.ReturnType.VALUE, List.of(key), args);
        });
    }

    @Override
    public boolean compareAndSet(T expected, T newValue) {
        return m.call(() -> {
            m.nesting.checkValue(newValue);
            return bucket.compareAndSet(expected, newValue);
        });
    }

    @Override
    public T updateAndGet(UnaryOperator<T> update) {
        return update(update, false);
    }

    @Override
    public T getAndUpdate(UnaryOperator<T> update) {
        return update(update, true);
    }

    /**
     * Compare-and-set against the bytes read, not a re-encoding of the value decoded from them: a value
     * read back does not always encode to the same bytes again (a HashSet inside a JDK-serialized part
     * carries its table capacity), and compareAndSet(old, next) then never matched, retrying for ever.
     */
    @SuppressWarnings("unchecked")
    private T update(UnaryOperator<T> update, boolean returnOld) {
        Objects.requireNonNull(update, "update");
        return m.call(() -> {
            while (true) {
                byte[] bytes = Lua.eval(m.redisson(), RedisCodec.STORED_BYTES, key, "return redis.call('get', KEYS[1])",
                        org.redisson.api.RScript.ReturnType.VALUE, java.util.List.of(key));
                T old = bytes == null ? null : (T) RedisCodec.INSTANCE.decodeStored(bytes);
                T next = update.apply(old);
                m.nesting.checkValue(next);
                long done = Lua.<Long>eval(m.redisson(), key, Lua.STRING_CAS, org.redisson.api.RScript.ReturnType.LONG,
                        java.util.List.of(key), RedisCodec.Raw.of(bytes == null ? "0" : "1"),
                        new RedisCodec.Raw(bytes == null ? new byte[0] : bytes), RedisCodec.Raw.of(next == null ? "0" : "1"),
                        next == null ? RedisCodec.Raw.of("") : next);
                if (done == 1L) {
                    if (returnOld && next == old && old != null) {
                        return (T) RedisCodec.INSTANCE.decodeStored(bytes); // as it was, not as the function left it
                    }
                    return returnOld ? old : next;
                }
            }
        });
    }

    @Override
    public String toString() {
        return "Value[" + get() + "]";
    }
}
