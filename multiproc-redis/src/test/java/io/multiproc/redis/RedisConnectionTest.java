package io.multiproc.redis;

import io.multiproc.manager.Manager;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Redis down at connect, Redis killed and restarted mid-run, and a close during an outage: clear failures
 * within a bound, never a hang.
 */
class RedisConnectionTest {

    @Test
    void connectingToAServerThatIsDownFailsFastNamingTheAddress() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        String url = "redis://127.0.0.1:" + port;
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> RedisManager.connect(url, "down"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("127.0.0.1:" + port);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("ms to fail").isLessThan(10_000);
    }

    @Test
    void aServerKilledMidRunFailsOperationsWithinTheBoundAndWorksAgainAfterRestart() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             Manager m = RedisManager.connect(redis.url(), "r" + UUID.randomUUID().toString().substring(0, 8))) {
            List<Integer> l = m.list("l");
            l.add(1);
            redis.kill();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> l.add(2)).isInstanceOf(RuntimeException.class)
                    .hasMessageContaining("127.0.0.1:" + redis.port());
            long failMs = (System.nanoTime() - t0) / 1_000_000;
            // the documented bound: (command timeout + retry delay) x (retries + 1), plus slack for a loaded machine
            assertThat(failMs).as("ms to fail").isLessThan(20_000);
            redis.restart();                                   // no persistence: the data is gone
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (true) {
                try {
                    l.add(3);
                    break;
                } catch (RuntimeException stillReconnecting) {
                    assertThat(System.nanoTime()).as("reconnected within 30 s").isLessThan(deadline);
                }
            }
            assertThat(l).containsExactly(3);
        }
    }

    /**
     * The first unnamed object's drop times out (its write is held longer than the command timeout); the
     * later ones, held less, are still dropped, and close reports the one it could not drop as an
     * IllegalStateException naming the manager, not as a Redisson exception.
     */
    @Test
    void closeDuringASlowServerStillDropsTheLaterObjectsAndNamesWhatItCouldNot() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "slowclose");
            List<String> keys = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                List<Integer> l = m.list();
                l.add(i);
                keys.add(((RedisProxy) l).key());
            }
            // longer than one command timeout (2 s), shorter than two: only the first drop is given up on
            long pauseMillis = RedisManager.COMMAND_TIMEOUT.toMillis() * 3 / 2;
            assertThat(redis.command("CLIENT PAUSE " + pauseMillis + " WRITE")).isEqualTo("+OK");
            long pausedAt = System.nanoTime();
            assertThatThrownBy(m::close).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("slowclose")
                    .hasMessageContaining("1 of 3")
                    .cause().isInstanceOf(org.redisson.client.RedisException.class);
            // a held write whose caller gave up may still run when the pause ends: wait past it
            Thread.sleep(Math.max(0, pauseMillis + 500 - (System.nanoTime() - pausedAt) / 1_000_000));
            assertThat(redis.command("EXISTS " + String.join(" ", keys)))
                    .as("the objects after the one whose drop timed out were dropped").isIn(":0", ":1");
            assertThatThrownBy(() -> m.list()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void closeWithTheServerDownThrowsAnIllegalStateExceptionNamingTheManager() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "deadclose");
            for (int i = 0; i < 3; i++) {
                m.list().add(i);
            }
            redis.kill();
            long t0 = System.nanoTime();
            assertThatThrownBy(m::close).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("deadclose")
                    .hasMessageContaining("127.0.0.1:" + redis.port())
                    .hasMessageContaining("3 of 3");
            assertThat((System.nanoTime() - t0) / 1_000_000).as("ms to close").isLessThan(60_000);
            assertThatThrownBy(() -> m.list()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }
}
