package io.multiproc.redis;

import io.multiproc.testing.Children;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis hangs (SIGSTOP) for longer than Redisson's command timeout (2 s) while a queue pop is on its way; the
 * pop gives up (a timed poll returns null, a take or poll throws the manager's outage exception); Redis resumes
 * and runs the pop. Redisson has failed the command by then, so no reply comes back: the item Redis popped
 * must not be lost. After Redis comes back the consumer gets every item that was put, once each, in order.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RedisQueueLongHangTest {
    /** Past what Redisson waits for a pop (its 2 s command timeout plus a blocking pop's wait, retries): it gives the pop up first. */
    private static final long HANG_MS = 6_000;

    /** A take that gave up while Redis hung loses no item: after Redis comes back the item is still in the queue. */
    @Test
    void aTakeThatGaveUpWhileRedisHungLosesNoItem() throws Exception {
        eachQueueAfterAPopDuringALongHang("take", BlockingQueue::take);
    }

    /** A timed poll whose last part is a plain pop (under a second) returns null while Redis hangs, and loses nothing. */
    @Test
    void aShortTimedPollThatGaveUpWhileRedisHungLosesNoItem() throws Exception {
        eachQueueAfterAPopDuringALongHang("poll(300 ms)", q -> q.poll(300, TimeUnit.MILLISECONDS));
    }

    /** A timed poll that waits on the server (a second or more) returns null while Redis hangs, and loses nothing. */
    @Test
    void aBlockingTimedPollThatGaveUpWhileRedisHungLosesNoItem() throws Exception {
        eachQueueAfterAPopDuringALongHang("poll(1500 ms)", q -> q.poll(1500, TimeUnit.MILLISECONDS));
    }

    /** An untimed poll while Redis hangs answers or fails, and loses nothing. */
    @Test
    void aPollWhileRedisHungLosesNoItem() throws Exception {
        eachQueueAfterAPopDuringALongHang("poll()", BlockingQueue::poll);
    }

    /**
     * A producer's timed offer returns false while Redis hangs past Redisson's timeout; Redis then resumes and
     * runs the push, with no reply to undo it by. Neither queue may hold the item the producer was told was not
     * added: the consumer gets only what was added before, and a bounded queue has all its room back.
     */
    @Test
    void aTimedOfferThatGaveUpWhileRedisHungPastTheTimeoutAddsNothing() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "offerhang")) {
            for (BlockingQueue<String> q : List.<BlockingQueue<String>>of(m.queue(), m.queue(10))) {
                String kind = q.remainingCapacity() == Integer.MAX_VALUE ? "unbounded" : "bounded";
                q.put("a");
                assertThat(q.offer("b", 1, TimeUnit.SECONDS)).as("a timed offer before the hang (%s)", kind).isTrue();
                boolean[] offered = new boolean[1];
                Children.stoppedFor(redis.pid(), HANG_MS, () -> offered[0] = q.offer("x", 300, TimeUnit.MILLISECONDS));
                assertThat(offered[0]).as("a timed offer while Redis hangs (%s)", kind).isFalse();
                Thread.sleep(3_000); // the give-back goes every second until answered; a late push would be there by now
                List<String> got = new ArrayList<>();
                for (String e; (e = q.poll(1, TimeUnit.SECONDS)) != null; ) {
                    got.add(e);
                }
                assertThat(got).as("what the consumer gets after the hang (%s)", kind).containsExactly("a", "b");
                if (kind.equals("bounded")) {
                    assertThat(q.remainingCapacity()).as("the bounded queue's room once empty").isEqualTo(10);
                }
                q.put("c");
                assertThat(q.offer("d", 1, TimeUnit.SECONDS)).as("a timed offer with Redis back (%s)", kind).isTrue();
                assertThat(List.of(q.poll(1, TimeUnit.SECONDS), q.poll(1, TimeUnit.SECONDS))).containsExactly("c", "d");
            }
        }
    }

    @FunctionalInterface
    private interface Pop {
        String from(BlockingQueue<String> q) throws Exception;
    }

    /**
     * On an unbounded and a bounded queue holding a, b: {@code pop} runs while Redis hangs for {@link #HANG_MS};
     * what it returned (if it did not fail) and what the consumer polls afterwards must be a, b.
     */
    private static void eachQueueAfterAPopDuringALongHang(String what, Pop pop) throws Exception {
        ExecutorService consumer = Executors.newSingleThreadExecutor();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "queuehang")) {
            for (BlockingQueue<String> q : List.<BlockingQueue<String>>of(m.queue(), m.queue(10))) {
                q.put("a");
                q.put("b");
                Children.signal("STOP", redis.pid());
                Future<String> during;
                try {
                    during = consumer.submit((Callable<String>) () -> pop.from(q));
                    Thread.sleep(HANG_MS);
                } finally {
                    Children.signal("CONT", redis.pid());
                }
                List<String> got = new ArrayList<>();
                String first = outcome(during);
                if (first != null) {
                    got.add(first);
                }
                for (String e; (e = q.poll(2, TimeUnit.SECONDS)) != null; ) {
                    got.add(e);
                }
                String kind = q.remainingCapacity() == Integer.MAX_VALUE ? "unbounded" : "bounded";
                assertThat(got).as("what %s during the hang and the polls after it got (%s queue)", what, kind)
                        .containsExactly("a", "b");
                if (kind.equals("bounded")) {
                    assertThat(q.remainingCapacity()).as("the bounded queue's room once empty").isEqualTo(10);
                }
            }
        } finally {
            consumer.shutdownNow();
        }
    }

    /** The pop's item, or null if it returned none or gave up with the manager's outage exception. */
    private static String outcome(Future<String> pop) throws Exception {
        try {
            return pop.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).as("how a pop gives up").isInstanceOf(IllegalStateException.class);
            return null;
        }
    }
}
