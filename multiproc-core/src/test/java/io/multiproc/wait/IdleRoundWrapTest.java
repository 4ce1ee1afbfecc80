package io.multiproc.wait;

import io.multiproc.internal.Native;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** A wait whose int round counter wrapped (2^31 rounds: weeks of waiting) sleeps; it does not turn into a spin. */
class IdleRoundWrapTest {
    @Test
    void aWrappedRoundSleepsInsteadOfSpinning() throws InterruptedException {
        assertThat(IdleStrategy.blocking().sleepAt(Integer.MIN_VALUE)).isEqualTo(Native.isAvailable());
        // NOTE: on a thread of its own, three pauses: parkNanos returns at once on a permit left by an
        // earlier unpark of the caller (CI's test thread had one: 15 us), or early spuriously; not three times
        AtomicLong took = new AtomicLong();
        Thread t = Thread.ofPlatform().start(() -> {
            long t0 = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                IdleStrategy.backoff().pause(Integer.MIN_VALUE);
            }
            took.set(System.nanoTime() - t0);
        });
        t.join();
        // a spin returns in well under a microsecond; each wrapped-round pause sleeps about a millisecond
        assertThat(took.get()).as("three wrapped-round pauses, ns").isGreaterThan(1_000_000);
    }
}
