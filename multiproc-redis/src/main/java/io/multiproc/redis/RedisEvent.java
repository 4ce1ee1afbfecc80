package io.multiproc.redis;

import io.multiproc.codec.HandleSource;

import io.multiproc.manager.EventProxy;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * An event on Redis ({@link RedisManager#event(String)}): Python's {@code Event}, set and cleared any
 * number of times, from any JVM.
 *
 * <pre>{@code
 * EventProxy ready = m.event("ready");
 * ready.await(Duration.ofSeconds(5));      // on one host
 * m.event("ready").set();                  // on another
 * }</pre>
 *
 * <p>Implementation overview: key {@code K} exists while the event is set. {@code set} writes it and
 * publishes on channel {@code K} in one script; waiters check the key, then wait for a message or
 * {@link RedisSync#POLL_CAP_NANOS}. A {@code set} and {@code clear} in quick succession may be missed by a
 * waiter that checks after the clear (Python's Event has the same race).
 */
public final class RedisEvent implements EventProxy, HandleSource, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;


    private static final String SET = """
            redis.call('set', KEYS[1], '1')
            redis.call('publish', KEYS[1], 's')
            return 1""";

    private final transient RedisSync sync;
    private final transient String name;
    private final transient String key;

    RedisEvent(RedisSync sync, String name, String key) {
        this.sync = sync;
        this.name = name;
        this.key = key;
    }

    @Override
    public void set() {
        sync.evalLong(SET, List.of(key));
    }

    @Override
    public void clear() {
        sync.evalLong("return redis.call('del', KEYS[1])", List.of(key));
    }

    @Override
    public boolean isSet() {
        return sync.evalLong("return redis.call('exists', KEYS[1])", List.of(key)) == 1;
    }

    @Override
    public boolean await() throws InterruptedException {
        return awaitUntil(RedisSync.FOREVER);
    }

    @Override
    public boolean await(Duration timeout) throws InterruptedException {
        return awaitUntil(RedisSync.deadline(RedisSync.timeoutNanos(timeout)));
    }

    private boolean awaitUntil(long deadline) throws InterruptedException {
        // a late answer changed nothing: there is nothing to undo
        return sync.awaitUntil(key, deadline, by -> {
            Long set = sync.evalLongBy(by, late -> { }, "return redis.call('exists', KEYS[1])", List.of(key));
            return set == null ? null : set == 1;
        });
    }

    @Override
    public String toString() {
        return "RedisEvent[" + name + "]";
    }

    /**
     * Captured by a child's task or sent through a queue, this object re-attaches in the receiving JVM to
     * the same Redis object (decision 122).
     */
    @Serial
    Object writeReplace() {
        return sync.handle(this, RedisSync.EVENT, key, name, 0, null);
    }

}
