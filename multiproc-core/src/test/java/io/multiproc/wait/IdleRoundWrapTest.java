package io.multiproc.wait;

import io.multiproc.internal.Native;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A wait whose int round counter wrapped (2^31 rounds: weeks of waiting) sleeps; it does not turn into a spin. */
class IdleRoundWrapTest {
    @Test
    void aWrappedRoundSleepsInsteadOfSpinning() {
        assertThat(IdleStrategy.blocking().sleepAt(Integer.MIN_VALUE)).isEqualTo(Native.isAvailable());
        long t0 = System.nanoTime();
        IdleStrategy.backoff().pause(Integer.MIN_VALUE);
        // a spin returns in well under a microsecond; the longest backoff sleep is about a millisecond
        assertThat(System.nanoTime() - t0).isGreaterThan(100_000);
    }
}
