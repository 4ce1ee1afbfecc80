package io.multiproc.redis;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code Lock.lock()} is not interruptible: a thread whose interrupt is set (a cancelled task) still
 * takes the lock, keeps its interrupt, and the lock is really held (renewed, releasable). Redisson's
 * synchronous calls throw when the calling thread is interrupted, after the script may already have run
 * on the server.
 */
class RedisInterruptTest {

    @Test
    void anInterruptedThreadsLockTakesTheLockKeepsTheInterruptAndUnlocks() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interrupts");
             RedisManager other = (RedisManager) RedisManager.connect(redis.url(), "interrupts")) {
            RedisLock lock = m.lock("l");
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicBoolean interruptKept = new AtomicBoolean();
            AtomicBoolean heldInside = new AtomicBoolean();
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    lock.lock();
                    try {
                        heldInside.set(!other.lock("l").tryLock());
                    } finally {
                        lock.unlock();
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
                interruptKept.set(Thread.currentThread().isInterrupted());
            });
            t.start();
            t.join(30_000);
            assertThat(failed.get()).isNull();
            assertThat(heldInside).as("another manager could not take it meanwhile").isTrue();
            assertThat(interruptKept).isTrue();
            RedisLock again = other.lock("l");
            assertThat(again.tryLock()).as("released").isTrue();
            again.unlock();
        }
    }

    @Test
    void containerCallsOfAnInterruptedThreadHappenOnceAndKeepTheInterruptWhileBlockingOnesThrow() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interruptedops")) {
            java.util.List<Integer> ls = m.list("l");
            java.util.concurrent.ConcurrentMap<String, Integer> d = m.dict("d");
            java.util.concurrent.BlockingQueue<Integer> q = m.queue();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicBoolean interruptKept = new AtomicBoolean();
            AtomicReference<Throwable> takeThrew = new AtomicReference<>();
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();   // a cancelled task's thread, say
                try {
                    ls.add(1);
                    ls.add(2);
                    d.put("k", 7);
                    d.merge("k", 1, Integer::sum);
                    q.offer(5);
                    if (ls.size() != 2 || ls.get(1) != 2 || d.get("k") != 8 || q.poll() != 5) {
                        throw new AssertionError("wrong state: " + ls + " " + d);
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
                interruptKept.set(Thread.currentThread().isInterrupted());
                try {
                    q.take();   // empty: a blocking call must answer the interrupt
                } catch (Throwable e) {
                    takeThrew.set(e);
                }
            });
            t.start();
            t.join(30_000);
            assertThat(t.isAlive()).isFalse();
            assertThat(failed.get()).isNull();
            assertThat(interruptKept).isTrue();
            assertThat(takeThrew.get()).isInstanceOf(InterruptedException.class);
            assertThat(ls).containsExactly(1, 2);   // each add happened once
            assertThat(d).containsEntry("k", 8);
        }
    }

    /**
     * As every BlockingQueue: a take interrupted while it waits throws InterruptedException with the
     * interrupt cleared (Redisson had set it again); an unbounded queue's put from a thread interrupted on
     * entry throws and queues nothing.
     */
    @Test
    void aTakeInterruptedWhileWaitingThrowsWithTheInterruptClearedAndAnInterruptedPutQueuesNothing() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interruptedtake")) {
            java.util.concurrent.BlockingQueue<Integer> q = m.queue();
            AtomicReference<Throwable> takeThrew = new AtomicReference<>();
            AtomicBoolean interruptAfter = new AtomicBoolean(true);
            Thread t = new Thread(() -> {
                try {
                    q.take();
                } catch (Throwable e) {
                    takeThrew.set(e);
                }
                interruptAfter.set(Thread.currentThread().isInterrupted());
            });
            t.start();
            Thread.sleep(500); // waiting in BLPOP by now
            t.interrupt();
            t.join(30_000);
            assertThat(t.isAlive()).isFalse();
            assertThat(takeThrew.get()).isInstanceOf(InterruptedException.class);
            assertThat(interruptAfter).as("interrupt cleared with InterruptedException").isFalse();
            Thread.currentThread().interrupt();
            try {
                assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> q.put(1))).isInstanceOf(InterruptedException.class);
            } finally {
                Thread.interrupted();
            }
            assertThat(q).isEmpty();
            q.put(2);
            assertThat(q.take()).isEqualTo(2);
        }
    }

    /**
     * A take or poll interrupted just as an item reaches it either returns the item or throws
     * InterruptedException with the item still in the queue: never both gone (the server popped it for a
     * call whose caller had stopped waiting).
     */
    @Test
    void aTakeOrPollInterruptedAsAnItemArrivesNeverLosesTheItem() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interruptedarrival")) {
            for (java.util.concurrent.BlockingQueue<Integer> q : java.util.List.<java.util.concurrent.BlockingQueue<Integer>>of(
                    m.queue(), m.queue(1_000))) {
                java.util.Set<Integer> got = java.util.concurrent.ConcurrentHashMap.newKeySet();
                java.util.concurrent.atomic.AtomicInteger interrupts = new java.util.concurrent.atomic.AtomicInteger();
                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<Throwable> failed = new AtomicReference<>();
                java.util.concurrent.atomic.AtomicLong waits = new java.util.concurrent.atomic.AtomicLong();
                Thread consumer = new Thread(() -> {
                    for (long k = 0; !stop.get(); k++) {
                        waits.set(k);
                        try {
                            Integer e = k % 2 == 0 ? q.take() : q.poll(30, java.util.concurrent.TimeUnit.SECONDS);
                            if (e != null) {
                                got.add(e);
                            }
                        } catch (InterruptedException e) {
                            interrupts.incrementAndGet();
                        } catch (Throwable e) {
                            failed.set(e);
                            return;
                        }
                    }
                });
                consumer.start();
                int rounds = 150;
                try {
                    for (int i = 0; i < rounds && consumer.isAlive(); i++) {
                        long before = waits.get();
                        Thread.sleep(3); // the consumer is in its blocking pop by now, most rounds
                        q.put(i);
                        consumer.interrupt();
                        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
                        while (waits.get() == before && consumer.isAlive() && System.nanoTime() < deadline) {
                            Thread.sleep(1);
                        }
                    }
                } finally {
                    stop.set(true);
                    consumer.interrupt();
                    consumer.join(30_000);
                }
                assertThat(failed.get()).as("the consumer's take or poll threw").isNull();
                java.util.List<Integer> left = new java.util.ArrayList<>();
                q.drainTo(left);
                java.util.Set<Integer> all = new java.util.TreeSet<>(got);
                all.addAll(left);
                java.util.Set<Integer> missing = new java.util.TreeSet<>();
                for (int i = 0; i < rounds; i++) {
                    if (!all.contains(i)) {
                        missing.add(i);
                    }
                }
                assertThat(all).as("%s: taken %s, left %s, %s interrupts, missing %s", q.remainingCapacity() == Integer.MAX_VALUE
                                ? "unbounded" : "bounded", got.size(), left, interrupts.get(), missing)
                        .hasSize(rounds);
                assertThat(got.size() + left.size()).as("each item once").isEqualTo(rounds);
            }
        }
    }

    @Test
    void aListsSortAndRemoveIfFromAnInterruptedThreadRunOnceAndKeepTheInterrupt() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interruptedtransforms")) {
            java.util.List<Integer> ls = m.list("l");
            ls.addAll(java.util.List.of(3, 1, 4, 2));
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicBoolean interruptKept = new AtomicBoolean();
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();
                try {
                    ls.sort(null);
                    ls.removeIf(x -> x == 4);
                    ls.replaceAll(x -> x * 10);
                    ls.subList(0, 1).clear();
                } catch (Throwable e) {
                    failed.set(e);
                }
                interruptKept.set(Thread.currentThread().isInterrupted());
            });
            t.start();
            t.join(30_000);
            assertThat(failed.get()).isNull();
            assertThat(interruptKept).isTrue();
            assertThat(ls).containsExactly(20, 30);
        }
    }

    @Test
    void aListsSortWhileTheServerIsDownNamesTheManager() throws Exception {
        LocalRedis redis = LocalRedis.start();
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "downtransforms")) {
            java.util.List<Integer> ls = m.list("l");
            ls.addAll(java.util.List.of(2, 1));
            redis.close();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ls.sort(null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("downtransforms");
        } finally {
            redis.close();
        }
    }

    @Test
    void aHugeTimeoutIsForeverNotAnArithmeticException() throws Exception {
        java.time.Duration forever = java.time.temporal.ChronoUnit.FOREVER.getDuration();
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "hugetimeouts")) {
            RedisLock lock = m.lock("l");
            assertThat(lock.tryLock(forever)).isTrue();
            lock.unlock();
            RedisSemaphore sem = m.semaphore(1);
            assertThat(sem.tryAcquire(forever)).isTrue();
            RedisEvent event = m.event();
            event.set();
            assertThat(event.await(forever)).isTrue();
        }
    }

    /**
     * A bounded queue's put or timed offer interrupted while it waits for room either added the item or
     * throws InterruptedException having added nothing: a producer that retries each interrupted item
     * queues every item exactly once, and the queue's capacity comes back whole.
     */
    @Test
    void aBoundedPutOrOfferInterruptedWhileWaitingForRoomAddsTheItemOnceOrNotAtAll() throws Exception {
        try (LocalRedis redis = LocalRedis.start();
             RedisManager m = (RedisManager) RedisManager.connect(redis.url(), "interruptedroom")) {
            java.util.concurrent.BlockingQueue<Integer> q = m.queue(1);
            int rounds = 120;
            java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger(-1);
            java.util.concurrent.atomic.AtomicInteger interrupts = new java.util.concurrent.atomic.AtomicInteger();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread producer = new Thread(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        while (true) {
                            try {
                                if (i % 2 == 0) {
                                    q.put(i);
                                    break;
                                }
                                if (q.offer(i, 30, java.util.concurrent.TimeUnit.SECONDS)) {
                                    break;
                                }
                            } catch (InterruptedException e) {
                                interrupts.incrementAndGet(); // the caller retries the same item
                            }
                        }
                        sent.set(i);
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            });
            java.util.List<Integer> got = new java.util.ArrayList<>();
            producer.start();
            try {
                for (int i = 0; i < rounds && producer.isAlive(); i++) {
                    Thread.sleep(3); // the producer waits for room by now, most rounds
                    producer.interrupt();
                    Integer e = q.poll(5, java.util.concurrent.TimeUnit.SECONDS);
                    if (e != null) {
                        got.add(e);
                    }
                }
                producer.join(10_000);
            } finally {
                producer.interrupt();
                producer.join(10_000);
            }
            assertThat(failed.get()).as("the producer threw").isNull();
            assertThat(interrupts.get()).as("waits were interrupted").isPositive();
            q.drainTo(got);
            assertThat(got).as("%s interrupts, last sent %s", interrupts.get(), sent.get())
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, rounds).boxed().toList());
            assertThat(q.remainingCapacity()).as("capacity given back").isEqualTo(1);
            assertThat(q.offer(-1)).isTrue();
            assertThat(q.offer(-2)).isFalse();
        }
    }
}
