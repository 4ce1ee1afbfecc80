package io.multiproc.redis;

import org.junit.jupiter.api.Test;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A bounded queue's put waits for room in bounded slices: a lost pub/sub wake-up costs at most one slice,
 * and a dead server ends the wait with the manager's usual outage failure instead of a hang. A timed offer
 * waits for room the same way and gets in once a take makes some.
 */
class RedisQueueWaitTest {

    @Test
    void aBoundedPutOnAKilledServerFailsNamingTheServer() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "putdown")) {
            BlockingQueue<String> q = m.queue(1);
            Future<?> put = waitingOnFull(threads, q, "put", () -> {
                q.put("b");
                return null;
            });
            long t0 = System.nanoTime();
            redis.kill();
            assertThatThrownBy(() -> put.get(20, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("putdown")
                    .hasMessageContaining(Integer.toString(redis.port()));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("ms to fail").isLessThan(15_000);
            redis.restart(); // so that close() finds a server
            awaitServer(q);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aBoundedPutWhoseWakeUpIsLostCompletesAfterATake() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "putwake")) {
            BlockingQueue<String> q = m.queue(1);
            Future<?> put = waitingOnFull(threads, q, "put", () -> {
                q.put("b");
                return null;
            });
            // the put's subscription is gone (Redisson resubscribes later): the release message is lost
            redis.command("CLIENT KILL TYPE pubsub");
            assertThat(q.take()).isEqualTo("a");
            put.get(5, TimeUnit.SECONDS);
            assertThat(q.take()).isEqualTo("b");
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * A timed offer on a full bounded queue waits for room (decision 263: our own tries, woken by the room's
     * message on the capacity semaphore's channel): a take lets it in well before its timeout.
     */
    @Test
    void aBoundedTimedOfferGetsInSoonAfterATakeMakesRoom() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "offerwake")) {
            BlockingQueue<String> q = m.queue(1);
            Future<Boolean> offer = waitingOnFull(threads, q, "the offer", () -> q.offer("b", 20, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            assertThat(q.take()).isEqualTo("a");
            assertThat(offer.get(10, TimeUnit.SECONDS)).as("the offer once room came").isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("ms from the take to the offer's end")
                    .isLessThan(5_000);
            assertThat(q.take()).isEqualTo("b");
            assertThat(q.remainingCapacity()).isEqualTo(1);
        } finally {
            threads.shutdownNow();
        }
    }

    /** Fills the one room of {@code q} with "a", then starts {@code call} on a thread: it must still wait 500 ms later. */
    private static <T> Future<T> waitingOnFull(ExecutorService threads, BlockingQueue<String> q, String what,
            java.util.concurrent.Callable<T> call) throws InterruptedException {
        q.put("a");
        Future<T> f = threads.submit(call);
        Thread.sleep(500);
        assertThat(f.isDone()).as("%s waits while the queue is full", what).isFalse();
        return f;
    }

    /** Waits until the restarted server answers through {@code q}'s manager. */
    private static void awaitServer(BlockingQueue<String> q) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                q.size();
                return;
            } catch (IllegalStateException stillReconnecting) {
                assertThat(System.nanoTime()).as("reconnected within 30 s").isLessThan(deadline);
                Thread.sleep(200);
            }
        }
    }
}
