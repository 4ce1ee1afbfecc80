package io.multiproc.manager;

import java.time.Duration;

/**
 * A manager's counting semaphore ({@link Manager#semaphore(int)}); locally a
 * {@code io.multiproc.sync.SharedSemaphore}, elsewhere the backend's own.
 *
 * <pre>{@code
 * SemaphoreProxy slots = manager.semaphore(2);
 * if (slots.tryAcquire(Duration.ofSeconds(1))) { try { work(); } finally { slots.release(); } }
 * }</pre>
 */
public interface SemaphoreProxy {
    void acquire() throws InterruptedException;

    boolean tryAcquire();

    boolean tryAcquire(Duration timeout) throws InterruptedException;

    void release();

    int availablePermits();
}
