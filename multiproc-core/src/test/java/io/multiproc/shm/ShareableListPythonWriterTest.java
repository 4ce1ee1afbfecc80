package io.multiproc.shm;

import io.multiproc.testing.Python3;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Java reading slots that a running CPython process keeps rewriting with values of the same type.
 * CPython's {@code struct.pack_into} zero-fills what it writes before writing it, the format word
 * included, so a concurrent reader meets a slot whose format is momentarily empty: Java reads on
 * (it must not report the slot as left inconsistent by a dead writer).
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListPythonWriterTest {
    private static final String WRITER = """
            import sys, time
            from multiprocessing import resource_tracker
            from multiprocessing.shared_memory import ShareableList
            sl = ShareableList(name=sys.argv[1])
            resource_tracker.unregister(sl.shm._name, "shared_memory")
            print("writing", flush=True)
            end = time.time() + 3
            while time.time() < end:
                for _ in range(10000):
                    sl[0] = -1
                    sl[1] = 2.5
            sl.shm.close()
            """;

    @BeforeEach
    void needsPython() {
        Python3.assumePresent();
    }

    @Test
    void slotsAPythonProcessKeepsRewritingWithTheirOwnTypeAreReadWithoutAnInconsistencyError() throws Exception {
        try (ShareableList sl = ShareableList.create(null, Arrays.asList(-1L, 2.5))) {
            Process python = new ProcessBuilder("python3", "-c", WRITER, sl.name()).redirectErrorStream(true).start();
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8));
                assertThat(out.readLine()).isEqualTo("writing");
                long reads = 0;
                long inconsistent = 0;
                String firstError = null;
                while (python.isAlive()) {
                    for (int k = 0; k < 1000; k++) {
                        VarHandle.acquireFence(); // NOTE: a fresh read each time, never hoisted
                        for (int i = 0; i < 2; i++) {
                            try {
                                sl.get(i);
                            } catch (IllegalStateException e) {
                                inconsistent++;
                                firstError = firstError == null ? e.getMessage() : firstError;
                            }
                            reads++;
                        }
                    }
                }
                assertThat(python.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(python.exitValue()).isZero();
                assertThat(inconsistent).as("reads of %d that threw (first: %s)", reads, firstError).isZero();
            } finally {
                python.destroyForcibly();
                sl.unlink();
            }
        }
    }
}
