package io.multiproc.manager;

import java.time.Duration;

/**
 * A manager's event ({@link Manager#event()}); locally a {@code io.multiproc.sync.SharedEvent}.
 *
 * <pre>{@code
 * EventProxy ready = manager.event();
 * ChildProcess.start(() -> ready.set());
 * ready.await(Duration.ofSeconds(5));   // true once set
 * }</pre>
 */
public interface EventProxy {
    void set();

    void clear();

    boolean isSet();

    /** Waits until set; returns true. */
    boolean await() throws InterruptedException;

    /** Waits until set or the timeout; true if set. */
    boolean await(Duration timeout) throws InterruptedException;
}
