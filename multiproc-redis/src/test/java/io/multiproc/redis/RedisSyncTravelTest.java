package io.multiproc.redis;

import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.Manager;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The synchronization objects travel like the containers (decision 122): the same user code as with the
 * local Manager — an unnamed lock, event or barrier made in the parent, captured by a child's task or sent
 * through a local queue — works on the same Redis object in the child.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RedisSyncTravelTest {
    private static final Duration WAIT = Duration.ofMinutes(2);
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    @Test
    void aLockCapturedByChildrenExcludesThemFromEachOther() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            Lock lock = m.lock();
            List<Integer> counter = m.list();
            counter.add(0);
            ChildProcess[] children = new ChildProcess[3];
            for (int c = 0; c < children.length; c++) {
                children[c] = ChildProcess.start(() -> {
                    for (int i = 0; i < 30; i++) {
                        lock.lock();
                        try {
                            counter.set(0, counter.get(0) + 1); // read-modify-write: lost updates without the lock
                        } finally {
                            lock.unlock();
                        }
                    }
                });
            }
            RedisProcessTest.runAll(children);
            assertThat(counter.get(0)).isEqualTo(90);
        }
    }

    @Test
    void aLockHeldByTheParentBlocksTheChildUntilTheParentUnlocks() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            Lock lock = m.lock();
            EventProxy tried = m.event();
            lock.lock();
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    if (lock.tryLock()) {
                        throw new IllegalStateException("took a lock the parent holds");
                    }
                    tried.set();
                    if (!lock.tryLock(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("never got the lock the parent released");
                    }
                    lock.unlock();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(tried.await(WAIT)).isTrue();
            } finally {
                lock.unlock();
            }
            RedisProcessTest.runAll(c);
        }
    }

    @Test
    void aTravelledRLockIsAnotherOwner() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            Lock rlock = m.rlock();
            rlock.lock();
            try {
                ChildProcess c = ChildProcess.start(() -> {
                    if (rlock.tryLock()) {
                        throw new IllegalStateException("a travelled rlock re-entered the parent's hold");
                    }
                    try {
                        rlock.unlock();
                        throw new IllegalStateException("a travelled rlock released the parent's hold");
                    } catch (IllegalMonitorStateException expected) {
                        // only the holding thread may release an rlock
                    }
                });
                RedisProcessTest.runAll(c);
                assertThat(rlock.tryLock()).isTrue(); // the parent's thread still owns it: re-entry
                rlock.unlock();
            } finally {
                rlock.unlock();
            }
        }
    }

    @Test
    void anEventSentThroughALocalQueueWakesTheParent() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server()); SharedQueue<Object> q = SharedQueue.create(4)) {
            EventProxy done = m.event();
            q.put(done);
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    ((EventProxy) q.poll(60, TimeUnit.SECONDS)).set();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(done.await(WAIT)).isTrue();
            RedisProcessTest.runAll(c);
        }
    }

    @Test
    void aBarrierTripsAcrossParentAndChild() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            BarrierProxy barrier = m.barrier(2);
            List<String> order = m.list();
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    order.add("child");
                    barrier.await(Duration.ofSeconds(60));
                    order.add("child after");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            barrier.await(WAIT);
            assertThat(order).contains("child");
            RedisProcessTest.runAll(c);
            assertThat(order).containsExactly("child", "child after");
        }
    }

    @Test
    void aSemaphoreAndAConditionTravelToo() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            SemaphoreProxy permits = m.semaphore(0);
            Lock lock = m.rlock();
            Condition ready = m.condition(lock);
            List<Integer> box = m.list();
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    lock.lock();
                    try {
                        permits.release(); // the parent may now signal: this child is about to wait
                        while (box.isEmpty()) {
                            if (!ready.await(60, TimeUnit.SECONDS)) {
                                throw new IllegalStateException("never signalled");
                            }
                        }
                    } finally {
                        lock.unlock();
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(permits.tryAcquire(WAIT)).isTrue();
            lock.lock();
            try {
                box.add(1);
                ready.signalAll();
            } finally {
                lock.unlock();
            }
            RedisProcessTest.runAll(c);
        }
    }
}
