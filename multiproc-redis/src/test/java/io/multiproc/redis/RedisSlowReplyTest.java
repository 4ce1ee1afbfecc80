package io.multiproc.redis;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A reply slower than the command timeout: the write is never sent twice. A call that returned happened
 * once (put answers the value it replaced); one that failed, naming the server, happened at most once. Another client's CLIENT PAUSE ... WRITE holds every write (scripts included) for twice the
 * 2 s command timeout, then lets what it held run.
 */
class RedisSlowReplyTest {

    @Test
    void writesAnsweredAfterTheTimeoutHappenAtMostOnce() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "slowreplies")) {
            RedisSemaphore sem = m.semaphore(0);
            List<Integer> list = m.list();
            list.add(0);
            ConcurrentMap<String, Integer> d = m.dict();
            d.put("p", 1);
            d.put("m", 1);
            AtomicReference<Object> semDone = new AtomicReference<>();
            AtomicReference<Object> listDone = new AtomicReference<>();
            AtomicReference<Object> putDone = new AtomicReference<>();
            AtomicReference<Object> mergeDone = new AtomicReference<>();
            long pauseMillis = 2 * RedisManager.COMMAND_TIMEOUT.toMillis();
            assertThat(redis.command("CLIENT PAUSE " + pauseMillis + " WRITE")).isEqualTo("+OK");
            long pausedAt = System.nanoTime();
            Thread[] writers = {
                    new Thread(() -> run(() -> { sem.release(); return "released"; }, semDone)),
                    new Thread(() -> run(() -> list.add(1), listDone)),
                    new Thread(() -> run(() -> d.put("p", 2), putDone)),
                    new Thread(() -> run(() -> d.merge("m", 10, Integer::sum), mergeDone)),
            };
            try {
                for (Thread t : writers) {
                    t.start();
                }
                for (Thread t : writers) {
                    t.join(30_000);
                }
            } finally {
                redis.command("CLIENT UNPAUSE");
                for (Thread t : writers) {
                    t.join();
                }
            }
            // a held write whose caller gave up still runs when the pause ends: wait past it
            Thread.sleep(Math.max(0, pauseMillis + 500 - (System.nanoTime() - pausedAt) / 1_000_000));
            for (AtomicReference<Object> done : List.of(semDone, listDone, putDone, mergeDone)) {
                if (done.get() instanceof Throwable failed) {
                    assertThat(failed).as("a slow reply fails naming the server")
                            .hasMessageContaining(Integer.toString(redis.port()));
                }
            }
            // a call that failed may or may not have happened (Redis drops a held command whose client left);
            // one that returned happened once, and nothing happened twice
            boolean semOk = !(semDone.get() instanceof Throwable);
            assertThat(sem.availablePermits()).as("release() gave at most one permit").isIn(semOk ? List.of(1) : List.of(0, 1));
            boolean listOk = !(listDone.get() instanceof Throwable);
            assertThat(list.size()).as("add(1) added at most once").isIn(listOk ? List.of(2) : List.of(1, 2));
            if (!(putDone.get() instanceof Throwable)) {
                assertThat(putDone.get()).as("put returned the value it replaced, not its own").isEqualTo(1);
                assertThat(d.get("p")).isEqualTo(2);
            }
            boolean mergeOk = !(mergeDone.get() instanceof Throwable);
            assertThat(d.get("m")).as("merge added at most once").isIn(mergeOk ? List.of(11) : List.of(1, 11));
        }
    }

    /**
     * The writes that were plain commands Redisson re-sends after a late reply (GETSET, LREM, SADD, SREM):
     * run twice, getAndSet answered its own value, remove(Object) removed two equal elements, and add or
     * remove answered false for an element they had added or removed.
     */
    @Test
    void plainWritesAnsweredAfterTheTimeoutHappenAtMostOnceAndAnswerForThemselves() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "slowplain")) {
            io.multiproc.manager.SharedValueProxy<Integer> v = m.value(1);
            List<String> list = m.list();
            list.addAll(List.of("a", "a", "a"));
            java.util.concurrent.BlockingQueue<String> q = m.queue();
            q.addAll(List.of("a", "a", "a"));
            ConcurrentMap<String, Object> sets = m.dict(); // a Redis set is a nested container
            sets.put("added", java.util.Set.of());
            sets.put("removed", java.util.Set.of("y"));
            @SuppressWarnings("unchecked")
            java.util.Set<String> added = (java.util.Set<String>) sets.get("added");
            @SuppressWarnings("unchecked")
            java.util.Set<String> removed = (java.util.Set<String>) sets.get("removed");
            List<AtomicReference<Object>> done = List.of(new AtomicReference<>(), new AtomicReference<>(),
                    new AtomicReference<>(), new AtomicReference<>(), new AtomicReference<>());
            long pauseMillis = 2 * RedisManager.COMMAND_TIMEOUT.toMillis();
            assertThat(redis.command("CLIENT PAUSE " + pauseMillis + " WRITE")).isEqualTo("+OK");
            long pausedAt = System.nanoTime();
            Thread[] writers = {
                    new Thread(() -> run(() -> v.getAndSet(2), done.get(0))),
                    new Thread(() -> run(() -> list.remove("a"), done.get(1))),
                    new Thread(() -> run(() -> q.remove("a"), done.get(2))),
                    new Thread(() -> run(() -> added.add("x"), done.get(3))),
                    new Thread(() -> run(() -> removed.remove("y"), done.get(4))),
            };
            try {
                for (Thread t : writers) {
                    t.start();
                }
                for (Thread t : writers) {
                    t.join(30_000);
                }
            } finally {
                redis.command("CLIENT UNPAUSE");
                for (Thread t : writers) {
                    t.join();
                }
            }
            Thread.sleep(Math.max(0, pauseMillis + 500 - (System.nanoTime() - pausedAt) / 1_000_000));
            for (AtomicReference<Object> d : done) {
                if (d.get() instanceof Throwable failed) {
                    assertThat(failed).as("a slow reply fails naming the server").hasMessageContaining(Integer.toString(redis.port()));
                }
            }
            org.assertj.core.api.SoftAssertions soft = new org.assertj.core.api.SoftAssertions();
            if (!(done.get(0).get() instanceof Throwable)) {
                soft.assertThat(done.get(0).get()).as("getAndSet returned the value it replaced, not its own").isEqualTo(1);
            }
            soft.assertThat(list).as("remove(\"a\") removed at most one").hasSizeGreaterThanOrEqualTo(2);
            soft.assertThat(q).as("the queue's remove(\"a\") removed at most one").hasSizeGreaterThanOrEqualTo(2);
            for (int i = 1; i < 5; i++) {
                if (!(done.get(i).get() instanceof Throwable)) {
                    soft.assertThat(done.get(i).get()).as("call %d answered for its own change", i).isEqualTo(true);
                }
            }
            soft.assertAll();
        }
    }

    /**
     * A nested list is filled and counted, then the parent's write is held past the command timeout: the
     * call fails, but the write may still land, so the nested list must stay (decision 189). Before, the
     * failure freed it and the parent, once the held write ran, named a deleted list (it read as empty).
     */
    @Test
    void aListWriteThatTimesOutKeepsTheNestedListItMayStore() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "ambiguouslist")) {
            List<Object> holder = m.list();
            pauseWhenSent(redis);
            assertThatThrownBy(() -> holder.addAll(List.of(List.of(1, 2, 3), new PausesWritesWhenSent(1))))
                    .hasMessageContaining(Integer.toString(redis.port()));
            awaitHeldWrites();
            assertThat(holder).as("Redis ran the held write").hasSize(2);
            assertThat(holder.get(0)).as("the list the held write stored").isEqualTo(List.of(1, 2, 3));
        }
    }

    /** The pause {@link PausesWritesWhenSent} starts: longer than the command timeout. */
    private static final long HELD_MILLIS = RedisManager.COMMAND_TIMEOUT.toMillis() + 500;

    /** The server the next {@link PausesWritesWhenSent} encoded by Redisson pauses; null once it did. */
    private static final AtomicReference<LocalRedis> PAUSE_ON_SEND = new AtomicReference<>();
    /** When that pause began (System.nanoTime). */
    private static volatile long pausedAtNanos;

    private static void pauseWhenSent(LocalRedis redis) {
        PAUSE_ON_SEND.set(redis);
    }

    /** Waits until the writes held by the pause ran (a held write whose caller gave up still runs). */
    private static void awaitHeldWrites() throws InterruptedException {
        assertThat(PAUSE_ON_SEND.get()).as("the pause was started while the write was encoded").isNull();
        Thread.sleep(Math.max(0, HELD_MILLIS + 500 - (System.nanoTime() - pausedAtNanos) / 1_000_000));
    }

    /**
     * A value whose encoding inside Redisson (the parent's write, after any nested container was filled and
     * counted in earlier commands) pauses the server's writes: only that one write is held, which a pause
     * started before the call cannot do (it would hold the nested container's own writes first). Encoded
     * outside Redisson (the manager's checks) it does nothing.
     */
    record PausesWritesWhenSent(int id) {
        @Override
        public int id() {
            if (StackWalker.getInstance().walk(s -> s.anyMatch(f -> f.getClassName().startsWith("org.redisson.")))) {
                LocalRedis redis = PAUSE_ON_SEND.getAndSet(null);
                if (redis != null) {
                    assertThat(redis.command("CLIENT PAUSE " + HELD_MILLIS + " WRITE")).isEqualTo("+OK");
                    pausedAtNanos = System.nanoTime();
                }
            }
            return id;
        }
    }

    private static void run(java.util.concurrent.Callable<Object> op, AtomicReference<Object> done) {
        try {
            done.set(op.call());
        } catch (Throwable e) {
            done.set(e);
        }
    }
}
