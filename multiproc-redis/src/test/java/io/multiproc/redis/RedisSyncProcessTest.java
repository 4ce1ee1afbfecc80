package io.multiproc.redis;

import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Locks and friends between JVMs, as two hosts would use them: each child connects to the same server by
 * URL and finds the objects by name; the parent observes. Killing a lock holder with SIGKILL frees its lock
 * within the lease.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RedisSyncProcessTest {
    private static final Duration WAIT = Children.TIMEOUT;
    private static LocalRedis redis;

    @BeforeAll
    static void startServer() {
        redis = LocalRedis.start();
    }

    @AfterAll
    static void stopServer() {
        redis.close();
    }

    private static String freshName() {
        return "p" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RedisManager connect(String url, String name) {
        return (RedisManager) RedisManager.connect(url, name);
    }

    @Test
    void aLockHeldByAnotherJvmExcludesThisOneUntilThatJvmUnlocks() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            RedisLock lock = m.lock("shared");
            EventProxy held = m.event("held");
            EventProxy release = m.event("release");
            ChildProcess c = ChildProcess.start(() -> {
                try (RedisManager o = connect(url, mgr)) {
                    RedisLock l = o.lock("shared");
                    l.lock();
                    o.event("held").set();
                    if (!o.event("release").await(WAIT)) {
                        throw new AssertionError("never told to release");
                    }
                    l.unlock();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(held.await(WAIT)).isTrue();
                assertThat(lock.tryLock()).as("held by the child").isFalse();
                assertThat(lock.isLocked()).isTrue();
                release.set();
                assertThat(lock.tryLock(WAIT)).as("free after the child's unlock").isTrue();
                assertThat(lock.previousOwnerDied()).as("the child released it cleanly").isFalse();
                lock.unlock();
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
        }
    }

    @Test
    void aLockWhoseHolderJvmIsKilledIsFreeWithinTheLeaseAndTheNextHolderIsToldTheOwnerDied() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            assertThat(m.lockLease()).isEqualTo(RedisManager.DEFAULT_LOCK_LEASE);
            RedisLock lock = m.rlock("ledger");
            ChildProcess c = ChildProcess.start(() -> {
                RedisManager o = connect(url, mgr);
                o.rlock("ledger").lock();
                o.event("held").set();
                try {
                    Thread.sleep(Long.MAX_VALUE); // holds (and renews the lease) until killed
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(m.event("held").await(WAIT)).isTrue();
                // the child renews its lease: it still holds the lock well after one lease
                Thread.sleep(m.lockLease().toMillis() + 1_000);
                assertThat(lock.tryLock()).as("held by the live child after a whole lease").isFalse();
                c.kill();
                assertThat(c.join(WAIT)).isTrue();
                long t0 = System.nanoTime();
                Duration bound = m.lockLease().plusSeconds(2);
                assertThat(lock.tryLock(bound)).as("free within lease + 2 s of the kill").isTrue();
                long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertThat(tookMillis).isLessThanOrEqualTo(bound.toMillis() + 500);
                assertThat(lock.previousOwnerDied()).isTrue();
                assertThat(lock.previousOwnerDied()).as("reading it clears it").isFalse();
                lock.unlock();
            } finally {
                Children.reap(c);
            }
        }
    }

    @Test
    void anotherJvmsSignalWakesAConditionWaiterHere() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            RedisLock lock = m.rlock("q");
            RedisCondition nonEmpty = m.condition("nonEmpty", lock);
            ChildProcess c = ChildProcess.start(() -> {
                try (RedisManager o = connect(url, mgr)) {
                    RedisLock l = o.rlock("q");
                    RedisCondition cond = o.condition("nonEmpty", l);
                    long deadline = System.nanoTime() + WAIT.toNanos();
                    while (System.nanoTime() < deadline) {
                        l.lock();
                        try {
                            if (cond.waiters() > 0) {
                                o.event("item").set();
                                cond.signal();
                                return;
                            }
                        } finally {
                            l.unlock();
                        }
                        Thread.sleep(20);
                    }
                    throw new AssertionError("no waiter showed up");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                lock.lock();
                try {
                    long deadline = System.nanoTime() + WAIT.toNanos();
                    while (!m.event("item").isSet() && System.nanoTime() < deadline) {
                        nonEmpty.await(WAIT);
                    }
                    assertThat(m.event("item").isSet()).isTrue();
                    assertThat(lock.isHeldByCurrentThread()).isTrue();
                } finally {
                    lock.unlock();
                }
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
        }
    }

    @Test
    void aSemaphorePermitReleasedInAnotherJvmWakesAnAcquirerHere() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            SemaphoreProxy slots = m.semaphore("slots", 1);
            ChildProcess c = ChildProcess.start(() -> {
                try (RedisManager o = connect(url, mgr)) {
                    SemaphoreProxy s = o.semaphore("slots", 1);
                    if (!s.tryAcquire(WAIT)) {
                        throw new AssertionError("no permit");
                    }
                    o.event("taken").set();
                    if (!o.event("giveBack").await(WAIT)) {
                        throw new AssertionError("never asked to give the permit back");
                    }
                    s.release();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(m.event("taken").await(WAIT)).isTrue();
                assertThat(slots.availablePermits()).isZero();
                assertThat(slots.tryAcquire()).isFalse();
                m.event("giveBack").set();
                assertThat(slots.tryAcquire(WAIT)).isTrue();
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
        }
    }

    @Test
    void anEventSetInAnotherJvmWakesAWaiterHereAndClearsForTheNextRound() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            EventProxy go = m.event("go");
            ChildProcess c = ChildProcess.start(() -> {
                try (RedisManager o = connect(url, mgr)) {
                    for (int round = 0; round < 3; round++) {
                        if (!o.event("ack").await(WAIT)) {
                            throw new AssertionError("no ack in round " + round);
                        }
                        o.event("ack").clear();
                        o.event("go").set();
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                for (int round = 0; round < 3; round++) {
                    m.event("ack").set();
                    assertThat(go.await(WAIT)).as("round %d", round).isTrue();
                    go.clear();
                }
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
        }
    }

    @Test
    void aBarrierOfTwoJvmsTripsWithDistinctIndices() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            BarrierProxy b = m.barrier("start", 2);
            ChildProcess c = ChildProcess.start(() -> {
                try (RedisManager o = connect(url, mgr)) {
                    int index = o.barrier("start", 2).await(WAIT);
                    o.event("index" + index).set();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                int mine = b.await(WAIT);
                int theirs = 1 - mine;
                assertThat(m.event("index" + theirs).await(WAIT)).as("the child got the other index").isTrue();
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
        }
    }
}
