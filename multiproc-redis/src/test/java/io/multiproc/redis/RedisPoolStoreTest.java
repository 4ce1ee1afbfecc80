package io.multiproc.redis;

import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RList;
import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.client.RedisException;
import org.redisson.client.WriteRedisConnectionException;
import org.redisson.client.codec.ByteArrayCodec;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Redis pool's queue, seen by Redis itself: what withdrawing a failed map's chunks costs the one
 * server every caller and worker shares. A real redis-server.
 */
class RedisPoolStoreTest {
    private static final int CHUNKS = 100_000;

    /** A chunk message as a caller queues it: caller and id (the 16-byte header), then its payload. */
    private static byte[] message(long caller, long id) {
        return ByteBuffer.allocate(RedisPoolFrames.HEADER_BYTES + 24).putLong(caller).putLong(id)
                .putLong(id * 31).putLong(-id).putLong(caller ^ id).array();
    }

    /** How many times the server read a whole list (LRANGE, in scripts too) since it started. */
    private static long wholeListReads(RedissonClient client) {
        Map<String, String> stats = client.getRedisNodes(RedisNodes.SINGLE).getInstance().info(RedisNode.InfoSection.COMMANDSTATS);
        String line = stats.getOrDefault("cmdstat_lrange", "calls=0,");
        return Long.parseLong(line.substring(line.indexOf("calls=") + 6, line.indexOf(',')));
    }

    /** Also under the least bulk limit Redis can be given (1 MB): 100,000 headers take 1.6 MB. */
    @Test
    void aFailedMapOf100000ChunksIsWithdrawnInOnePassOverTheQueueAndOtherCallersKeepTheirOrder() {
        try (LocalRedis redis = LocalRedis.start()) {
            assertThat(redis.command("CONFIG SET proto-max-bulk-len 1mb")).isEqualTo("+OK");
            RedissonClient client = Redisson.create(RedisManager.configFor(redis.url()));
            try {
                RedisPoolStore store = new RedisPoolStore(client, "withdraw");
                RList<byte[]> queue = client.getList(store.queueKey(), ByteArrayCodec.INSTANCE);
                List<byte[]> failed = new ArrayList<>(CHUNKS);
                List<byte[]> queued = new ArrayList<>(2 * CHUNKS);
                for (int id = 0; id < CHUNKS; id++) {
                    byte[] mine = message(7, id);
                    failed.add(mine);
                    queued.add(mine);
                    queued.add(message(8, id)); // another caller's chunks, interleaved
                }
                for (int from = 0; from < queued.size(); from += 10_000) {
                    queue.addAll(queued.subList(from, from + 10_000));
                }
                long before = wholeListReads(client);

                store.unqueueSome(failed, true);

                assertThat(wholeListReads(client) - before).as("passes over the 200,000 queued chunks").isEqualTo(1);
                List<byte[]> left = queue.readAll();
                assertThat(left).hasSize(CHUNKS);
                for (int id = 0; id < CHUNKS; id++) {
                    assertThat(left.get(id)).as("the other caller's chunk %d, in its place", id).isEqualTo(message(8, id));
                }
            } finally {
                client.shutdown();
            }
        }
    }

    /**
     * A write Redis cut short is that call's refusal only for a bulk Redis may refuse (1 MB or more) and
     * while Redis answers, whatever the caller's interrupt status; otherwise a failure, as before.
     */
    @Test
    void aCutWriteIsARefusalOnlyForABigBulkWhileRedisAnswers() {
        LocalRedis redis = LocalRedis.start();
        RedissonClient client = Redisson.create(RedisManager.configFor(redis.url()));
        try {
            RedisPoolStore store = new RedisPoolStore(client, "cut");
            RuntimeException cut = new RedisException("failed", new WriteRedisConnectionException("Unable to write command into connection!"));
            assertThat(store.cutOff(cut, 2_000_000)).as("a big bulk, Redis answers").isTrue();
            assertThat(store.cutOff(cut, 1_000)).as("a small bulk: the network's doing").isFalse();
            assertThat(store.cutOff(new RedisException("ERR something"), 2_000_000)).as("no cut write").isFalse();
            Thread.currentThread().interrupt();
            try {
                assertThat(store.cutOff(cut, 2_000_000)).as("an interrupted caller").isTrue();
                assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is kept").isTrue();
            } finally {
                Thread.interrupted();
            }
            redis.kill();
            assertThat(store.cutOff(cut, 2_000_000)).as("Redis does not answer").isFalse();
        } finally {
            client.shutdown();
            redis.close();
        }
    }

    @Test
    void aWorkerLeaseOutsideItsBoundsIsRefusedNamingIt() {
        org.redisson.config.Config config = RedisPool.singleServer("redis://127.0.0.1:1"); // never reached
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RedisPoolWorkers.start(config, "p", 1, null, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("lease");
        for (java.time.Duration bad : List.of(java.time.Duration.ofMillis(99), java.time.Duration.ofSeconds(Long.MAX_VALUE))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> RedisPoolWorkers.start(config, "p", 1, bad, null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease=" + bad);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RedisPool.builder().noWorkerTimeout(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("noWorkerTimeout");
    }
}
