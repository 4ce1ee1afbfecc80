package io.multiproc.redis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Redis synchronization objects at their counters' limits (a long-running program reaches them). */
class RedisSyncLimitsTest {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    @Test
    void aBarrierKeepsWaitingForItsPartiesAfterTwoToTheThirtyTwoTrips() throws Exception {
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "wrap")) {
            RedisBarrier b = m.barrier("b", 2);
            // where 2^32 trips leave it: the last generation before the 32-bit wrap
            m.redisson().getMap(m.key(RedisSync.BARRIER, "b"), org.redisson.client.codec.StringCodec.INSTANCE)
                    .fastPut("g", Long.toString((1L << 32) - 1));
            passTwiceInPairs(b);
            // alone, a party waits for the other: it does not pass through
            assertThatThrownBy(() -> b.await(Duration.ofMillis(500))).isInstanceOf(TimeoutException.class);
        }
    }

    /**
     * The newest broken generation the barrier forgot (decision 240) means nothing once the 32-bit generation
     * count comes round to it again: the parties of the passes after that still pass.
     */
    @Test
    void aBarrierStillTripsWhenItsGenerationCountComesRoundToTheLastBreakItForgot() throws Exception {
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "wrap3")) {
            RedisBarrier b = m.barrier("b", 2);
            // 2^32 - 1 generations after generation 5 was reset and then dropped from the remembered list
            var hash = m.redisson().getMap(m.key(RedisSync.BARRIER, "b"), org.redisson.client.codec.StringCodec.INSTANCE);
            hash.fastPut("bd", "5");
            hash.fastPut("g", "4");
            passTwiceInPairs(b);
        }
    }

    @Test
    void aSemaphoreRefusesPermitsBeyondAnIntAndNeverReportsANegativeCount() {
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "wrap2")) {
            RedisSemaphore s = m.semaphore(1);
            assertThat(s.tryAcquire()).isTrue();
            String key = s.keyForTests();
            m.redisson().getBucket(key, org.redisson.client.codec.StringCodec.INSTANCE).set(Integer.toString(Integer.MAX_VALUE));
            assertThatThrownBy(s::release).isInstanceOf(IllegalStateException.class).hasMessageContaining("overflows");
            assertThat(s.availablePermits()).isEqualTo(Integer.MAX_VALUE);
            m.redisson().getBucket(key, org.redisson.client.codec.StringCodec.INSTANCE).set(Long.toString(1L << 31));
            assertThat(s.availablePermits()).isEqualTo(Integer.MAX_VALUE);
        }
    }

    /** Two passes of a two-party barrier, this thread and another: in each, one party gets 0 and the other 1. */
    private static void passTwiceInPairs(RedisBarrier b) throws Exception {
        for (int round = 0; round < 2; round++) {
            CompletableFuture<Integer> other = CompletableFuture.supplyAsync(() -> {
                try {
                    return b.await(Duration.ofSeconds(30));
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            int mine = b.await(Duration.ofSeconds(30));
            assertThat(mine + other.get(30, TimeUnit.SECONDS)).as("round %d: one party gets 0, the other 1", round).isEqualTo(1);
        }
    }
}
