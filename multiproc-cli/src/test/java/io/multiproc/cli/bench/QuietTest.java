package io.multiproc.cli.bench;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** CPython's side of a scenario starts only once the bench's own processes have stopped computing (decision 151). */
class QuietTest {

    @Test
    void waitsWhileAChildOfThisProgramComputesAndNotLongerThanItsLimit() throws Exception {
        // a child that spins for 1.5 s, like a spare warming up after a Java side
        Process busy = new ProcessBuilder("timeout", "1.5", "sh", "-c", "while :; do :; done").start();
        try {
            double waited = Quiet.await(Duration.ofSeconds(20));
            assertThat(busy.isAlive()).as("still spinning after " + waited + " s").isFalse();
            assertThat(waited).isGreaterThanOrEqualTo(1.0);
        } finally {
            busy.destroyForcibly();
            busy.waitFor(5, TimeUnit.SECONDS);
        }
        Process forever = new ProcessBuilder("sh", "-c", "while :; do :; done").start();
        try {
            double waited = Quiet.await(Duration.ofSeconds(1));
            assertThat(waited).as("the limit").isBetween(1.0, 5.0);
            assertThat(forever.isAlive()).isTrue();
        } finally {
            forever.destroyForcibly();
            forever.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
