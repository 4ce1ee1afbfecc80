package io.multiproc.cli;

import io.multiproc.redis.LocalRedis;
import io.multiproc.redis.RedisPool;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code multiproc worker} serving a Pool across hosts from a real redis-server, to a map in this JVM. */
class WorkerCommandTest {

    @Test
    void workerServesAMapFromAnotherJvmThroughRedis() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            PrintStream realOut = System.out;
            PipedInputStream printed = new PipedInputStream(4096);
            System.setOut(new PrintStream(new PipedOutputStream(printed), true, StandardCharsets.UTF_8));
            int[] exit = {-1};
            Thread serving = new Thread(() -> exit[0] = new CommandLine(new Main()).execute("worker",
                    "--redis", redis.url(), "--pool", "cli", "--workers", "2"));
            serving.start();
            try {
                String line = new BufferedReader(new InputStreamReader(printed, StandardCharsets.UTF_8)).readLine();
                assertThat(line).isEqualTo("serving Redis pool cli at " + redis.url() + " with 2 worker JVMs");
                try (RedisPool pool = RedisPool.connect(redis.url(), "cli")) {
                    List<Integer> items = IntStream.range(0, 500).boxed().toList();
                    assertThat(pool.map(x -> x * x, items, 25)).isEqualTo(items.stream().map(x -> x * x).toList());
                    long workerPid = pool.applyAsync(() -> ProcessHandle.current().pid()).get(60, TimeUnit.SECONDS);
                    assertThat(workerPid).isNotEqualTo(ProcessHandle.current().pid());
                }
            } finally {
                serving.interrupt();
                serving.join(TimeUnit.SECONDS.toMillis(60));
                System.setOut(realOut);
            }
            assertThat(serving.isAlive()).isFalse();
            assertThat(exit[0]).isZero();
        }
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
}
