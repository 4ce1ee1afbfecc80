package io.multiproc.cli.bench;

import io.multiproc.process.ChildProcess;
import io.multiproc.shm.ShareableList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The shareable-double scenario computes the right thing on every access path (speed is not tested). */
class ShareableScenariosTest {

    @AfterEach
    void reap() {
        for (ChildProcess c : ChildProcess.activeChildren()) {
            c.close();
        }
    }

    @Test
    void everyAccessPathDoublesItsShareAndNothingElse() throws Exception {
        for (ShareableScenarios.Access access : ShareableScenarios.Access.values()) {
            List<Long> values = new ArrayList<>();
            for (long i = 0; i < 1000; i++) {
                values.add(i);
            }
            try (ShareableList sl = ShareableList.create(null, values)) {
                try {
                    ShareableScenarios.doubleInPlace(sl, 100, 600, access, new long[500]);
                    for (int i = 0; i < 1000; i++) {
                        assertThat(sl.getLong(i)).as("%s item %d", access, i).isEqualTo(i >= 100 && i < 600 ? 2L * i : i);
                    }
                } finally {
                    sl.unlink();
                }
            }
        }
    }

    @Test
    void scenarioPrintsOneVerifiedRowPerAccessPathBesideCPython() throws Exception {
        String home = System.getProperty("multiproc.home");
        System.setProperty("multiproc.home", repoRoot().toString()); // where bench/python is
        try {
            Python python = Python.find();
            List<Row> rows = ShareableScenarios.shareableDouble(python);
            assertThat(rows).extracting(Row::scenario).containsExactly("shareable-double set(get*2)",
                    "shareable-double setLong(getLong*2)", "shareable-double bulk getLongs/setLongs",
                    "shareable-double replaceAllLongs(x -> x * 2)");
            assertThat(rows).allSatisfy(r -> {
                assertThat(r.notes()).doesNotContain("WRONG RESULT").contains("java ").contains("M items/s");
                assertThat(r.javaWork()).isPositive();
                if (python.missing().isEmpty()) { // CPython's side ran and verified its result too
                    assertThat(r.notes()).doesNotContain("n/a");
                    assertThat(r.pythonWork()).isPositive();
                }
            });
        } finally {
            if (home == null) {
                System.clearProperty("multiproc.home");
            } else {
                System.setProperty("multiproc.home", home);
            }
        }
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
