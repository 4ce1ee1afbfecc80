package io.multiproc.redis;

import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RList;
import org.redisson.api.RedissonClient;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Values reach Redis as multiproc codec bytes, with no Kryo anywhere. */
class RedisCodecTest {
    record Trade(long id, String symbol, double price, int qty) {
    }

    @Test
    void recordsCollectionsAndNullsRoundTripThroughRawRedissonWithTheCodec() {
        try (LocalRedis redis = LocalRedis.start()) {
            RedissonClient client = Redisson.create(RedisManager.configFor(redis.url()));
            try {
                RList<Object> l = client.getList("codec-test", RedisCodec.INSTANCE);
                l.add(new Trade(1, "ACME", 9.5, 100));
                l.add(Map.of("k", List.of(1, 2)));
                l.add(null);
                assertThat(l.readAll()).containsExactly(new Trade(1, "ACME", 9.5, 100), Map.of("k", List.of(1, 2)), null);
                // the stored bytes are exactly what the codec writes
                byte[] stored = client.getList("codec-test", org.redisson.client.codec.ByteArrayCodec.INSTANCE).get(0) instanceof byte[] b ? b : null;
                assertThat(stored).isEqualTo(RedisCodec.INSTANCE.bytesOf(new Trade(1, "ACME", 9.5, 100)));
            } finally {
                client.shutdown();
            }
        }
    }

    @Test
    void kryoIsNotOnTheClassPath() {
        assertThatThrownBy(() -> Class.forName("com.esotericsoftware.kryo.Kryo")).isInstanceOf(ClassNotFoundException.class);
    }
    @Test
    void aValueInRedisNamingAnotherRedisIsRefusedWithoutConnectingThere() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             java.net.ServerSocket elsewhere = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             io.multiproc.manager.Manager m = RedisManager.connect(redis.url(), "victim")) {
            // whoever can write to the Redis stores a handle whose configuration points somewhere else
            String own = ((RedisManager) m).configYaml();
            String port = own.replaceAll("(?s).*redis://127\\.0\\.0\\.1:(\\d+).*", "$1");
            String other = String.valueOf(elsewhere.getLocalPort());
            assertThat(port).hasSameSizeAs(other); // so that the bytes below stay well formed
            java.util.concurrent.BlockingQueue<Object> q = m.queue();
            byte[] handle = RedisCodec.INSTANCE.bytesOf(m.list("x"));
            byte[] foreign = new String(handle, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .replace("127.0.0.1:" + port, "127.0.0.1:" + other).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(foreign).isNotEqualTo(handle);
            RedissonClient raw = ((RedisManager) m).redisson();
            raw.getList(((RedisQueue<?>) q).key(), org.redisson.client.codec.ByteArrayCodec.INSTANCE).add(foreign);
            assertThatThrownBy(() -> q.poll(5, java.util.concurrent.TimeUnit.SECONDS))
                    .hasStackTraceContaining("no client of this JVM uses");
            elsewhere.setSoTimeout(2_000);
            assertThatThrownBy(elsewhere::accept).as("a connection to the handle's Redis")
                    .isInstanceOf(java.net.SocketTimeoutException.class);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aManagersOwnObjectsTravelThroughItsQueue() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             io.multiproc.manager.Manager m = RedisManager.connect(redis.url(), "own")) {
            java.util.concurrent.BlockingQueue<Object> q = m.queue();
            java.util.concurrent.locks.Lock lock = m.lock();
            List<Object> list = m.list("named");
            q.put(lock);
            q.put(list);
            q.put(m);
            assertThat(q.take()).isInstanceOf(RedisLock.class);
            Object l = q.take();
            ((List<Object>) l).add(7);
            assertThat(list).containsExactly(7);
            assertThat(q.take()).isInstanceOf(RedisManager.class);
        }
    }
}
