package io.multiproc.shm;

import io.multiproc.testing.Python3;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs examples/python-interop (PythonInterop.java through the source launcher, with this build's
 * class path) against the real python3: with numpy when it is installed, and with numpy hidden.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class PythonInteropExampleTest {
    private static final String NO_NUMPY = "numpy is not installed: skipping the numpy part";
    private static final String ALL_OK = "OK: Java read Python's writes and Python read Java's, both directions";

    @Test
    void exampleSharesArrayAndListBothWaysWithNumpyWhenInstalled() throws Exception {
        Python3.assumePresent();
        String out = runExample(Map.of());
        assertThat(out).contains(ALL_OK).doesNotContain("FAILED");
        if (Python3.hasModule("numpy")) {
            assertThat(out).contains("python numpy sum=249999750000.0 a[10]=5.0").doesNotContain(NO_NUMPY);
        } else {
            assertThat(out).contains(NO_NUMPY); // the numpy part is skipped, with this message, and only it
        }
    }

    @Test
    void exampleStillSharesBothWaysWithoutNumpy(@TempDir Path fakes) throws Exception {
        Python3.assumePresent();
        // a "numpy" first on PYTHONPATH that fails to import, as if numpy were not installed
        Path numpy = Files.createDirectories(fakes.resolve("numpy"));
        Files.writeString(numpy.resolve("__init__.py"), "raise ImportError('hidden by PythonInteropExampleTest')\n");
        String out = runExample(Map.of("PYTHONPATH", fakes.toString()));
        assertThat(out).contains(NO_NUMPY, "python memoryview sum=249999750000.0 a[10]=5.0", ALL_OK)
                .doesNotContain("FAILED");
    }

    private static String runExample(Map<String, String> env) throws IOException, InterruptedException {
        Path dir = exampleDir();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), dir.resolve("PythonInterop.java").toString(), dir.toString()))
                .redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("example finished").isTrue();
            assertThat(p.exitValue()).as("example exit code; output:%n%s", out).isZero();
            return out;
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly); // python3, if the example died early
            p.destroyForcibly();
        }
    }

    /** examples/python-interop, found from the module directory the tests run in. */
    private static Path exampleDir() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("examples/python-interop");
            if (Files.isRegularFile(candidate.resolve("PythonInterop.java"))) {
                return candidate;
            }
        }
        throw new AssertionError("no examples/python-interop above " + Path.of("").toAbsolutePath());
    }
}
