package io.multiproc.process;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a caller reads from a worker's death. */
class WorkerDiedExceptionTest {

    @Test
    void aSignalDeathNamesTheSignalAndAnUnknownExitSaysSoInsteadOfANonsenseSignal() {
        WorkerDiedException killed = new WorkerDiedException(42, -9, "chunk 3");
        assertThat(killed).hasMessageContaining("pid=42").hasMessageContaining("SIGKILL").hasMessageContaining("chunk 3");
        assertThat(killed.signal()).hasValue(9);
        // a worker that was SIGKILLed and still not reaped 10 s later: no exit code was learnt
        WorkerDiedException unknown = new WorkerDiedException(43, Integer.MIN_VALUE, "chunk 4");
        assertThat(unknown).hasMessageContaining("exit code unknown").hasMessageNotContaining("signal -");
        assertThat(unknown.signal()).isEmpty();
        assertThat(new WorkerDiedException(44, 3, "x").signal()).isEmpty();
    }
}
