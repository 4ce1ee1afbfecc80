package io.multiproc.redis;

import io.multiproc.manager.SemaphoreProxy;
import org.redisson.api.RSemaphore;

import java.time.Duration;
import java.util.Objects;

/**
 * A counting semaphore on Redis ({@link RedisManager#semaphore(String, int)}), Redisson's {@link RSemaphore}
 * behind the {@link SemaphoreProxy} interface.
 *
 * <pre>{@code
 * SemaphoreProxy slots = m.semaphore("gpu", 2);   // created with 2 permits unless it exists
 * if (slots.tryAcquire(Duration.ofSeconds(1))) { try { work(); } finally { slots.release(); } }
 * }</pre>
 *
 * <p>Permits are counts, not owned (as Python's semaphore and the local one): any JVM may release, and a
 * JVM that dies holding permits loses them for good. Where a dead holder's permit must come back, use a
 * {@link RedisLock} per slot, or Redisson's {@code RPermitExpirableSemaphore} through
 * {@link RedisManager#redisson()}.
 */
public final class RedisSemaphore implements SemaphoreProxy {
    private final RSemaphore semaphore;
    private final String name;

    RedisSemaphore(RSemaphore semaphore, String name) {
        this.semaphore = semaphore;
        this.name = name;
    }

    @Override
    public void acquire() throws InterruptedException {
        semaphore.acquire();
    }

    @Override
    public boolean tryAcquire() {
        return semaphore.tryAcquire();
    }

    @Override
    public boolean tryAcquire(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout=" + timeout + " must be >= 0");
        }
        return semaphore.tryAcquire(timeout);
    }

    @Override
    public void release() {
        semaphore.release();
    }

    @Override
    public int availablePermits() {
        return semaphore.availablePermits();
    }

    @Override
    public String toString() {
        return "RedisSemaphore[" + name + "]";
    }
}
