package io.multiproc.redis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every pop moves its item into a pending list of its own until its receipt (decision 247); receipts of an
 * unbounded queue's pops may be sent later and together (decision 255). Whatever the way items were popped,
 * no pending list stays in Redis: not once the consumer stops popping (it keeps its manager open), and not
 * after its manager closes right after the last pop.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisQueuePendingListTest {
    private static final int ITEMS = 300;

    @Test
    void noPendingListStaysOnceAConsumerStopsPopping() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "pending")) {
            BlockingQueue<Integer> q = m.queue();
            popEveryWay(q);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (pendingLists(redis) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(pendingLists(redis)).as("pending lists 10 s after the last of " + ITEMS + " pops").isZero();
            assertThat(q.size()).as("items left").isZero();
        }
    }

    @Test
    void noPendingListStaysWhenTheManagerClosesRightAfterItsPops() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "pending")) {
                popEveryWay(m.queue());
            }
            assertThat(pendingLists(redis)).as("pending lists right after close").isZero();
        }
    }

    /** Puts {@link #ITEMS} items and pops them in turn by poll(), a short timed poll, a blocking timed poll and take. */
    private static void popEveryWay(BlockingQueue<Integer> q) throws InterruptedException {
        for (int i = 0; i < ITEMS; i++) {
            q.put(i);
        }
        for (int i = 0; i < ITEMS; i++) {
            Integer got = switch (i % 4) {
                case 0 -> q.poll();
                case 1 -> q.poll(300, TimeUnit.MILLISECONDS);
                case 2 -> q.poll(5, TimeUnit.SECONDS);
                default -> q.take();
            };
            assertThat(got).as("pop " + i).isEqualTo(i);
        }
    }

    /** How many pending lists Redis holds (KEYS answers with the array's length first). */
    private static int pendingLists(LocalRedis redis) {
        String reply = redis.command("KEYS *:pop:*");
        assertThat(reply).as("KEYS reply").startsWith("*");
        return Integer.parseInt(reply.substring(1));
    }
}
