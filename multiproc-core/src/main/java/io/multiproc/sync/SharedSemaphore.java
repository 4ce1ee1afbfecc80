package io.multiproc.sync;

import io.multiproc.codec.SharedHandle;
import io.multiproc.internal.MappedObject;
import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.WaitWord;
import io.multiproc.wait.Waiting;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;

import static io.multiproc.sync.SemaphoreLayout.BOUND;
import static io.multiproc.sync.SemaphoreLayout.PERMITS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A counting semaphore in shared memory: Python's {@code multiprocessing.Semaphore}.
 *
 * <pre>{@code
 * try (SharedSemaphore slots = SharedSemaphore.create(2)) {
 *     slots.acquire();                                   // 2 -> 1
 *     boolean got = slots.tryAcquire(Duration.ofMillis(100));
 *     slots.release();
 * }
 * }</pre>
 *
 * <h2>Implementation overview</h2>
 * One int of permits, changed by CAS (acquire: down if above 0; release: up). Waiters use the
 * {@link Waiting} loop; a release wakes as many sleepers as permits it added. Invariant: a permit
 * released while threads sleep reaches one of them without waiting out a sleep's time limit: a woken
 * waiter re-checks the permits before it may leave on a timeout or interrupt, and one that leaves
 * without a permit after a wake-up passes the wake-up on ({@link Waiting}).
 * <p><b>Permits of a dead process are not given back.</b> A permit is a count, not an ownership: one
 * process often releases what another acquired (a producer signalling a consumer), so there is no
 * way to tell a permit "held" by a dead process from one it legitimately consumed. A process killed
 * after {@code acquire()} and before {@code release()} leaves the count one lower for good, exactly
 * like POSIX and CPython semaphores; use a {@link SharedLock} (which is taken over from a dead holder)
 * where ownership matters. Waiters never wait past their timeout on a dead peer.
 */
public sealed class SharedSemaphore extends MappedObject implements Serializable permits SharedBoundedSemaphore {
    private static final VarHandle INT = JAVA_INT.varHandle();
    final transient WaitWord word;
    final transient IdleStrategy idle;

    SharedSemaphore(SharedSegments.Mapping mapping, IdleStrategy idle) {
        super(mapping);
        this.idle = Objects.requireNonNull(idle, "idle");
        this.word = new WaitWord(whole, SemaphoreLayout.SEQ, SemaphoreLayout.SLEEPERS);
    }

    /** A semaphore with {@code permits >= 0} permits that waits with the default {@link IdleStrategy#blocking()}. */
    public static SharedSemaphore create(int permits) {
        return create(permits, IdleStrategy.blocking());
    }

    /** A semaphore with {@code permits >= 0} permits whose waiters in this process use {@code idle}. */
    public static SharedSemaphore create(int permits, IdleStrategy idle) {
        Objects.requireNonNull(idle, "idle");
        return new SharedSemaphore(createSegment(permits, 0, SemaphoreLayout.KIND_SEMAPHORE), idle);
    }

    static SharedSegments.Mapping createSegment(int permits, int bound, int kind) {
        if (permits < 0) {
            throw new IllegalArgumentException("permits=" + permits + " must be >= 0");
        }
        return SyncSegments.create(SemaphoreLayout.MAGIC, SemaphoreLayout.VERSION, kind, SemaphoreLayout.SEGMENT_SIZE, seg -> {
            seg.set(JAVA_INT, PERMITS, permits);
            seg.set(JAVA_INT, BOUND, bound);
        });
    }

    /** Attaches to an existing semaphore by its {@link #name()}. */
    public static SharedSemaphore attach(String name) {
        return new SharedSemaphore(SyncSegments.attach(name, "SharedSemaphore", SemaphoreLayout.MAGIC,
                SemaphoreLayout.VERSION, SemaphoreLayout.KIND_SEMAPHORE), IdleStrategy.blocking());
    }

    /** Takes a permit if one is available; never waits. */
    public boolean tryAcquire() {
        ensureOpen();
        for (;;) {
            int p = (int) INT.getVolatile(whole, PERMITS);
            if (p <= 0) {
                return false;
            }
            if (INT.compareAndSet(whole, PERMITS, p, p - 1)) {
                return true;
            }
        }
    }

    /**
     * Waits for a permit and takes it.
     *
     * @throws InterruptedException if the thread is interrupted on entry (even with a permit free, as
     *     {@code java.util.concurrent.Semaphore}) or while waiting; no permit is taken
     */
    public void acquire() throws InterruptedException {
        ensureOpen();
        checkInterrupt();
        if (!tryAcquire()) {
            Waiting.await(word, idle, this::tryAcquire, Waiting.FOREVER, true);
        }
    }

    /**
     * Waits at most {@code timeout} for a permit.
     *
     * @return true if a permit was taken
     * @throws InterruptedException as {@link #acquire()}
     */
    public boolean tryAcquire(Duration timeout) throws InterruptedException {
        ensureOpen();
        long nanos = Waiting.nanos(timeout);
        checkInterrupt();
        if (tryAcquire()) {
            return true;
        }
        return Waiting.await(word, idle, this::tryAcquire, Waiting.deadline(nanos), true);
    }

    /** Returns a permit. */
    public void release() {
        ensureOpen();
        release(1);
    }

    /** Returns {@code permits > 0} permits. */
    public void release(int permits) {
        ensureOpen();
        if (permits <= 0) {
            throw new IllegalArgumentException("permits=" + permits + " must be > 0");
        }
        int bound = (int) INT.getOpaque(whole, BOUND);
        for (;;) {
            int p = (int) INT.getVolatile(whole, PERMITS);
            long next = (long) p + permits;
            if (bound > 0 && next > bound) {
                throw new IllegalStateException(getClass().getSimpleName() + " '" + name() + "' released too many times: permits="
                        + p + " + " + permits + " would exceed its bound " + bound);
            }
            if (next > Integer.MAX_VALUE) {
                throw new IllegalStateException("SharedSemaphore '" + name() + "': permits=" + p + " + " + permits + " overflows");
            }
            if (INT.compareAndSet(whole, PERMITS, p, (int) next)) {
                break;
            }
        }
        word.wake(permits);
    }

    public int availablePermits() {
        ensureOpen();
        return (int) INT.getVolatile(whole, PERMITS);
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        return getClass().getSimpleName() + "[name=" + name() + ", permits=" + availablePermits() + "]";
    }

    @Serial
    final Object writeReplace() {
        return new Handle(nameInFlight(), this instanceof SharedBoundedSemaphore);
    }

    record Handle(String name, boolean bounded) implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            try {
                return bounded ? SharedBoundedSemaphore.attach(name) : SharedSemaphore.attach(name);
            } catch (RuntimeException e) {
                throw SyncSegments.cannotResolve(bounded ? "SharedBoundedSemaphore" : "SharedSemaphore", name, e);
            }
        }
    }

    /**
     * As java.util.concurrent's Semaphore and CountDownLatch: an interrupt set on entry throws even when a
     * permit is free (or the event set); the waiting loop alone checked it only after trying.
     */
    static void checkInterrupt() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
    }
}
