package io.multiproc.wait;

import io.multiproc.internal.Native;

import java.util.concurrent.locks.LockSupport;

/**
 * How a thread waits for shared memory to change: the one waiting seam of every blocking structure
 * (locks, semaphores, events, queues, pipes), chosen per object.
 *
 * <pre>{@code
 * SharedLock lock = SharedLock.create(IdleStrategy.busySpin());   // lowest latency, burns a core
 * SharedQueue<String> q = SharedQueue.create(1024);                // default: IdleStrategy.blocking()
 * }</pre>
 *
 * <p>A wait calls the strategy once per round in which its condition did not hold, with the round
 * number counting from 0. In a round where {@link #sleepAt(int)} is true the waiter registers itself and
 * sleeps on a futex until woken (or for at most 20 ms, doubling while nothing changes up to
 * {@link #maxSleepNanos()}, so that it can notice
 * dead peers and interrupts); otherwise it calls {@link #pause(int)}, which returns after a short pause.
 *
 * <table>
 *   <caption>The strategies</caption>
 *   <tr><th>strategy</th><th>pause</th><th>hand-off latency</th><th>CPU while waiting</th></tr>
 *   <tr><td>{@link #busySpin()}</td><td>{@link Thread#onSpinWait()}</td><td>~0.1 µs</td><td>one core</td></tr>
 *   <tr><td>{@link #yielding()}</td><td>{@link Thread#yield()}</td><td>~1 µs</td><td>one core, shared</td></tr>
 *   <tr><td>{@link #backoff()}</td><td>spin, yield, then park 1 µs doubling to 1 ms</td><td>up to 1 ms</td><td>low</td></tr>
 *   <tr><td>{@link #blocking()} (default)</td><td>yield once, spin, yield, then futex sleep</td><td>~20 µs once asleep</td><td>none once asleep</td></tr>
 * </table>
 * Without native access {@code blocking()} behaves like {@code backoff()} (and says so once in the log).
 * A virtual thread never sleeps on a futex (the system call would pin its carrier): in the rounds where
 * {@link #sleepAt(int)} is true it calls {@link #pause(int)} instead, so with {@code blocking()} it backs
 * off like {@code backoff()}, parking up to ~1 ms at a time (decision 192).
 *
 * <p>Contract for your own implementations. One instance may serve many threads of many waits at once
 * (every waiter of the object it was given to), so keep per-wait state out of fields. {@link #pause(int)}
 * must return within a short time and must leave the thread's interrupt status as it found it: the
 * wait checks for interrupts and its deadline only between rounds, so a pause that never returns
 * blocks the wait for good, a long pause makes timed calls late by as much, and a pause that swallows
 * an interrupt (catches {@link InterruptedException} without calling {@code Thread.interrupt()}) makes
 * the wait miss it. An exception thrown by {@code pause}, {@code sleepAt} or {@code maxSleepNanos} ends
 * that one wait with the exception and leaves the object as it was. {@link #maxSleepNanos()} must be
 * positive (a wait throws {@link IllegalArgumentException} naming the value otherwise, decision 215).
 * To reach other processes with a queue or pipe handle, a custom strategy must be
 * {@link java.io.Serializable} (else the other process waits with {@link #blocking()}).
 */
public interface IdleStrategy {

    /** True when, in this round, the waiter should sleep until woken rather than {@link #pause(int)}. */
    default boolean sleepAt(int round) {
        return false;
    }

    /**
     * The longest a sleep may last before the waiter re-checks its condition on its own (dead peers,
     * interrupts). Default {@link WaitWord#MAX_SLEEP_NANOS}; a strategy for waiters that have other
     * ways to learn of a dead peer may allow longer sleeps, so an idle waiter wakes less often.
     */
    default long maxSleepNanos() {
        return WaitWord.MAX_SLEEP_NANOS;
    }

    /** Pauses briefly; called in the rounds where {@link #sleepAt(int)} is false. */
    void pause(int round);

    /** Spins: the lowest latency, and one busy core per waiting thread. */
    static IdleStrategy busySpin() {
        return Strategies.BUSY_SPIN;
    }

    /** Yields the CPU each round. */
    static IdleStrategy yielding() {
        return Strategies.YIELDING;
    }

    /** Spins, yields, then parks with exponential backoff from 1 µs to 1 ms; never sleeps on a futex. */
    static IdleStrategy backoff() {
        return Strategies.BACKOFF;
    }

    /**
     * The default: yields once (a peer sharing this core answers at once), spins briefly, yields, then
     * sleeps on a futex until a waker sees it registered.
     */
    static IdleStrategy blocking() {
        return Strategies.BLOCKING;
    }

    /** The built-in strategies; stateless, so shared. */
    final class Strategies {
        static final int SPINS = 100;
        static final int YIELDS = 10;
        static final IdleStrategy BUSY_SPIN = new Named("busySpin", r -> Thread.onSpinWait());
        static final IdleStrategy YIELDING = new Named("yielding", r -> Thread.yield());
        static final IdleStrategy BACKOFF = new Named("backoff", Strategies::backoffPause);
        static final IdleStrategy BLOCKING = new IdleStrategy() {
            @Override
            public boolean sleepAt(int round) {
                if (round >= 0 && round < SPINS + YIELDS) { // a wrapped (negative) round has waited long: it sleeps
                    return false;
                }
                if (Native.isAvailable()) {
                    return true;
                }
                Native.logFallbackOnce("waiting (locks, events, queues)");
                return false;
            }

            /**
             * Yields in round 0, then as {@link #backoffPause}: a waiter has usually just sent (a message,
             * a release) and its peer, if it shares this core, can answer only once this thread gives
             * the core up; spinning first cost such a hand-off the whole fixed spin, ~10 us compiled and
             * hundreds of us interpreted (decision 127). On a core of its own the yield returns at once.
             */
            @Override
            public void pause(int round) {
                if (round == 0) {
                    Thread.yield();
                } else {
                    backoffPause(round);
                }
            }

            @Override
            public String toString() {
                return "blocking";
            }
        };

        private Strategies() {
        }

        static void backoffPause(int round) {
            if (round < 0) {
                // NOTE: a caller's int round counter wrapped (2^31 rounds of ~1 ms: 25 days of waiting): as
                // a spin it would burn a core for the next 2^31 rounds; it has waited long, so it sleeps
                LockSupport.parkNanos(1_000L << 10);
            } else if (round < SPINS) {
                Thread.onSpinWait();
            } else if (round < SPINS + YIELDS) {
                Thread.yield();
            } else {
                int shift = Math.min(round - SPINS - YIELDS, 10);
                LockSupport.parkNanos(1_000L << shift); // 1 µs .. ~1 ms
            }
        }

        private record Named(String name, java.util.function.IntConsumer action) implements IdleStrategy {
            @Override
            public void pause(int round) {
                action.accept(round);
            }

            @Override
            public String toString() {
                return name;
            }
        }
    }
}
