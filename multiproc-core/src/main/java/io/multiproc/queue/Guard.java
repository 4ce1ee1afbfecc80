package io.multiproc.queue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps a handle's mapping alive while its own threads use it: operations {@link #enter()} and
 * {@link #exit()}; {@link #close(Runnable)} marks the handle closed, then waits until no operation is
 * in flight before the caller unmaps. Without it, a thread of this process could be stopped between
 * taking a ring lock and releasing it by the unmapping, leaving the lock held by a live process.
 *
 * <pre>
 *  bit 31: closed     bits 0-30: operations in flight
 * </pre>
 * One atomic add per enter and per exit, on the heap (not shared memory).
 */
final class Guard {
    private static final int CLOSED = Integer.MIN_VALUE;
    private final AtomicInteger state = new AtomicInteger();

    /** @return false (and nothing entered) if the handle is closed */
    boolean enter() {
        // NOTE: the increment is a full fence: a closer that then reads the count sees this operation,
        // or this read sees its closed bit (Dekker with close()).
        if (state.getAndIncrement() < 0) {
            state.getAndDecrement();
            return false;
        }
        return true;
    }

    void exit() {
        state.getAndDecrement();
    }

    boolean isClosed() {
        return state.get() < 0;
    }

    /**
     * Marks closed and waits until in-flight operations have left, calling {@code wake} now and then so
     * that sleeping ones notice.
     *
     * @return false if it was already closed
     */
    boolean close(Runnable wake) {
        for (;;) {
            int s = state.get();
            if (s < 0) {
                return false;
            }
            if (state.compareAndSet(s, s | CLOSED)) {
                break;
            }
        }
        for (int round = 0; state.get() != CLOSED; round++) {
            if (round % 100 == 0) {
                wake.run();
            }
            LockSupport.parkNanos(100_000L);
        }
        return true;
    }
}
