package io.multiproc.redis;

import io.multiproc.codec.SharedHandle;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;

/**
 * How a Redis proxy or synchronization object travels to another JVM (a child's task, a local queue, a
 * pipe): Redisson's configuration as YAML, the manager's name, the object's kind and key, and for a
 * synchronization object what its constructor needs besides the key ({@link Sync}; null for a
 * container). Decoding attaches through the receiving JVM's shared client for that configuration
 * ({@link RedisManager#attached}), which stays open until that JVM exits or its task ends.
 */
record RedisHandle(String config, String manager, String kind, String key, Sync sync) implements Serializable, SharedHandle {

    /** A container's handle. */
    RedisHandle(String config, String manager, String kind, String key) {
        this(config, manager, kind, key, null);
    }

    /**
     * A lock's, condition's, semaphore's, event's or barrier's name, its count (a semaphore's initial
     * permits, a barrier's parties; 0 otherwise) and, for a condition, its lock (which travels as its own
     * handle).
     */
    record Sync(String name, int count, RedisLock lock) implements Serializable {
    }

    @Serial
    Object readResolve() throws ObjectStreamException {
        RedisCodec.checkFromRedis(config);
        RedisManager m = RedisManager.attached(config, manager);
        return sync == null ? m.proxy(Kind.of(kind), key) : m.syncObject(kind, key, sync);
    }
}
