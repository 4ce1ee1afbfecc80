package io.multiproc.redis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every pop moves its item into a pending list of its own until its receipt (decision 247); receipts of an
 * unbounded queue's pops may be sent later and together (decision 255), and a timed offer's mark goes with
 * them (decision 263). Whatever the way items were offered and popped, no pending list or offer mark stays in
 * Redis: not once the consumer stops popping (it keeps its manager open), and not after its manager closes
 * right after the last pop.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisQueuePendingListTest {
    private static final int ITEMS = 300;

    @Test
    void noPendingListStaysOnceAConsumerStopsPopping() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "pending")) {
            for (BlockingQueue<Integer> q : List.<BlockingQueue<Integer>>of(m.queue(), m.queue(ITEMS))) {
                popEveryWay(q);
                awaitNoPendingList(List.of(redis));
                assertThat(q.size()).as("items left").isZero();
            }
        }
    }

    /** On a cluster too: one receipt for many pops, and each timed offer's try, name keys of the queue's hash slot only. */
    @Test
    void noPendingListStaysOnAClusterOnceAConsumerStopsPopping() throws Exception {
        try (LocalRedisCluster cluster = LocalRedisCluster.start(3);
             RedisManager m = (RedisManager) RedisManager.connect(cluster.config(), "pending")) {
            for (BlockingQueue<Integer> q : List.<BlockingQueue<Integer>>of(m.queue(), m.queue(ITEMS))) {
                popEveryWay(q);
                awaitNoPendingList(cluster.nodes());
                assertThat(q.size()).as("items left").isZero();
            }
        }
    }

    @Test
    void noPendingListStaysWhenTheManagerClosesRightAfterItsPops() throws Exception {
        try (LocalRedis redis = LocalRedis.start()) {
            try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "pending")) {
                popEveryWay(m.queue());
            }
            assertThat(pendingLists(List.of(redis))).as("pending lists and offer marks right after close").isZero();
        }
    }

    /**
     * Adds {@link #ITEMS} items by put and timed offer in turn, and pops them in turn by poll(), a short timed
     * poll, a blocking timed poll and take.
     */
    private static void popEveryWay(BlockingQueue<Integer> q) throws InterruptedException {
        for (int i = 0; i < ITEMS; i++) {
            if (i % 2 == 0) {
                q.put(i);
            } else {
                assertThat(q.offer(i, 5, TimeUnit.SECONDS)).as("timed offer " + i).isTrue();
            }
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

    private static void awaitNoPendingList(List<LocalRedis> nodes) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pendingLists(nodes) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(pendingLists(nodes)).as("pending lists and offer marks 10 s after the last of " + ITEMS + " pops").isZero();
    }

    /** How many pending lists and timed offers' marks the nodes hold (KEYS answers with the array's length first). */
    private static int pendingLists(List<LocalRedis> nodes) {
        int n = 0;
        for (LocalRedis node : nodes) {
            for (String pattern : List.of("*:pop:*", "*:push:*")) {
                String reply = node.command("KEYS " + pattern);
                assertThat(reply).as("KEYS reply").startsWith("*");
                n += Integer.parseInt(reply.substring(1));
            }
        }
        return n;
    }
}
