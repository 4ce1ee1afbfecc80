package io.multiproc.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Builds and runs the standalone projects under examples/ as a user would: against the installed
 * artifact (this reactor's multiproc-core jar, installed into the local Maven repository like
 * {@code bin/install} does), offline, then {@code java -cp app.jar:multiproc-core.jar}. Runs in this
 * module because the reactor has packaged multiproc-core by then.
 */
class ExamplesTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path CORE_JAR = ROOT.resolve("multiproc-core/target/multiproc-core-0.1.0-SNAPSHOT.jar");

    private record Run(int exit, String out) {
    }

    private static Run exec(Path dir, List<String> cmd) throws IOException, InterruptedException {
        return exec(dir, cmd, Map.of());
    }

    private static Run exec(Path dir, List<String> cmd, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(5, TimeUnit.MINUTES)).as(String.join(" ", cmd)).isTrue();
            return new Run(p.exitValue(), out);
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly); // python3 or children, if it died early
            p.destroyForcibly();
        }
    }

    private static void mvn(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("mvnw").toString(), "-o", "-B", "-q"));
        cmd.addAll(List.of(args));
        Run r = exec(ROOT, cmd);
        assertThat(r.exit()).as(String.join(" ", cmd) + "\n" + r.out()).isZero();
    }

    @BeforeAll
    static void installTheCoreArtifact() throws Exception {
        assertThat(CORE_JAR).as("the reactor packages multiproc-core before this module's tests").exists();
        mvn("-N", "install:install-file", "-Dfile=pom.xml", "-DpomFile=pom.xml", "-Dpackaging=pom");
        mvn("-N", "install:install-file", "-Dfile=" + CORE_JAR, "-DpomFile=multiproc-core/pom.xml");
    }

    private static Run buildAndRun(String example, String mainClass, String... args) throws Exception {
        return buildAndRun(Map.of(), example, mainClass, args);
    }

    private static Run buildAndRun(Map<String, String> env, String example, String mainClass, String... args) throws Exception {
        mvn("-f", "examples/" + example + "/pom.xml", "package");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp",
                ROOT.resolve("examples/" + example + "/target/" + example + ".jar") + ":" + CORE_JAR, mainClass));
        cmd.addAll(List.of(args));
        return exec(ROOT, cmd, env);
    }

    /** 10 words: the x4, cat x2, end x2, and, hat. */
    private static void writeThreeTexts(Path texts) throws IOException {
        Files.writeString(texts.resolve("a.txt"), "the cat and the hat");
        Files.writeString(texts.resolve("b.txt"), "The end. THE END");
        Files.writeString(texts.resolve("c.txt"), "cat");
    }

    @Test
    void wordCountExampleCountsWordsAcrossChildProcesses(@TempDir Path texts) throws Exception {
        writeThreeTexts(texts);
        Run r = buildAndRun("word-count", "example.WordCount", texts.toString());
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("3 files, 10 words, 2 worker processes").contains("4 the\n").contains("2 cat\n")
                .contains("2 end\n");
    }

    @Test
    void wordCountWithAPoolGivesTheSameCounts(@TempDir Path texts) throws Exception {
        writeThreeTexts(texts);
        Run r = buildAndRun("word-count", "example.WordCountPool", texts.toString());
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("3 files, 10 words, pool of 2 worker processes").contains("4 the\n")
                .contains("2 cat\n").contains("2 end\n");
    }

    @Test
    void countersAndLocksExampleLosesNoUpdateAndTakesOverADeadHoldersLock() throws Exception {
        Run r = buildAndRun("counters-and-locks", "example.CountersAndLocks");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("counter = 400000 (expected 400000)").contains("a = 4000, b = 4000")
                .containsPattern("child \\d+ holds the lock: true")
                .contains("parent took the lock over; previous owner died: true")
                .contains("repairing the half-done update: a = 4001, b = 4000")
                .contains("a = 4001, b = 4001 (consistent again)");
    }

    @Test
    void managerExampleSharesContainersAcrossChildrenAndSurvivesAKilledWriter() throws Exception {
        Run r = buildAndRun("manager", "example.ManagerTour");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("appends: 40000 items, 40000 distinct, sum 799980000 ")
                .contains("nested: ls[1] = [1, 0], d[inner] = [1, 2], ns.y = [1, 2, 10] ")
                .contains("merges: hits = 10000 ")
                .containsPattern("killed writer: exit code -9; (\\d+) entries, \\1 whole and in order; the list still works: true")
                .contains("by name: {child saw threads=8, threads=8} ")
                .contains("manager closed");
    }

    // ---- examples/python-interop: Java and CPython share memory both ways ----

    private static final String NO_NUMPY = "numpy is not installed: skipping the numpy part";
    private static final String ALL_OK = "OK: Java read Python's writes and Python read Java's, both directions";

    @Test
    void pythonInteropExampleSharesArrayAndListBothWaysWithNumpyWhenInstalled() throws Exception {
        assumeTrue(python3("import sys"), "python3 is not installed");
        Run r = buildAndRun("python-interop", "example.PythonInterop", ROOT.resolve("examples/python-interop").toString());
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains(ALL_OK).doesNotContain("FAILED");
        if (python3("import numpy")) {
            assertThat(r.out()).contains("python numpy sum=249999750000.0 a[10]=5.0").doesNotContain(NO_NUMPY);
        } else {
            assertThat(r.out()).contains(NO_NUMPY); // only the numpy part is skipped, and says so
        }
    }

    @Test
    void pythonInteropExampleStillSharesBothWaysWithoutNumpy(@TempDir Path fakes) throws Exception {
        assumeTrue(python3("import sys"), "python3 is not installed");
        // a "numpy" first on PYTHONPATH that fails to import, as if numpy were not installed
        Path numpy = Files.createDirectories(fakes.resolve("numpy"));
        Files.writeString(numpy.resolve("__init__.py"), "raise ImportError('hidden by ExamplesTest')\n");
        Run r = buildAndRun(Map.of("PYTHONPATH", fakes.toString()), "python-interop", "example.PythonInterop",
                ROOT.resolve("examples/python-interop").toString());
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains(NO_NUMPY, "python memoryview sum=249999750000.0 a[10]=5.0", ALL_OK)
                .doesNotContain("FAILED");
    }

    private static boolean python3(String statement) {
        try {
            Process p = new ProcessBuilder("python3", "-c", statement).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
