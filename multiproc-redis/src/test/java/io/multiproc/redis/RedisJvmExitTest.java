package io.multiproc.redis;

import io.multiproc.manager.Manager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.api.RedissonClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An unclosed RedisManager or RedisPool does not keep the user's JVM alive, as the local Manager and Pool
 * do not (decision 123); a closed client leaves no thread behind.
 */
class RedisJvmExitTest {

    /** A user's program that never closes its manager or pool and returns from main. */
    public static final class Unclosed {
        public static void main(String[] args) {
            Manager m = RedisManager.connect(args[0], "exit");
            List<Integer> list = m.list();
            list.add(1);
            try (RedisPoolWorkers w = RedisPoolWorkers.start(RedisPool.singleServer(args[0]), "exit", 1, Duration.ofSeconds(5), null)) {
                RedisPool pool = RedisPool.connect(args[0], "exit");
                System.out.println("map=" + pool.map(x -> x + 1, List.of(1, 2)) + " list=" + list);
            }
            System.out.println("main returns");
        }
    }

    @Test
    void aProgramThatNeverClosesItsManagerAndPoolExitsAfterMainReturns(@TempDir Path dir) throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            Path out = dir.resolve("out");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    Unclosed.class.getName(), redis.url())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                // main returns after the pool's worker JVM booted and answered: wait for that generously
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
                while (!Files.readString(out).contains("main returns") && p.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(Files.readString(out)).contains("map=[2, 3] list=[1]", "main returns");
                // then the JVM must exit within seconds, not hang on Redisson's non-daemon threads
                assertThat(p.waitFor(15, TimeUnit.SECONDS)).as("exited; output:%n%s", Files.readString(out)).isTrue();
                assertThat(p.exitValue()).isZero();
            } finally {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void aClosedClientLeavesNoThreadRunning() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            List<String> before = threads(); // other tests' clients in this JVM are not this one's
            RedissonClient c = Clients.create(RedisManager.configFor(redis.url()));
            c.getBucket("k").set("v");
            assertThat(threads()).isNotEqualTo(before);
            Clients.shutdown(c);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!before.containsAll(threads()) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(threads()).isSubsetOf(before);
        }
    }

    /** Live threads of a Redisson client: its timer and our daemon event loop and executor threads. */
    private static List<String> threads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("redisson-") || n.startsWith("mp-redis-netty-") || n.startsWith("mp-redis-exec-"))
                .toList();
    }
}
