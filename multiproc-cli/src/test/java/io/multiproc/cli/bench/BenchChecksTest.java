package io.multiproc.cli.bench;

import io.multiproc.process.ChildProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A benchmark run whose processes failed or whose result is wrong is reported as failed, never as numbers. */
class BenchChecksTest {

    @AfterEach
    void reap() {
        for (ChildProcess c : ChildProcess.activeChildren()) {
            c.close();
        }
    }

    @Test
    void aScriptThatSaysItsResultIsWrongGivesNoNumbers() {
        for (String flag : List.of("ok", "sum_ok", "verified")) {
            assertThat(Python.runCommand(List.of("sh", "-c", "echo total_s=1.5; echo " + flag + "=0"))).as(flag).isEmpty();
            assertThat(Python.num(Python.runCommand(List.of("sh", "-c", "echo total_s=1.5; echo " + flag + "=1")), "total_s"))
                    .as(flag).isEqualTo(1.5);
        }
    }

    @Test
    void aJavaBenchmarkChildThatFailsFailsTheRunNamingItsExitAndError() throws Exception {
        ChildProcess failing = ChildProcess.start(() -> {
            throw new IllegalStateException("lost an update");
        });
        assertThatThrownBy(() -> Lockstep.joinSucceeded(failing)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exit").hasMessageContaining("lost an update");
        ChildProcess fine = ChildProcess.start(() -> { });
        Lockstep.joinSucceeded(fine);
    }

    /**
     * Runs bench/python/SCRIPT with one of its child targets replaced by one that exits 3 (fork start
     * method, so that the child runs the replacement).
     */
    private static Process scriptWithFailingChild(String module, String target, String... args) throws Exception {
        Path scripts = repoRoot().resolve("bench/python");
        String code = "import multiprocessing, sys\n"
                + "multiprocessing.set_start_method('fork')\n"
                + "sys.path.insert(0, " + pyString(scripts.toString()) + ")\n"
                + "sys.argv = [" + pyString(module + ".py") + "] + " + pyList(args) + "\n"
                + "import " + module + " as m\n"
                + "def failing(*a):\n"
                + "    sys.exit(3)\n"
                + "m." + target + " = failing\n"
                + "m.main()\n";
        return new ProcessBuilder("python3", "-c", code).start();
    }

    @Test
    void managerManyScriptFailsWhenOneOfItsChildrenFails() throws Exception {
        assumeTrue(Python.runCommand(List.of("python3", "--version")).isPresent(), "python3 is needed");
        Process p = scriptWithFailingChild("manager_many", "add_up", "--lists", "10");
        try {
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(err).isNotZero();
            assertThat(err).contains("child process failed");
        } finally {
            p.destroyForcibly();
        }
    }

    private static String pyString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String pyList(String... items) {
        StringBuilder b = new StringBuilder("[");
        for (String s : items) {
            b.append(pyString(s)).append(", ");
        }
        return b.append("]").toString();
    }

    private static Path repoRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("bench/python"))) {
                return d;
            }
        }
        throw new AssertionError("no bench/python above " + Path.of("").toAbsolutePath());
    }
}
