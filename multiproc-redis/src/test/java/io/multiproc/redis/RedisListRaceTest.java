package io.multiproc.redis;

import io.multiproc.manager.Manager;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** A Redis list read at its end while another client (its own connection, as another host) appends to it. */
class RedisListRaceTest {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    /**
     * get(size) either finds the element an append put there meanwhile or throws IndexOutOfBoundsException;
     * it never answers null for a list that holds no null (it read LINDEX and LLEN in two round trips, and
     * an append between them made a missing index look like a stored null).
     */
    @Test
    void getAtTheEndWhileAnotherClientAppendsNeverAnswersNull() throws Exception {
        String name = "race" + UUID.randomUUID().toString().substring(0, 8);
        try (Manager reader = RedisManager.connect(redis.url(), name);
             Manager writer = RedisManager.connect(redis.url(), name)) {
            List<Integer> ls = reader.list("edge");
            List<Integer> appends = writer.list("edge");
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> appender = CompletableFuture.runAsync(() -> {
                for (int i = 0; !stop.get() && i < 200_000; i++) {
                    appends.add(i);
                }
            });
            try {
                int nulls = 0;
                int outOfBounds = 0;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                for (int round = 0; round < 20_000 && System.nanoTime() < end && !appender.isDone(); round++) {
                    int n = ls.size();
                    try {
                        if (ls.get(n) == null) {
                            nulls++;
                        }
                    } catch (IndexOutOfBoundsException e) {
                        outOfBounds++;
                    }
                }
                assertThat(nulls).as("get(size) answered null (out of bounds seen %d times)", outOfBounds).isZero();
            } finally {
                stop.set(true);
                appender.get(30, TimeUnit.SECONDS);
            }
            ((RedisManager) reader).destroy();
        }
    }
}
