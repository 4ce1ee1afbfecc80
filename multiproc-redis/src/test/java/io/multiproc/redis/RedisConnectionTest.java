package io.multiproc.redis;

import io.multiproc.manager.Manager;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Redis down at connect, and Redis killed and restarted mid-run: clear failures within a bound, never a hang. */
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
}
