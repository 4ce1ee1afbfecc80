package io.multiproc.redis;

import io.multiproc.codec.SharedHandle;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;

/**
 * How a Redis proxy travels to another JVM (a child's task, a local queue, a pipe): Redisson's
 * configuration as YAML, the manager's name, the object's kind and key. Decoding attaches through the
 * receiving JVM's shared client for that configuration ({@link RedisManager#attached}), which stays open
 * until that JVM exits.
 */
record RedisHandle(String config, String manager, String kind, String key) implements Serializable, SharedHandle {
    @Serial
    Object readResolve() throws ObjectStreamException {
        return RedisManager.attached(config, manager).proxy(Kind.of(kind), key);
    }
}
