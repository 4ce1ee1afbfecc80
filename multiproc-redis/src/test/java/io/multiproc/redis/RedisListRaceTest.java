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
     * A reversed view's {@code get(i)} and {@code set(i, e)} are one small request each (decision 235): they
     * read and write one element from the list's end, where they read the whole list (and set rewrote it by
     * compare-and-set), so their cost grew with the list. Seen in Redis's own command counts: no LRANGE.
     */
    @Test
    void aReversedViewsGetAndSetReadNoWholeList() throws Exception {
        String name = "rev" + UUID.randomUUID().toString().substring(0, 8);
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            List<Integer> ls = m.list("long");
            ls.addAll(java.util.stream.IntStream.range(0, 1000).boxed().toList());
            List<Integer> r = ls.reversed();
            assertThat(redis.command("CONFIG RESETSTAT")).isEqualTo("+OK");
            assertThat(r.get(0)).isEqualTo(999);
            assertThat(r.get(999)).isEqualTo(0);
            assertThat(r.set(1, -1)).isEqualTo(998);
            assertThat(r.set(998, -2)).isEqualTo(1);
            assertThat(commandStats()).as("Redis's command counts after the view's get and set").doesNotContain("cmdstat_lrange");
            assertThat(ls.get(998)).isEqualTo(-1);
            assertThat(ls.get(1)).isEqualTo(-2);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.get(1000)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("1000");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.set(-1, 5)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("-1");
            assertThat(ls).hasSize(1000);
            ((RedisManager) m).destroy();
        }
    }

    /** INFO commandstats: a bulk reply, read whole (LocalRedis.command returns the first line only). */
    private static String commandStats() throws java.io.IOException {
        try (java.net.Socket s = new java.net.Socket(redis.server().host(), redis.server().port())) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write("INFO commandstats\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            StringBuilder header = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new java.io.EOFException("INFO answered " + header);
                }
                header.append((char) c);
            }
            byte[] body = new byte[Integer.parseInt(header.toString().trim().substring(1))];
            in.readFully(body);
            return new String(body, java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

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
