package io.multiproc.internal;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two containers of one user sharing /dev/shm see each other's pids wrongly: a live lock holder or
 * segment holder of another pid namespace must not be taken for dead. A real second namespace made with
 * {@code unshare --pid --fork --mount-proc} (needs root or user namespaces; skipped where it cannot run).
 */
@ExtendWith(ReapChildrenCheckShm.class)
class PidNamespaceTest {

    @Test
    void aLiveHolderInAnotherPidNamespaceKeepsItsLockAndItsSegment() throws Exception {
        Assumptions.assumeTrue(unshareWorks(), "unshare --pid --fork --mount-proc is not available here");
        Path root = Files.createTempDirectory("registry-root");
        try {
            Path out = root.resolve("host.out");
            Process host = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                    "-D" + SegmentRegistry.TEST_ROOT_PROPERTY + "=" + root, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), PidNamespaceScenario.class.getName(), "host")
                    .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                assertThat(host.waitFor(90, TimeUnit.SECONDS)).as("host scenario finished").isTrue();
            } finally {
                host.destroyForcibly();
            }
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            assertThat(lines).containsExactly("guest ready", "guest has its own pid", "guest attached",
                    "lock not taken over", "value kept", "guest exited", "value removed by the guest");
            assertThat(host.exitValue()).isZero();
        } finally {
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static boolean unshareWorks() throws InterruptedException {
        try {
            Process p = new ProcessBuilder("unshare", "--pid", "--fork", "--mount-proc", "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
