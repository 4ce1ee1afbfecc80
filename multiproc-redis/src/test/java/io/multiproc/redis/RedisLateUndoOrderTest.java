package io.multiproc.redis;

import io.multiproc.testing.Children;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis hangs while a timed queue call waits, the call gives up, Redis resumes and performs it late, and it is
 * undone (decision 229; for offers a give-back sent until answered, decision 263). The undo must leave the queue
 * as if the call had never been made: the items the producer did put, in the order it put them, each once.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisLateUndoOrderTest {
    private static final long SHORT_WAIT_MS = 300;

    /**
     * A producer puts x then y; its next offer of x times out while Redis hangs and returns false. The
     * consumer must still get x then y: the undo takes out the x the late offer added (at the tail), not the
     * x the producer did put (at the head).
     */
    @Test
    void anOfferThatTimedOutWhileRedisHungDoesNotReorderTheItemsThatWerePut() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "undoorder")) {
            BlockingQueue<String> q = m.queue();
            putXYThenOfferXLate(redis, q);
            assertThat(drain(q)).as("what the consumer gets").containsExactly("x", "y");
        }
    }

    /**
     * The same on a bounded queue (capacity 3): the consumer gets x then y, each once, and the queue still
     * has room for exactly one more item, as after two puts.
     */
    @Test
    void aBoundedQueuesOfferThatTimedOutWhileRedisHungKeepsTheItemsThatWerePutAndTheirRoom() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "undoorder")) {
            BlockingQueue<String> q = m.queue(3);
            putXYThenOfferXLate(redis, q);
            assertThat(q.offer("z")).as("room for a third item").isTrue();
            assertThat(q.offer("w")).as("no room for a fourth").isFalse();
            assertThat(drain(q)).as("what the consumer gets").containsExactly("x", "y", "z");
        }
    }

    private static void putXYThenOfferXLate(LocalRedis redis, BlockingQueue<String> q) throws Exception {
        q.put("x");
        // a timed offer before the hang: a bounded queue's is then subscribed to its room's channel, so the late
        // offer's try is sent (not refused for want of a subscription)
        assertThat(q.offer("y", 1, TimeUnit.SECONDS)).isTrue();
        hang(redis);
        boolean offered;
        try {
            offered = q.offer("x", SHORT_WAIT_MS, TimeUnit.MILLISECONDS);
        } finally {
            resume(redis);
        }
        assertThat(offered).as("an offer while Redis hangs").isFalse();
        waitForSize(q, 2);
    }

    /**
     * A consumer's timed poll times out while Redis hangs; Redis resumes and the consumer polls again at
     * once. It must get the head item a, then b: the item the late pop took goes back before the next poll
     * takes anything, so the consumer does not see b before a.
     */
    @Test
    void aPollThatTimedOutWhileRedisHungDoesNotLetTheNextPollOvertakeTheHeadItem() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "undoorder2")) {
            for (BlockingQueue<String> q : List.<BlockingQueue<String>>of(m.queue(), m.queue(10))) {
                q.put("a");
                q.put("b");
                hang(redis);
                String first;
                try {
                    first = q.poll(SHORT_WAIT_MS, TimeUnit.MILLISECONDS);
                } finally {
                    resume(redis);
                }
                assertThat(first).as("a poll while Redis hangs").isNull();
                List<String> got = new ArrayList<>();
                got.add(q.poll(5, TimeUnit.SECONDS));
                got.add(q.poll(5, TimeUnit.SECONDS));
                assertThat(got).as("what the consumer gets next (%s)", q.getClass().getSimpleName()).containsExactly("a", "b");
                assertThat(q.poll()).isNull();
            }
        }
    }

    private static List<String> drain(BlockingQueue<String> q) {
        List<String> out = new ArrayList<>();
        for (String e; (e = q.poll()) != null; ) {
            out.add(e);
        }
        return out;
    }

    /** Waits (at most 3 s: an undo is one round trip after the late reply) for {@code q} to hold {@code n} items. */
    private static void waitForSize(BlockingQueue<?> q, int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (q.size() != n && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        Thread.sleep(200); // an undo still on its way would show in the order
    }

    private static void hang(LocalRedis redis) throws Exception {
        Children.signal("STOP", redis.pid());
    }

    private static void resume(LocalRedis redis) throws Exception {
        Children.signal("CONT", redis.pid());
    }
}
