package io.multiproc.redis;

import io.multiproc.codec.HandleSource;

/**
 * A proxy of one Redis object of a {@link RedisManager}. It travels (codec or JDK serialization) as a
 * {@link RedisHandle}: the connection's configuration, the manager's name and the key, so the receiving
 * JVM re-attaches through its own shared client.
 */
interface RedisProxy extends HandleSource {
    RedisManager manager();

    String key();

    Kind kind();

    /** The record this proxy is stored as inside another container of the same manager. */
    default NestedRef ref() {
        return new NestedRef(kind().label, key());
    }

    /** What this proxy travels as (its writeReplace); refused inside anything its server stores by value: a key, set element or value below its top ({@link Nesting#refuseNested}). */
    default RedisHandle handle() {
        Nesting.refuseNested(this);
        RedisManager m = manager();
        m.escaped(key()); // another JVM may use it now: it stays until close (decision 166)
        RedisHandle h = new RedisHandle(m.configYaml(), m.name(), kind().label, key());
        // NOTE: this proxy's release must not run before the mark above is set
        java.lang.ref.Reference.reachabilityFence(this);
        return h;
    }
}
