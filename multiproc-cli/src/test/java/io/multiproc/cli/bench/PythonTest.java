package io.multiproc.cli.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A script of CPython's side (or a fresh JVM) that hangs fails its row instead of stalling the whole bench. */
class PythonTest {

    @Test
    @Timeout(60)
    void aScriptThatNeverEndsIsKilledAfterTheLimitAndGivesNoNumbers() {
        long t0 = System.nanoTime();
        Optional<Map<String, String>> values = Python.runCommand(List.of("sh", "-c", "echo x=1; exec sleep 1000"),
                Duration.ofSeconds(2));
        assertThat(values).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    @Timeout(60)
    void aScriptWhoseBackgroundChildKeepsItsStdoutOpenStillGivesItsNumbers() {
        // the shell exits at once; the sleep it leaves behind (no longer our descendant) holds the pipe for 40 s
        long t0 = System.nanoTime();
        Optional<Map<String, String>> values = Python.runCommand(List.of("sh", "-c", "sleep 40 & echo x=1"),
                Duration.ofSeconds(30));
        assertThat(values).hasValueSatisfying(v -> assertThat(v).containsEntry("x", "1"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(25));
    }
}
