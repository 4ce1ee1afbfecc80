package io.multiproc.process;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A pool waiter's spin gives its core away in its first round (a peer that shares the core, having just
 * been sent a task or a reply, runs at once) and then every {@link PoolIdle#YIELD_EVERY} rounds, and
 * spins with PAUSE in between. Measured effect: BENCHMARKS.md "Pool: apply latency on a shared core".
 */
class PoolIdleTest {
    @Test
    void aWaiterYieldsInItsFirstRoundAndThenEverySixtyFourth() {
        assertThat(PoolIdle.yieldsAt(0)).as("first round of a wait").isTrue();
        for (int round = 1; round < PoolIdle.YIELD_EVERY; round++) {
            assertThat(PoolIdle.yieldsAt(round)).as("round " + round).isFalse();
        }
        assertThat(PoolIdle.yieldsAt(PoolIdle.YIELD_EVERY)).isTrue();
        assertThat(PoolIdle.yieldsAt(2 * PoolIdle.YIELD_EVERY)).isTrue();
        assertThat(PoolIdle.yieldsAt(2 * PoolIdle.YIELD_EVERY + 1)).isFalse();
    }

    @Test
    void aWaiterStillSleepsOnceItsSpinTimeHasPassed() throws InterruptedException {
        PoolIdle idle = PoolIdle.DEFAULT;
        assertThat(idle.sleepAt(0)).as("the first round spins").isFalse();
        Thread.sleep(PoolIdle.SPIN_NANOS / 1_000_000 + 2);
        assertThat(idle.sleepAt(1)).as("past the spin time: sleep, so an idle pool costs no CPU").isTrue();
    }
}
