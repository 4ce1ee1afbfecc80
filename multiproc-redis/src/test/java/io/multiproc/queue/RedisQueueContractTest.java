package io.multiproc.queue;

import io.multiproc.manager.Manager;
import io.multiproc.redis.LocalRedis;
import io.multiproc.redis.RedisManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The BlockingQueue contract that every local queue passes, against a Redis manager's bounded queue on a
 * throwaway server: "the same interfaces on Redis" (in this package because the suite is package-private).
 */
class RedisQueueContractTest extends BlockingQueueContract {
    private static LocalRedis redis;
    private static Manager manager;

    @BeforeAll
    static void startServer() {
        redis = LocalRedis.start();
        manager = RedisManager.connect(redis.url(), "q" + UUID.randomUUID().toString().substring(0, 8));
    }

    @AfterAll
    static void stopServer() {
        manager.close();
        redis.close();
    }

    @Override
    BlockingQueue<Integer> create(int capacity) {
        return manager.queue(capacity);
    }

    /** The suite's endless-timeout test, on an unbounded queue (whose timed offer is one marked try, no wait for room). */
    @Test
    void anUnboundedQueuesTimedCallsWithAnEndlessTimeoutGoThrough() throws Exception {
        BlockingQueue<Object> q = manager.queue();
        assertThat(q.offer("a", Long.MAX_VALUE, TimeUnit.NANOSECONDS)).isTrue();
        assertThat(q.offer("b", Long.MAX_VALUE, TimeUnit.DAYS)).isTrue();
        assertThat(q.poll(Long.MAX_VALUE, TimeUnit.NANOSECONDS)).isEqualTo("a");
        assertThat(q.poll(Long.MAX_VALUE, TimeUnit.DAYS)).isEqualTo("b");
    }

    /** The suite's removal test, on an unbounded queue (whose bulk removals took another path). */
    @Test
    void anUnboundedQueuesRetainAllKeepsAndRemoveAllRemovesItemsEqualToTheArgumentsElements() {
        BlockingQueue<Object> q = manager.queue();
        q.offer(new LinkedHashSet<>(List.of("a", "b")));
        q.offer(new LinkedHashSet<>(List.of("c", "d")));
        q.offer(new LinkedHashSet<>(List.of("e", "f")));
        // equal Sets whose iteration orders differ (as Map.of/Set.of orders differ between JVMs)
        assertThat(q.retainAll(List.of(new LinkedHashSet<>(List.of("b", "a")), new LinkedHashSet<>(List.of("d", "c")),
                new LinkedHashSet<>(List.of("f", "e"))))).as("nothing to drop: every item equals an element").isFalse();
        assertThat(q).as("retainAll dropped no item equal to an element of its argument")
                .containsExactly(Set.of("a", "b"), Set.of("c", "d"), Set.of("e", "f"));
        assertThat(q.removeAll(List.of(new LinkedHashSet<>(List.of("d", "c"))))).isTrue();
        assertThat(q).containsExactly(Set.of("a", "b"), Set.of("e", "f"));
        assertThat(q.remove(new LinkedHashSet<>(List.of("b", "a")))).isTrue();
        assertThat(q).containsExactly(Set.of("e", "f"));
        q.clear();
    }
}
