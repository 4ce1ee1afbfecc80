package io.multiproc.cli;

import io.multiproc.process.ChildProcess;
import io.multiproc.shm.SharedMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class CliTest {
    private final PrintStream realOut = System.out;
    private final PrintStream realErr = System.err;

    @AfterEach
    void restore() {
        System.setOut(realOut);
        System.setErr(realErr);
        for (ChildProcess c : ChildProcess.activeChildren()) {
            c.close();
        }
    }

    private record Result(int exit, String out, String err) {
    }

    private Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(new Main()).execute(args);
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(realOut);
            System.setErr(realErr);
        }
    }

    @Test
    void benchRejectsAnUnknownScenarioByName() {
        Result r = run("bench", "--scenario", "no-such-thing");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--scenario=no-such-thing").contains("value-counter");
    }

    @Test
    void benchJsonPrintsFirstRunRowsThenSteadyStateRowsWithNoLostUpdates() {
        Result r = run("bench", "--scenario", "value-counter", "--json");
        assertThat(r.exit()).isZero();
        java.util.List<String> lines = r.out().strip().lines().toList();
        // the README's program once in a fresh JVM (lock-free, then getLock()), then the warmed work phases
        assertThat(lines).hasSize(4);
        assertThat(lines).allSatisfy(line -> assertThat(line).startsWith("{\"scenario\":\"value-counter").endsWith("}")
                .contains("\"java_total_s\":").doesNotContain("WRONG RESULT"));
        assertThat(lines.subList(0, 2)).allSatisfy(line -> assertThat(line).contains("\"phase\":\"first run\"")
                .contains("fresh JVM").doesNotContain("\"java_total_s\":null"));
        assertThat(lines.subList(2, 4)).allSatisfy(line -> assertThat(line).contains("\"phase\":\"steady state\"")
                .contains("\"java_work_s\":").contains("lost 0;"));
        assertThat(lines.get(1)).contains("locked");
        assertThat(lines.get(3)).contains("locked");
    }

    @Test
    void benchRejectsARepeatCountOutOfRangeNamingIt() {
        Result r = run("bench", "--scenario", "value-counter", "--repeat", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--repeat=0");
    }

    @Test
    void lsShowsALiveOwnersSegmentAndCleanLeavesIt() throws Exception {
        try (SharedMemory shm = SharedMemory.create(null, 4096)) {
            try {
                Result ls = run("ls");
                assertThat(ls.exit()).isZero();
                assertThat(ls.out()).containsPattern(shm.name() + "\\s+4096\\s+live\\s+" + ProcessHandle.current().pid() + "\\.");
                Result clean = run("clean");
                assertThat(clean.exit()).isZero();
                assertThat(clean.out()).doesNotContain(shm.name());
                assertThat(Files.exists(Path.of("/dev/shm", shm.name()))).isTrue();
            } finally {
                shm.unlink();
            }
        }
    }

    @Test
    void cleanRemovesTheSegmentOfAKilledOwner() throws Exception {
        String name = "mpcli_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
        ChildProcess owner = ChildProcess.start(() -> {
            try {
                SharedMemory.create(name, 4096);
                Thread.sleep(60_000);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try {
            Path file = Path.of("/dev/shm", name);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!Files.exists(file) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(file).exists();
            owner.kill();
            owner.join();
            Result clean = run("clean");
            assertThat(clean.out()).contains("removed " + name);
            assertThat(file).doesNotExist();
        } finally {
            owner.close();
            Files.deleteIfExists(Path.of("/dev/shm", name));
        }
    }
}
