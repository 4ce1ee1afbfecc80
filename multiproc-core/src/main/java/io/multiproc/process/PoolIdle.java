package io.multiproc.process;

import io.multiproc.internal.Native;
import io.multiproc.wait.IdleStrategy;

import java.io.Serial;
import java.io.Serializable;

/**
 * A {@link Pool}'s default way of waiting for messages: spin for up to {@link #SPIN_NANOS} after the
 * last activity (a pool's next task or result usually comes that soon, and a futex wake costs ~20 µs
 * here), yielding the CPU at the first round and every {@link #YIELD_EVERY} rounds after, so that a
 * peer sharing this core (or a thread with work on a busy machine) gets it at once; then sleep on a
 * futex, so an idle pool costs no CPU. A sleep lasts up to a second
 * ({@link #maxSleepNanos()}): a send wakes the sleeper, and neither side relies on the pipe's own check
 * of its peer (workers die with their parent through the parent-death signal; the parent learns of a
 * worker's death from its process exit).
 * Serializable, so the worker end of each pipe waits the same way.
 * <p>Example: {@code Pool.builder().idle(new PoolIdle(20_000)).build()} (package-private: the default
 * is what {@code Pool} uses).
 *
 * @param spins most spin rounds before sleeping, whatever the time (a bound for a slow clock)
 */
record PoolIdle(int spins) implements IdleStrategy, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    /**
     * How long a waiter spins after the last activity. Round trips measured at load average ~20 on 2
     * cores, default spins: BENCHMARKS.md "Pool apply latency with bounded spinning".
     */
    static final long SPIN_NANOS = 100_000;
    /** A yield every this many spin rounds: on an idle core it returns at once, on a busy one it gives way. */
    static final int YIELD_EVERY = 64;
    /** Spin rounds are bounded by time; this bounds them by count too (a round is ~30-100 ns). */
    static final PoolIdle DEFAULT = new PoolIdle(20_000);
    /** When the current spin phase of this thread began (round 0 of a wait). */
    private static final ThreadLocal<long[]> SPIN_START = ThreadLocal.withInitial(() -> new long[1]);

    @Override
    public boolean sleepAt(int round) {
        long now = System.nanoTime();
        long[] start = SPIN_START.get();
        if (round == 0) {
            start[0] = now;
            return false;
        }
        if (round < spins && now - start[0] < SPIN_NANOS) {
            return false;
        }
        return Native.isAvailable() || IdleStrategy.blocking().sleepAt(round);
    }

    /** Set once by {@link PoolWorkerMain} in a worker's JVM, before its first wait; volatile. */
    static volatile boolean inWorker;

    /**
     * 1 s; 5 s in a worker with native futexes. A worker's waits (its data and control pipes) are woken
     * by the parent's sends and by its close, and the parent's death kills the worker (the parent-death
     * signal): its wake-ups only look around. Each cost ~0.5 ms of CPU on a VM where a wake-up is dear, so
     * at one a second they were a fifth of an idle pool's cost (decision 168).
     */
    @Override
    public long maxSleepNanos() {
        return inWorker && Native.isAvailable() ? 5_000_000_000L : 1_000_000_000L;
    }

    @Override
    public void pause(int round) {
        if (!inSpinPhase(round)) {
            IdleStrategy.backoff().pause(round + 110); // past backoff's own spins; only without native futexes: sleepAt said no sleep
        } else {
            spin(round);
        }
    }

    /** One round of a pool waiter's spin: a yield in the rounds {@link #yieldsAt} names, else a PAUSE. */
    static void spin(int round) {
        if (yieldsAt(round)) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    /**
     * True in the first round of a wait and every {@link #YIELD_EVERY}th after it. A waiter has usually
     * just sent (a task, a reply): when its peer shares this core, which is how the scheduler often
     * places the two threads of a round trip on 2 cores, the peer runs only when this thread gives the
     * core up, so yielding at once hands over in one context switch instead of after 64 spin rounds
     * (~10 µs a hand-off, decision 126). On a core of its own a yield with nothing else to run returns
     * in about a microsecond.
     */
    static boolean yieldsAt(int round) {
        return round % YIELD_EVERY == 0;
    }

    private boolean inSpinPhase(int round) {
        return round < spins && System.nanoTime() - SPIN_START.get()[0] < SPIN_NANOS;
    }

    @Override
    public String toString() {
        return "PoolIdle[spins=" + spins + "]";
    }
}
