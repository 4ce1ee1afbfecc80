package io.multiproc.cli;

import io.multiproc.redis.LocalRedis;
import io.multiproc.redis.RedisPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code multiproc worker} serving a Pool across hosts from a real redis-server, to a map in this JVM. */
class WorkerCommandTest {

    @Test
    void workerServesAMapFromAnotherJvmThroughRedis() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            whileServing("serving Redis pool cli at " + redis.url() + " with 2 worker JVMs", () -> {
                try (RedisPool pool = RedisPool.connect(redis.url(), "cli")) {
                    List<Integer> items = IntStream.range(0, 500).boxed().toList();
                    assertThat(pool.map(x -> x * x, items, 25)).isEqualTo(items.stream().map(x -> x * x).toList());
                    long workerPid = pool.applyAsync(() -> ProcessHandle.current().pid()).get(60, TimeUnit.SECONDS);
                    assertThat(workerPid).isNotEqualTo(ProcessHandle.current().pid());
                }
            }, "worker", "--redis", redis.url(), "--pool", "cli", "--workers", "2");
        }
    }

    interface Check {
        void run() throws Exception;
    }

    /** Runs the command {@code args} on a thread, checks its first line, runs {@code check}, then stops it (exit 0). */
    private static void whileServing(String firstLine, Check check, String... args) throws Exception {
        PrintStream realOut = System.out;
        PipedInputStream printed = new PipedInputStream(4096);
        System.setOut(new PrintStream(new PipedOutputStream(printed), true, StandardCharsets.UTF_8));
        int[] exit = {-1};
        Thread serving = new Thread(() -> exit[0] = new CommandLine(new Main()).execute(args));
        serving.start();
        try {
            String line = new BufferedReader(new InputStreamReader(printed, StandardCharsets.UTF_8)).readLine();
            assertThat(line).isEqualTo(firstLine);
            check.run();
        } finally {
            serving.interrupt();
            serving.join(TimeUnit.SECONDS.toMillis(60));
            System.setOut(realOut);
        }
        assertThat(serving.isAlive()).isFalse();
        assertThat(exit[0]).isZero();
    }

    @Test
    void workerHelpNamesItsOptionsAndBadOnesAreRejectedByName() {
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("worker", "--help")).isZero();
        assertThat(out.toString()).contains("Usage: multiproc worker").contains("--redis").contains("--pool")
                .contains("--workers").contains("--lease").contains("RedisPool.connect");

        StringWriter err = new StringWriter();
        CommandLine bad = new CommandLine(new Main());
        bad.setErr(new PrintWriter(err));
        assertThat(bad.execute("worker", "--redis", "redis://127.0.0.1:1", "--pool", "a b")).isEqualTo(2);
        assertThat(err.toString()).contains("pool=a b");
        assertThat(new CommandLine(new Main()).setErr(new PrintWriter(new StringWriter())).execute("worker", "--pool", "x"))
                .isEqualTo(2);
    }

    @TempDir
    Path dir;

    @Test
    void aPasswordFromAFileServesAndNoPasswordIsEverPrinted() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            assertThat(redis.command("CONFIG SET requirepass s3cret-pw")).isEqualTo("+OK");
            Path passwordFile = dir.resolve("redis.password");
            Files.writeString(passwordFile, "s3cret-pw\n");
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
            whileServing("serving Redis pool pw at " + redis.url() + " with 1 worker JVMs", () -> {
                String withPassword = redis.url().replace("redis://", "redis://:s3cret-pw@");
                try (RedisPool pool = RedisPool.connect(withPassword, "pw")) {
                    assertThat(pool.map(x -> x + 1, List.of(1, 2, 3), 1)).containsExactly(2, 3, 4);
                }
            }, "worker", "--redis", redis.url(), "--password-file", passwordFile.toString(), "--pool", "pw", "--workers", "1");
        }
    }

    @Test
    void anUnreachableServerIsOneLineWithThePasswordHidden() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream realErr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = new CommandLine(new Main()).execute("worker", "--redis", "redis://:s3cret-pw@127.0.0.1:1",
                    "--pool", "pw", "--workers", "1");
        } finally {
            System.setErr(realErr);
        }
        assertThat(exit).isEqualTo(1);
        String text = err.toString(StandardCharsets.UTF_8);
        assertThat(text).startsWith("multiproc worker: cannot serve pool pw at redis://:***@127.0.0.1:1: ")
                .doesNotContain("s3cret-pw").doesNotContain("\tat ");
        assertThat(text.strip().lines()).hasSize(1);
    }
}
