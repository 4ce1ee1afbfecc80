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
}
