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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Builds and runs the standalone projects under examples/ as a user would: against the installed
 * artifact (this reactor's multiproc-core jar, installed into the local Maven repository like
 * {@code bin/install} does), offline, then {@code java -cp app.jar:multiproc-core.jar}. Runs in this
 * module because the reactor has packaged multiproc-core by then. examples/python-interop is run by
 * PythonInteropExampleTest in multiproc-core.
 */
class ExamplesTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path CORE_JAR = ROOT.resolve("multiproc-core/target/multiproc-core-0.1.0-SNAPSHOT.jar");

    private record Run(int exit, String out) {
    }

    private static Run exec(Path dir, List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as(String.join(" ", cmd)).isTrue();
        return new Run(p.exitValue(), out);
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
        mvn("-f", "examples/" + example + "/pom.xml", "package");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp",
                ROOT.resolve("examples/" + example + "/target/" + example + ".jar") + ":" + CORE_JAR, mainClass));
        cmd.addAll(List.of(args));
        return exec(ROOT, cmd);
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
}
