package io.multiproc.redis;

import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Locks and friends between JVMs, as two hosts would use them: each child connects to the same server by
 * URL and finds the objects by name; the parent observes. Killing a lock holder with SIGKILL frees its lock
 * within the lease.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RedisSyncProcessTest {
    private static final Duration WAIT = Children.TIMEOUT;
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

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

    /** A child that waits on condition "ready" of lock "jobs" of manager {@code mgr} until it is killed. */
    private static ChildProcess readyWaiter(String url, String mgr) {
        return ChildProcess.start(() -> {
            try (RedisManager o = connect(url, mgr)) {
                RedisLock l = o.rlock("jobs");
                l.lock();
                o.condition("ready", l).await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * A condition waiter's JVM is killed while it waits: a signal() does not go to it, lost, but to the
     * live waiter behind it, within one lease; also a signal given to it just before its death was noticed.
     */
    @Test
    void aConditionWaiterWhoseJvmIsKilledDoesNotSwallowASignal() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            RedisLock lock = m.rlock("jobs");
            RedisCondition ready = m.condition("ready", lock);
            for (boolean signalAfterTheLease : new boolean[] {true, false}) {
                String when = signalAfterTheLease ? "signalled a lease after the death" : "signalled right after the death";
                ChildProcess doomed = readyWaiter(url, mgr);
                boolean[] woken = new boolean[1];
                Thread waiter = new Thread(() -> {
                    lock.lock();
                    try {
                        woken[0] = ready.await(Duration.ofSeconds(20));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        lock.unlock();
                    }
                });
                try {
                    Children.awaitUntil("the doomed JVM waits", () -> ready.waiters() == 1);
                    waiter.start(); // queued behind the doomed one
                    Children.awaitUntil("this JVM's thread waits too", () -> ready.waiters() == 2);
                    doomed.kill();
                    assertThat(doomed.join(WAIT)).isTrue();
                    long t0 = System.nanoTime();
                    if (signalAfterTheLease) {
                        Thread.sleep(m.lockLease().toMillis() + 500);
                    }
                    lock.lock();
                    try {
                        ready.signal();
                    } finally {
                        lock.unlock();
                    }
                    waiter.join(30_000);
                    assertThat(woken[0]).as(when + ": the live waiter got the signal").isTrue();
                    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as(when).isLessThan(m.lockLease().plusSeconds(5));
                    assertThat(ready.waiters()).as(when + ": the dead waiter's place is gone").isZero();
                } finally {
                    waiter.interrupt();
                    waiter.join(30_000);
                    Children.reap(doomed);
                }
            }
        }
    }

    /** A signal a dead waiter got while it was the only one is not handed to a waiter that came later. */
    @Test
    void aDeadWaitersSignalDoesNotWakeAWaiterThatCameAfterIt() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            RedisLock lock = m.rlock("jobs");
            RedisCondition ready = m.condition("ready", lock);
            ChildProcess doomed = readyWaiter(url, mgr);
            try {
                Children.awaitUntil("the doomed JVM waits", () -> ready.waiters() == 1);
                doomed.kill();
                assertThat(doomed.join(WAIT)).isTrue();
                lock.lock();
                try {
                    ready.signal(); // to the dead waiter: its lease has not run out yet
                    Thread.sleep(m.lockLease().toMillis() + 500);
                    assertThat(ready.await(Duration.ofSeconds(3))).as("a later waiter, not signalled since it came").isFalse();
                } finally {
                    lock.unlock();
                }
            } finally {
                Children.reap(doomed);
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

    /**
     * A party whose JVM is killed (SIGKILL) while it waits must not leave the others waiting for ever: its
     * arrival counted, so the pass it waited in may still trip, but the next untimed await of the survivor
     * ends with BrokenBarrierException within the lease (it waited for ever: nothing noticed the death).
     */
    @Test
    void anUntimedAwaitEndsWhenAPeerJvmIsKilledWhileItWaits() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            BarrierProxy b = m.barrier("b", 2);
            ChildProcess c = ChildProcess.start(() -> {
                RedisManager o = connect(url, mgr);
                try {
                    o.barrier("b", 2).await();
                    o.barrier("b", 2).await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            java.util.concurrent.ExecutorService here = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                Children.awaitUntil("the child waits at the barrier", () -> b.getNumberWaiting() == 1);
                c.kill();
                assertThat(c.join(WAIT)).isTrue();
                java.util.concurrent.Future<Object> passes = here.submit(() -> {
                    try {
                        b.await();   // the dead child's arrival counts: this pass may trip
                        b.await();   // nobody is left to arrive
                        return "passed twice";
                    } catch (java.util.concurrent.BrokenBarrierException e) {
                        return e;
                    }
                });
                Duration bound = m.lockLease().plusSeconds(5);
                assertThat(passes.get(bound.toMillis(), TimeUnit.MILLISECONDS)).as("told the barrier broke within lease + 5 s")
                        .isInstanceOf(java.util.concurrent.BrokenBarrierException.class);
            } finally {
                b.abort(); // frees a waiter left by a failed check above
                here.shutdownNow();
                Children.reap(c);
            }
        }
    }

    /** A JVM that uses the barrier and is killed before it arrives breaks it for a party waiting untimed. */
    @Test
    void anUntimedAwaitEndsWhenAPeerJvmUsingTheBarrierIsKilledBeforeItArrives() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            BarrierProxy b = m.barrier("b", 2);
            ChildProcess c = ChildProcess.start(() -> {
                RedisManager o = connect(url, mgr);
                o.barrier("b", 2);
                o.event("attached").set();
                try {
                    Thread.sleep(Long.MAX_VALUE); // works on something else until killed
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            java.util.concurrent.ExecutorService here = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                assertThat(m.event("attached").await(WAIT)).isTrue();
                java.util.concurrent.Future<Integer> waiting = here.submit(() -> b.await());
                Children.awaitUntil("this JVM waits at the barrier", () -> b.getNumberWaiting() == 1);
                c.kill();
                assertThat(c.join(WAIT)).isTrue();
                Duration bound = m.lockLease().plusSeconds(5);
                assertThatThrownBy(() -> waiting.get(bound.toMillis(), TimeUnit.MILLISECONDS)).as("broken within lease + 5 s")
                        .isInstanceOf(java.util.concurrent.ExecutionException.class)
                        .hasCauseInstanceOf(java.util.concurrent.BrokenBarrierException.class);
                b.reset();
                assertThat(b.isBroken()).as("a reset makes it whole for the JVMs left").isFalse();
            } finally {
                b.abort();
                here.shutdownNow();
                Children.reap(c);
            }
        }
    }

    /** A JVM that used the barrier and ended its task normally is no dead party: the others go on passing. */
    @Test
    void aJvmThatUsedTheBarrierAndEndedNormallyDoesNotBreakIt() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            BarrierProxy b = m.barrier("b", 2);
            ChildProcess c = ChildProcess.start(() -> {
                RedisManager o = connect(url, mgr); // not closed: the end of the task lets go of it
                try {
                    o.barrier("b", 2).await(WAIT);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                b.await(WAIT);
                Children.joinOk(c);
                Thread.sleep(m.lockLease().toMillis() + 1_000); // past the lease of the ended child
                java.util.concurrent.CompletableFuture<Integer> other = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return b.await(WAIT);
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
                int mine = b.await(WAIT);
                assertThat(mine + other.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
                assertThat(b.isBroken()).isFalse();
            } finally {
                Children.reap(c);
            }
        }
    }

    /**
     * A waiter whose JVM does not run (SIGSTOP, a long GC pause) while its generation is reset, and then the
     * next generation is reset too, learns that its generation was broken: only the last reset generation was
     * remembered, so it took the moved generation for a trip and returned as if every party had arrived.
     */
    @Test
    void aPausedBarrierWaiterWhoseGenerationWasResetIsToldSoAfterALaterResetToo() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            BarrierProxy b = m.barrier("b", 2);
            ChildProcess c = ChildProcess.start(() -> {
                try (RedisManager o = connect(url, mgr)) {
                    try {
                        int index = o.barrier("b", 2).await(WAIT);
                        o.event("tripped" + index).set();
                    } catch (java.util.concurrent.BrokenBarrierException e) {
                        o.event("broken").set();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                Children.awaitUntil("the child waits at the barrier", () -> b.getNumberWaiting() == 1);
                signal(c.pid(), "STOP");
                b.reset();   // the child's generation: broken
                java.util.concurrent.CompletableFuture<Integer> here = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return b.await(WAIT);
                    } catch (Exception e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
                Children.awaitUntil("this JVM waits in the next generation", () -> b.getNumberWaiting() == 1);
                b.reset();   // the next one: broken too
                assertThatThrownBy(() -> here.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .rootCause().isInstanceOf(java.util.concurrent.BrokenBarrierException.class);
                signal(c.pid(), "CONT");
                Children.joinOk(c);
                assertThat(m.event("broken").isSet()).as("the child was told its generation broke").isTrue();
            } finally {
                new ProcessBuilder("kill", "-CONT", Long.toString(c.pid())).start().waitFor(); // if a check above failed
                Children.reap(c);
            }
        }
    }

    /**
     * A waiter whose JVM does not run while its generation is reset and then more generations are reset than
     * the barrier remembers must not pass as if its generation had tripped: its pass broke. (It returned an
     * arrival index: the barrier had forgotten that generation, and took every forgotten one for a trip.)
     */
    @Test
    void aPausedBarrierWaiterIsNotPassedAfterMoreResetsThanTheBarrierRemembers() throws Exception {
        String url = redis.url();
        String mgr = freshName();
        try (RedisManager m = connect(url, mgr)) {
            BarrierProxy b = m.barrier("b", 2);
            ChildProcess c = ChildProcess.start(() -> {
                try (RedisManager o = connect(url, mgr)) {
                    try {
                        o.barrier("b", 2).await(WAIT);
                        o.event("tripped").set();
                    } catch (java.util.concurrent.BrokenBarrierException e) {
                        o.event("broken").set();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                Children.awaitUntil("the child waits at the barrier", () -> b.getNumberWaiting() == 1);
                signal(c.pid(), "STOP");
                b.reset();   // the child's generation: broken
                for (int i = 0; i < RedisBarrier.BROKEN_REMEMBERED; i++) {
                    b.abort();
                    b.reset();
                }
                signal(c.pid(), "CONT");
                Children.joinOk(c);
                assertThat(m.event("tripped").isSet()).as("the child passed a pass that broke").isFalse();
                assertThat(m.event("broken").isSet()).as("the child was told its generation broke").isTrue();
            } finally {
                new ProcessBuilder("kill", "-CONT", Long.toString(c.pid())).start().waitFor(); // if a check above failed
                Children.reap(c);
            }
        }
    }

    /** The barrier remembers its recent broken generations only, and goes on tripping after many resets. */
    @Test
    void aBarrierResetManyTimesKeepsAShortMemoryAndStillTrips() throws Exception {
        try (RedisManager m = connect(redis.url(), freshName())) {
            BarrierProxy b = m.barrier("b", 2);
            for (int i = 0; i < RedisBarrier.BROKEN_REMEMBERED + 10; i++) {
                b.abort();
                b.reset();
            }
            String key = m.redisson().getKeys().getKeysStream().filter(k -> k.contains(m.name()) && k.contains("barrier"))
                    .findFirst().orElseThrow();
            String remembered = (String) m.redisson().getMap(key, org.redisson.client.codec.StringCodec.INSTANCE).get("bg");
            assertThat(remembered.trim().split(" ")).hasSize(RedisBarrier.BROKEN_REMEMBERED)
                    .endsWith(Integer.toString(RedisBarrier.BROKEN_REMEMBERED + 9));
            java.util.concurrent.CompletableFuture<Integer> other = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return b.await(WAIT);
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            int mine = b.await(WAIT);
            assertThat(mine + other.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
        }
    }

    /** Sends {@code signal} ("STOP", "CONT") to {@code pid}; the process is stopped once kill returns. */
    private static void signal(long pid, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %d", signal, pid).isTrue();
        if (signal.equals("STOP")) {
            Children.awaitUntil("process " + pid + " is stopped", () -> {
                try {
                    String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
                    return stat.substring(stat.lastIndexOf(')') + 2).startsWith("T");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
        }
    }
}
