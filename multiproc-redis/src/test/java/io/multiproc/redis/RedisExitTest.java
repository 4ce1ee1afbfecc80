package io.multiproc.redis;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redisson's threads are not daemon threads: a program that forgot to close its Redis manager would never
 * end (a Python program using redis-py does). Once nothing but those threads is left, the clients are
 * shut down and the JVM ends, as it does after main.
 */
class RedisExitTest {

    @Test
    void aProgramThatDoesNotCloseItsRedisManagerStillEndsAfterMain() throws Exception {
        runsToItsEnd();
    }

    @Test
    void aProgramThatDoesNotCloseItsRedisPoolEitherStillEndsAfterMain() throws Exception {
        runsToItsEnd("pool");
    }

    private static void runsToItsEnd(String... more) throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    UnclosedManagerMain.class.getName(), redis.url()));
            cmd.addAll(List.of(more));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try {
                boolean ended = p.waitFor(30, TimeUnit.SECONDS);
                String out = ended ? new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8) : "(still running)";
                assertThat(ended).as("the program ended; output: %s", out).isTrue();
                assertThat(p.exitValue()).as(out).isZero();
                assertThat(out).contains("size 1");
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
