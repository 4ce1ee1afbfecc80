package io.multiproc.process;

import io.multiproc.internal.Native;
import io.multiproc.wait.IdleStrategy;

import java.io.Serial;
import java.io.Serializable;

/**
 * A {@link Pool}'s default way of waiting for messages: spin for a few microseconds (a pool's next
 * task or result often comes that soon), yield a few times, then sleep on a futex, so an idle
 * pool costs no CPU. A sleep lasts up to a second ({@link #maxSleepNanos()}): a send wakes the
 * sleeper, and neither side relies on the pipe's own check of its peer (workers die with their parent
 * through the parent-death signal; the parent learns of a worker's death from its process exit). 
 * Serializable, so the worker end of each pipe waits the same way.
 *
 * @param spins rounds of {@link Thread#onSpinWait()} before yielding
 */
record PoolIdle(int spins) implements IdleStrategy, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final int YIELDS = 20;
    /**
     * A few µs of spinning (a PAUSE is 40-140 cycles on current x86). Longer spins lost under load on 2
     * shared cores: a spinning reader, receiver and runner took the CPU from the thread with work
     * (apply round trip ~600 µs with 2,000 spins, ~290 µs with 100, measured at load average 27).
     */
    static final PoolIdle DEFAULT = new PoolIdle(200);

    @Override
    public boolean sleepAt(int round) {
        if (round < spins + YIELDS) {
            return false;
        }
        return Native.isAvailable() || IdleStrategy.blocking().sleepAt(round);
    }

    @Override
    public long maxSleepNanos() {
        return 1_000_000_000L;
    }

    @Override
    public void pause(int round) {
        if (round < spins) {
            Thread.onSpinWait();
        } else if (round < spins + YIELDS) {
            Thread.yield();
        } else {
            IdleStrategy.backoff().pause(round - spins - YIELDS + 110);
        }
    }

    @Override
    public String toString() {
        return "PoolIdle[spins=" + spins + "]";
    }
}
