package io.multiproc.cli.bench;

import io.multiproc.process.ChildProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The first-run programs do the work their rows time, in a fresh JVM as the bench runs them. */
class FirstRunProgramsTest {

    @AfterEach
    void reap() {
        for (ChildProcess c : ChildProcess.activeChildren()) {
            c.close();
        }
    }

    @Test
    void seedZeroZeroZeroInAFreshJvmAppendsEveryIntAndSaysSo() {
        assertRunsAndVerifies("manager-list-append");
    }

    @Test
    void aPoolsMapInAFreshJvmSquaresEveryIntAndSaysSo() {
        assertRunsAndVerifies("pool-map-tiny");
    }

    /** The program, in a fresh JVM as the bench runs it, reported its time and verified its result. */
    private static void assertRunsAndVerifies(String program) {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Optional<Map<String, String>> out = Python.runCommand(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), FirstRun.class.getName(), program));
        assertThat(out).as("a run that failed or reported verified=0 is empty").isPresent();
        assertThat(Double.parseDouble(out.orElseThrow().get("first_run_s"))).isPositive();
    }
}
