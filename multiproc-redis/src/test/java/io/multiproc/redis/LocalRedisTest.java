package io.multiproc.redis;

import io.multiproc.manager.Manager;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The throwaway server every Redis test and benchmark starts: it answers, restarts, and leaves nothing behind. */
class LocalRedisTest {

    @Test
    void aStartedServerAnswersOnLoopbackAndIsGoneAfterClose() throws Exception {
        long pid;
        int port;
        try (LocalRedis redis = LocalRedis.start()) {
            assertThat(redis.command("PING")).isEqualTo("+PONG");
            assertThat(redis.command("CONFIG GET save")).isEqualTo("*2");
            assertThat(redis.url()).isEqualTo("redis://127.0.0.1:" + redis.port());
            pid = redis.pid();
            port = redis.port();
            assertThat(pid).isPositive();
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(java.io.IOException.class);
    }

    @Test
    void aKilledServerLosesItsDataAndRestartsOnTheSamePort() {
        try (LocalRedis redis = LocalRedis.start()) {
            redis.command("SET k v");
            assertThat(redis.command("GET k")).isEqualTo("$1");
            int port = redis.port();
            redis.kill();
            assertThat(redis.isRunning()).isFalse();
            redis.restart();
            assertThat(redis.port()).isEqualTo(port);
            assertThat(redis.command("GET k")).isEqualTo("$-1");
        }
    }

    @Test
    void badExtraArgumentsFailWithTheServersOwnMessage() {
        assertThatThrownBy(() -> LocalRedis.start(List.of("--no-such-option", "1")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no-such-option");
    }

    @Test
    void aManagerConnectsAndClosesItsConnection() {
        try (LocalRedis redis = LocalRedis.start(); Manager m = RedisManager.connect(redis.url(), "smoke")) {
            assertThat(m.name()).isEqualTo("smoke");
            assertThat(((RedisManager) m).redisson().getKeys().count()).isZero();
        }
    }

    @Test
    void aBadManagerNameIsRefusedNamingIt() {
        assertThatThrownBy(() -> RedisManager.connect("redis://127.0.0.1:1", "a b"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name=a b");
    }
}
