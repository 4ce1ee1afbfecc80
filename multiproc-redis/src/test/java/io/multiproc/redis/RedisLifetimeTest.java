package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a Redis manager leaves behind: unnamed objects go at close, named ones stay until destroyed, nested ones go with their last reference. */
class RedisLifetimeTest {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    private static String freshName() {
        return "life" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static Set<String> keysOf(String name) {
        try (RedisManager probe = (RedisManager) RedisManager.connect(redis.url(), name)) {
            return StreamSupport.stream(probe.redisson().getKeys().getKeysByPattern("mp:" + name + ":*").spliterator(), false)
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void closeRemovesTheUnnamedObjectsAndKeepsTheNamedOnes() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            m.list().add(1);
            m.dict().put("k", new ArrayList<>(List.of(1)));   // with a nested list
            m.namespace().set("a", 1);
            m.value(3);
            m.queue(4).add("x");
            m.<Integer>list("kept").add(1);
        }
        assertThat(keysOf(name)).containsExactly("mp:" + name + ":list:{kept}");
        try (Manager again = RedisManager.connect(redis.url(), name)) {
            assertThat(again.<Integer>list("kept")).containsExactly(1);
            assertThat(((RedisManager) again).destroy()).isEqualTo(1);
        }
        assertThat(keysOf(name)).isEmpty();
    }

    /**
     * "My service makes a lock and an event per request": each wait subscribes to its object's channel,
     * and those subscriptions used to stay, here and on the server, until the manager closed. Now one
     * that no waiter used for the idle time (30 s by default, 3 s here) is ended.
     */
    @Test
    void subscriptionsOfObjectsNobodyWaitsOnAnyMoreEnd() throws Exception {
        String name = freshName();
        String pattern = "PUBSUB CHANNELS *" + name + "*";
        System.setProperty("multiproc.redis.wakeIdleMillis", "3000");
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), name)) {
            for (int i = 0; i < 20; i++) {
                RedisLock lock = m.lock();
                lock.lock();
                lock.unlock();
                RedisEvent event = m.event();
                event.set();
                assertThat(event.await(Duration.ofSeconds(5))).isTrue();
            }
            assertThat(redis.command(pattern)).as("one subscription per object used").isEqualTo("*40");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!redis.command(pattern).equals("*0") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(redis.command(pattern)).as("none left once idle").isEqualTo("*0");

            // a waiter after that subscribes again and is woken by a message, not by its 0.5 s poll
            RedisEvent event = m.event();
            CompletableFuture<Long> woken = CompletableFuture.supplyAsync(() -> {
                try {
                    long t0 = System.nanoTime();
                    assertThat(event.await(Duration.ofSeconds(10))).isTrue();
                    return System.nanoTime() - t0;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long subscribeBy = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!redis.command(pattern).equals("*1") && System.nanoTime() < subscribeBy) {
                Thread.sleep(5);
            }
            assertThat(redis.command(pattern)).isEqualTo("*1");
            event.set();
            assertThat(woken.get(10, java.util.concurrent.TimeUnit.SECONDS)).isPositive();
        } finally {
            System.clearProperty("multiproc.redis.wakeIdleMillis");
        }
    }

    /**
     * "My service makes a list, a queue and a lock per job on one long-lived connection": every unnamed
     * object stayed in Redis (and in the manager's list of what to remove) until the manager closed. Now
     * one whose proxies here are all garbage, and that never left this JVM nor went into a container,
     * is removed while the manager stays open; the others stay until close, as before.
     */
    @Test
    void unnamedObjectsTheProgramDroppedAreRemovedWhileTheManagerStaysOpen() throws Exception {
        String name = freshName();
        String storedKey;
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), name)) {
            List<Integer> kept = m.list();
            kept.add(1);
            ConcurrentMap<String, Object> registry = m.dict("registry");
            registry.put("stored", storedAndDropped(m));
            RedisLock keptLock = m.lock();
            keptLock.lock();
            Set<String> before = allKeysMentioning(name);
            for (int job = 0; job < 40; job++) {
                oneJob(m, job);
            }
            assertThat(allKeysMentioning(name).size()).as("each job made keys").isGreaterThan(before.size() + 100);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!allKeysMentioning(name).equals(before) && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(100);
            }
            assertThat(allKeysMentioning(name)).as("what the jobs made is gone; what is kept or stored stays").isEqualTo(before);
            assertThat(m.unnamedObjects()).as("and the manager no longer lists them").isEqualTo(3);
            assertThat(kept).containsExactly(1);
            assertThat(registry.get("stored")).isEqualTo(List.of(2));
            assertThat(keptLock.isLocked()).isTrue();
            keptLock.unlock();
            storedKey = ((RedisProxy) registry.get("stored")).key();
        }
        assertThat(allKeysMentioning(name)).as("close removes the rest; the list the registry refers to goes with its last reference")
                .containsExactlyInAnyOrder("mp:" + name + ":dict:{registry}", storedKey, storedKey + ":refs", storedKey + ":orphan");
        RedisManager.deleteAll(redis.url(), name);
    }

    /**
     * The other side of the rule above: an unnamed object whose proxy went to another JVM, or into a
     * container, may be used by a process this one cannot see, so dropping this program's proxy does not
     * remove it; close does.
     */
    @Test
    void anUnnamedObjectThatLeftThisJvmOrWentIntoAContainerOutlivesThisProgramsProxy() throws Exception {
        String name = freshName();
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), name)) {
            String sent = sentToAChild(m);
            String stored = storedThenRemoved(m);
            String eventSent = eventSentToAChild(m);
            String dropped = droppedAtOnce(m);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (allKeysMentioning(name).contains(dropped) && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(100);
            }
            assertThat(allKeysMentioning(name)).as("the GC ran the releases (one that never escaped is gone)").doesNotContain(dropped);
            assertThat(allKeysMentioning(name)).contains(sent, stored, eventSent);
            assertThat(m.redisson().getList(sent, RedisCodec.INSTANCE).readAll()).containsExactly("first", "from the child");
            // the queue, the list, the event, and the dict whose remove handed out a proxy of the list
            assertThat(m.unnamedObjects()).isEqualTo(4);
        }
        assertThat(allKeysMentioning(name)).as("close removes them").isEmpty();
    }

    /**
     * A nested container read out of an unnamed holder the program then dropped: Redis does not count the
     * nested proxy (decision 102), so freeing the holder would have freed the set under it (it read empty).
     * Such a holder stays until close.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aNestedContainerReadFromADroppedUnnamedHolderKeepsItsElements() throws Exception {
        String name = freshName();
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), name)) {
            Set<Object> nested = nestedOfADroppedHolder(m);
            String dropped = droppedAtOnce(m);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (allKeysMentioning(name).contains(dropped) && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(100);
            }
            assertThat(allKeysMentioning(name)).as("the GC ran the releases").doesNotContain(dropped);
            assertThat(nested).containsExactly(7);
            assertThat(m.unnamedObjects()).as("the holder stays until close").isEqualTo(1);
        }
        assertThat(allKeysMentioning(name)).as("close removes it").isEmpty();
    }

    @SuppressWarnings("unchecked")
    private static Set<Object> nestedOfADroppedHolder(Manager m) {
        List<Object> holder = m.list();
        holder.add(new java.util.HashSet<>(Set.of(7)));
        return (Set<Object>) holder.get(0);
    }

    private static String sentToAChild(Manager m) throws InterruptedException {
        java.util.concurrent.BlockingQueue<String> q = m.queue();
        q.add("first");
        RedisProcessTest.runAll(io.multiproc.process.ChildProcess.start(() -> q.add("from the child")));
        return ((RedisProxy) q).key();
    }

    private static String storedThenRemoved(Manager m) {
        List<Integer> l = m.list();
        l.add(1);
        ConcurrentMap<String, Object> d = m.dict();
        d.put("l", l);
        d.remove("l");
        return ((RedisProxy) l).key();
    }

    /** An event a child sets (its key exists while it is set), dropped here. */
    private static String eventSentToAChild(RedisManager m) throws InterruptedException {
        RedisEvent event = m.event();
        String before = m.redisson().getKeys().getKeysStream().filter(k -> k.contains(":event:{") && k.contains(m.name())).findAny().orElse(null);
        assertThat(before).as("an event that is not set has no key").isNull();
        RedisProcessTest.runAll(io.multiproc.process.ChildProcess.start(event::set));
        assertThat(event.isSet()).isTrue();
        return m.redisson().getKeys().getKeysStream().filter(k -> k.contains(":event:{") && k.contains(m.name())).findAny().orElseThrow();
    }

    private static String droppedAtOnce(Manager m) {
        List<Integer> l = m.list();
        l.add(1);
        return ((RedisProxy) l).key();
    }

    private static List<Integer> storedAndDropped(Manager m) {
        List<Integer> stored = m.list();
        stored.add(2);
        return stored;
    }

    private static void oneJob(RedisManager m, int job) throws InterruptedException {
        m.<Integer>list().add(job);
        m.<String, Object>dict().put("k", new ArrayList<>(List.of(job)));
        m.namespace().set("a", job);
        m.value(job);
        m.<Integer>queue().add(job);
        m.<Integer>queue(2).add(job);
        RedisLock lock = m.lock();
        lock.lock();
        lock.newCondition().signalAll();
        lock.unlock();
        m.rlock().lock();
        m.semaphore(2).acquire();
        m.event().set();
        m.barrier(2);
    }

    /**
     * "I make a condition per wait on a lock that lives as long as my service": the connection no longer
     * keeps each one's keys until it closes (decision 233), Redis keeps none of them, and one that went to
     * another JVM keeps its keys until close.
     */
    @Test
    void conditionsMadePerWaitOnALongLivedLockDoNotGrowTheConnection() throws Exception {
        String name = freshName();
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), name)) {
            RedisLock lock = m.lock("long-lived");
            RedisCondition traveled = lock.newCondition();
            new java.io.ObjectOutputStream(java.io.OutputStream.nullOutputStream()).writeObject(traveled);
            for (int i = 0; i < 2_000; i++) {
                RedisCondition c = lock.newCondition();
                if (i % 200 == 0) {
                    lock.lock();
                    try {
                        assertThat(c.await(Duration.ofMillis(1))).isFalse();
                    } finally {
                        lock.unlock();
                    }
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (m.derivedKeys() > 3 && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(50);
            }
            assertThat(m.derivedKeys()).as("the keys of the condition that traveled only").isEqualTo(3);
            assertThat(keysOf(name)).as("Redis keeps no condition's keys").isEmpty();
            lock.lock();
            try {
                assertThat(traveled.await(Duration.ofMillis(1))).as("the one that traveled still works").isFalse();
            } finally {
                lock.unlock();
            }
        }
    }

    @Test
    void twoThreadsClosingOneManagerAtOnceLeaveTheSharedClientToTheOtherManagers() throws Exception {
        for (int round = 0; round < 20; round++) {
            Manager keeper = RedisManager.connect(redis.url(), freshName());
            try {
                Manager m = RedisManager.connect(redis.url(), freshName()); // the same client as keeper's
                for (int i = 0; i < 20; i++) {
                    m.list().add(i); // unnamed objects: close() has work to do
                }
                java.util.concurrent.CyclicBarrier both = new java.util.concurrent.CyclicBarrier(2);
                Runnable closer = () -> {
                    try {
                        both.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    m.close();
                };
                Thread a = new Thread(closer);
                Thread b = new Thread(closer);
                a.start();
                b.start();
                a.join();
                b.join();
                List<Integer> l = keeper.list();
                l.add(round);
                assertThat(l).as("round %d: the other manager's client is still open", round).containsExactly(round);
            } finally {
                keeper.close();
            }
        }
    }

    @Test
    void deleteAllRemovesANamedManagersKeys() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            m.<String, Integer>dict("a").put("k", 1);
            m.<Integer>list("b").add(1);
        }
        assertThat(keysOf(name)).hasSize(2);
        assertThat(RedisManager.deleteAll(redis.url(), name)).isEqualTo(2);
        assertThat(keysOf(name)).isEmpty();
    }

    /** Every key on the server that mentions the manager's prefix, Redisson's own prefixed keys included. */
    private static Set<String> allKeysMentioning(String name) {
        try (RedisManager probe = (RedisManager) RedisManager.connect(redis.url(), name)) {
            return StreamSupport.stream(probe.redisson().getKeys().getKeysByPattern("*mp:" + name + ":*").spliterator(), false)
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void destroyEmptiesABoundedQueueAndGivesItsCapacityBack() throws Exception {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            java.util.concurrent.BlockingQueue<Integer> q = m.queue(2);
            q.put(1);
            q.put(2);
            Thread blocked = new Thread(() -> {
                try {
                    q.put(9);   // full: waits for room
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            blocked.start();
            Thread.sleep(300);
            try {
                assertThat(((RedisManager) m).destroy()).as("the queue's key").isEqualTo(1);
                blocked.join(5_000);
                assertThat(blocked.isAlive()).as("the waiting put got the room destroy gave back").isFalse();
                assertThat(q).containsExactly(9);
                assertThat(q.offer(3)).as("room again after destroy").isTrue();
                assertThat(q.offer(4)).as("the bound is still 2").isFalse();
            } finally {
                blocked.interrupt();
                blocked.join();
            }
        }
        assertThat(allKeysMentioning(name)).as("close removes the unnamed queue and its capacity").isEmpty();
    }

    @Test
    void deleteAllAfterACrashRemovesABoundedQueuesCapacityToo() {
        String name = freshName();
        try (Manager crashed = RedisManager.connect(redis.url(), name)) {   // never got to close: a crash
            crashed.<Integer>queue(2).add(1);
            assertThat(allKeysMentioning(name)).isNotEmpty();
            RedisManager.deleteAll(redis.url(), name);
            assertThat(allKeysMentioning(name)).isEmpty();
        }
    }

    @Test
    void synchronizationObjectsOfAClosedManagerThrowNamingItWhileAnotherManagerOnTheSameClientGoesOn() throws Exception {
        String name = freshName();
        try (RedisManager other = (RedisManager) RedisManager.connect(redis.url(), name)) {   // shares a's client
            RedisManager a = (RedisManager) RedisManager.connect(redis.url(), name);
            RedisLock lock = a.lock("L");
            RedisLock rlock = a.rlock("R");
            io.multiproc.manager.SemaphoreProxy sem = a.semaphore("S", 1);
            io.multiproc.manager.EventProxy event = a.event("E");
            io.multiproc.manager.BarrierProxy barrier = a.barrier("B", 1);
            java.util.concurrent.locks.Condition cond = a.condition("C", rlock);
            a.close();
            List<org.assertj.core.api.ThrowableAssert.ThrowingCallable> uses = List.of(
                    lock::lock, lock::tryLock, lock::unlock, rlock::lock, sem::tryAcquire, sem::release,
                    event::set, event::isSet, () -> event.await(java.time.Duration.ofMillis(10)), barrier::await,
                    cond::signal, () -> a.lock("M"), () -> a.semaphore(1));
            for (org.assertj.core.api.ThrowableAssert.ThrowingCallable use : uses) {
                assertThatThrownBy(use).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("'" + name + "'").hasMessageContaining("closed");
            }
            RedisLock theirs = other.lock("L");
            assertThat(theirs.tryLock()).as("nobody took L through the closed manager").isTrue();
            theirs.unlock();
            assertThat(other.semaphore("S", 1).availablePermits()).isEqualTo(1);
            assertThat(other.event("E").isSet()).isFalse();
        }
    }

    @Test
    void closeEndsTheSubscriptionsOfItsWaitsWhileAnotherManagerKeepsTheSharedClient() throws Exception {
        String name = freshName();
        try (RedisManager other = (RedisManager) RedisManager.connect(redis.url(), name)) {   // shares a's client
            RedisManager a = (RedisManager) RedisManager.connect(redis.url(), name);
            a.event("E").await(java.time.Duration.ofMillis(10));
            a.semaphore("S", 0).tryAcquire(java.time.Duration.ofMillis(10));
            a.semaphore(0).tryAcquire(java.time.Duration.ofMillis(10));
            String channels = "PUBSUB CHANNELS mp:" + name + ":*";
            assertThat(redis.command(channels)).as("the waits subscribed").isEqualTo("*3");
            a.close();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (!redis.command(channels).equals("*0") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(redis.command(channels)).as("no subscription of the closed manager is left").isEqualTo("*0");
            assertThat(other.event("E").await(java.time.Duration.ofMillis(10))).isFalse();   // the client still works
        }
    }

    @SuppressWarnings("unchecked")
    @Test
    void aNestedContainerIsFreedWithItsLastReference() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            ConcurrentMap<String, Object> d = m.dict("top");
            d.put("a", new ArrayList<>(List.of(1, new ArrayList<>(List.of(2)))));   // a list holding a list
            d.put("b", d.get("a"));                                                  // a second reference
            assertThat(keysOf(name)).hasSize(1 + 2 * 2);   // the dict, two lists with their counts
            d.remove("a");
            assertThat(((List<Object>) d.get("b")).get(0)).isEqualTo(1);
            assertThat(keysOf(name)).hasSize(5);
            d.put("b", "plain");                           // the last reference overwritten
            assertThat(keysOf(name)).containsExactly("mp:" + name + ":dict:{top}");
            List<Object> top = m.list("l");
            top.add(new ArrayList<>(List.of(1)));
            top.clear();
            assertThat(keysOf(name)).containsExactlyInAnyOrder("mp:" + name + ":dict:{top}");
            ((RedisManager) m).destroy();
        }
    }

    /**
     * An object the program made with m.queue(2) or m.list() is its manager's until close, as the local
     * manager's process holds keep it: putting it into a container and taking it out again must not free it.
     */
    @Test
    void anObjectOfAnOpenManagerOutlivesTheLastContainerThatHeldIt() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            java.util.concurrent.BlockingQueue<String> jobs = m.queue(2);
            List<Integer> results = m.list();
            results.add(1);
            ConcurrentMap<String, Object> registry = m.dict();
            registry.put("jobs", jobs);
            registry.put("results", results);
            registry.remove("jobs");
            registry.put("results", "done");
            assertThat(jobs.offer("a")).as("the bounded queue keeps its capacity").isTrue();
            assertThat(jobs.offer("b")).isTrue();
            assertThat(jobs.offer("c")).as("and its bound").isFalse();
            assertThat(results).as("the list keeps what the program added").containsExactly(1);
        }
        assertThat(allKeysMentioning(name)).as("close still removes them").isEmpty();
    }

    /**
     * A manager that arriving proxies attached (in a child) never closes: what it makes is freed by counting,
     * as nested objects are, or it would stay for ever once a container held it and let go.
     */
    @SuppressWarnings("unchecked")
    @Test
    void anObjectMadeThroughAnAttachedManagerGoesWithItsLastReference() {
        String name = freshName();
        try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), name)) {
            RedisManager attached = RedisManager.attached(m.configYaml(), name);
            ConcurrentMap<String, Object> top = m.dict("top");
            List<Integer> l = attached.list();
            l.add(1);
            top.put("l", l);
            assertThat((List<Object>) top.get("l")).containsExactly(1);
            top.put("l", "plain");
            assertThat(allKeysMentioning(name)).containsExactly("mp:" + name + ":dict:{top}");
            m.destroy();
        }
    }

    /** One still referenced at close stays until the last container lets it go, and then goes entirely. */
    @SuppressWarnings("unchecked")
    @Test
    void anObjectReferencedAtItsManagersCloseGoesWithItsLastReference() {
        String name = freshName();
        try (Manager other = RedisManager.connect(redis.url(), name)) {
            ConcurrentMap<String, Object> top = other.dict("top");
            try (Manager m = RedisManager.connect(redis.url(), name)) {
                List<Integer> l = m.list();
                l.add(7);
                top.put("a", l);
                top.put("b", l);
            }
            assertThat((List<Object>) top.get("a")).containsExactly(7);
            top.remove("a");
            assertThat((List<Object>) top.get("b")).as("one reference left").containsExactly(7);
            top.remove("b");
            assertThat(allKeysMentioning(name)).as("the list, its count and its mark are gone (and the emptied dict)").isEmpty();
            ((RedisManager) other).destroy();
        }
    }

    @Test
    void aNestedValueThatCannotBeStoredWholeLeavesNoHalfBuiltContainerBehind() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            ConcurrentMap<String, Object> d = m.dict("top");
            d.put("ok", 1);
            Namespace ns = new io.multiproc.testing.PlainNamespace();
            ns.set("list", new ArrayList<>(List.of(1)));   // becomes a nested list before "bad" fails
            ns.set("bad", new Object());                   // not serializable: the codec refuses it
            assertThatThrownBy(() -> d.put("ns", ns)).hasMessageContaining("java.lang.Object");
            List<Object> halfBad = new ArrayList<>(List.of(new ArrayList<>(List.of(2)), new Object()));
            assertThatThrownBy(() -> d.put("list", halfBad)).hasMessageContaining("java.lang.Object");
            assertThat(d).containsOnlyKeys("ok");
            assertThat(keysOf(name)).containsExactly("mp:" + name + ":dict:{top}");
            ((RedisManager) m).destroy();
        }
    }

    /** A key or element of the user's that holds a proxy: nothing in it is a container Redis could count. */
    record Box(Object inner) {
    }

    /**
     * Dict keys and set elements are stored by value and counted nowhere, so a record key naming a nested
     * list kept naming it after the list was freed with its last counted reference (it read as empty):
     * such a key is refused naming its class, as the local manager refuses it, and the dict and set stay
     * as they were.
     */
    @SuppressWarnings("unchecked")
    @Test
    void aKeyOrElementHoldingAProxyIsRefusedAndTheDictAndSetStayIntact() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            List<Object> ls = m.list("top");
            ls.add(new ArrayList<>(List.of(1)));
            Object inner = ls.get(0);
            ConcurrentMap<Object, Object> d = m.dict("d");
            ConcurrentMap<String, Object> holder = m.dict("holder");
            holder.put("s", new java.util.HashSet<>());
            Set<Object> set = (Set<Object>) holder.get("s");
            assertThatThrownBy(() -> d.put(new Box(inner), "v")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName()).hasMessageContaining("cannot be stored inside");
            assertThatThrownBy(() -> d.putIfAbsent(new Box(inner), "v")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThatThrownBy(() -> d.putAll(java.util.Map.of("ok", 1, new Box(inner), 2))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThatThrownBy(() -> d.merge(new Box(inner), 1, (a, b) -> b)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThatThrownBy(() -> d.compute(new Box(inner), (k, v) -> 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThatThrownBy(() -> d.computeIfAbsent(List.of(new Box(inner)), k -> 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot be stored inside");
            io.multiproc.manager.Namespace ns = m.namespace("ns");   // a list proxy itself is its contents (decision 234)
            assertThatThrownBy(() -> d.put(ns, "v")).as("a namespace proxy itself as a key").isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("shared object");
            assertThatThrownBy(() -> set.add(new Box(inner))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThat(d).isEmpty();
            assertThat(set).isEmpty();
            assertThat(d.get(new Box(inner))).as("a read with such a key stores nothing: allowed").isNull();
            assertThat(set.contains(new Box(inner))).isFalse();
            assertThatThrownBy(() -> set.add(ns)).as("a namespace proxy itself as an element, as the local manager refuses it")
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shared object");
            d.put(new Box("plain"), "v");                    // a record key without a proxy is stored by value
            set.add(new Box("plain"));
            set.add(new ArrayList<>(List.of(1)));            // a List element too: equal to inner's contents, not inner
            assertThat(d).containsExactly(java.util.Map.entry(new Box("plain"), "v"));
            assertThat(set).containsExactlyInAnyOrder(new Box("plain"), List.of(1));
            ((RedisManager) m).destroy();
        }
    }

    /**
     * Only a container stored itself as a value is counted (or a List, Set or Map of them, which becomes a
     * nested container): a record naming a nested list, stored as a list element, dict value, attribute or
     * value, kept naming it after the list was freed with its last counted reference (it read as empty).
     * Such a value is refused naming its class, as the local manager refuses it, and nothing is written.
     */
    @SuppressWarnings("unchecked")
    @Test
    void aValueHoldingAProxyBelowTheTopIsRefusedAndNothingIsWritten() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            List<Object> top = m.list("top");
            top.add(new ArrayList<>(List.of(1)));
            Object inner = top.get(0);
            List<Object> ls = m.list("ls");
            ls.add("x");
            ConcurrentMap<String, Object> d = m.dict("d");
            d.put("k", 1);
            Namespace ns = m.namespace("ns");
            io.multiproc.manager.SharedValueProxy<Object> v = m.value("v", 1);
            Set<String> before = keysOf(name);
            List<org.assertj.core.api.ThrowableAssert.ThrowingCallable> writes = List.of(
                    () -> ls.add(new Box(inner)),
                    () -> ls.set(0, new Box(inner)),
                    () -> ls.addAll(List.of("y", new Box(inner))),
                    () -> ls.add(new ArrayList<>(List.of(2, new Box(inner)))), // its nested list is not left behind
                    () -> d.put("k", new Box(inner)),
                    () -> d.put("k2", new Box(inner)),
                    () -> d.putIfAbsent("k2", new Box(inner)),
                    () -> d.putAll(java.util.Map.of("k3", new Box(inner))),
                    () -> d.replace("k", new Box(inner)),
                    () -> d.merge("k", 2, (a, b) -> new Box(inner)),
                    () -> d.compute("k", (k, old) -> new Box(inner)),
                    () -> d.computeIfAbsent("k4", k -> new Box(inner)),
                    () -> d.replaceAll((k, old) -> new Box(inner)),
                    () -> ns.set("a", new Box(inner)),
                    () -> v.set(new Box(inner)),
                    () -> v.getAndSet(new Box(inner)),
                    () -> v.compareAndSet(1, new Box(inner)),
                    () -> v.updateAndGet(old -> new Box(inner)),
                    () -> v.set(List.of(inner))); // a value holds a copy: no nested container to count it
            for (int i = 0; i < writes.size(); i++) {
                assertThatThrownBy(writes.get(i)).as("write %d", i).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("cannot be stored inside").hasMessageContaining(
                                i == writes.size() - 1 ? "List" : Box.class.getName());
            }
            assertThatThrownBy(() -> ls.add(new Object[] {inner})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Object[].class.getName());
            assertThat(ls).containsExactly("x");
            assertThat(d).containsExactly(java.util.Map.entry("k", 1));
            assertThat(ns.has("a")).isFalse();
            assertThat(v.get()).isEqualTo(1);
            assertThat(keysOf(name)).as("no nested container half built").isEqualTo(before);

            ls.add(new Box("plain"));                              // a record without a proxy is stored by value
            d.put("b", new Box("plain"));
            v.set(new Box("plain"));
            assertThat(v.get()).isEqualTo(new Box("plain"));
            ls.add(inner);                                         // the proxy itself: a counted ref
            ls.add(new ArrayList<>(List.of(inner)));               // a nested list holding it: counted too
            d.merge("k", 2, (a, b) -> inner);
            ns.set("a", inner);
            top.clear();                                           // its first reference goes: the others keep it
            assertThat((List<Object>) ls.get(2)).containsExactly(1);
            assertThat((List<Object>) ((List<Object>) ls.get(3)).get(0)).containsExactly(1);
            assertThat((List<Object>) d.get("k")).containsExactly(1);
            assertThat((List<Object>) ns.get("a")).containsExactly(1);
            ((RedisManager) m).destroy();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aProxyOfTheSameServerAsASharedValueIsRefusedAndTheValueStaysReadable() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name)) {
            List<Object> top = m.list("top");
            top.add(new ArrayList<>(List.of(1)));
            Object inner = top.get(0);
            io.multiproc.manager.SharedValueProxy<Object> v = m.value("v", 1);
            // a shared value holds a copy: nothing would count the reference, and reading it back failed
            // inside Redisson (its network thread decoded the proxy and called the server synchronously)
            List<org.assertj.core.api.ThrowableAssert.ThrowingCallable> writes = List.of(
                    () -> v.set(inner),
                    () -> v.getAndSet(inner),
                    () -> v.compareAndSet(1, inner),
                    () -> v.updateAndGet(old -> inner),
                    () -> m.value("w", inner));
            for (int i = 0; i < writes.size(); i++) {
                assertThatThrownBy(writes.get(i)).as("write %d", i).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("shared value");
            }
            assertThat(v.get()).isEqualTo(1);
            v.set(List.of(1, 2));                                  // a plain list is a copy: fine
            assertThat((List<Object>) v.get()).containsExactly(1, 2);
            assertThat((List<Object>) top.get(0)).containsExactly(1);
            ((RedisManager) m).destroy();
        }
    }

    @Test
    void customTypesAreRefusedWithAClearMessage() {
        try (Manager m = RedisManager.connect(redis.url(), freshName())) {
            assertThatThrownBy(() -> m.register("counter", () -> new Object(), Object.class))
                    .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("custom types");
            assertThatThrownBy(() -> m.create("counter")).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Test
    void badNamesAndBoundsAreRefusedNamingTheValue() {
        try (Manager m = RedisManager.connect(redis.url(), freshName())) {
            assertThatThrownBy(() -> m.list("a b")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name=a b");
            // a manager named "pool" would share the key prefix of every Redis pool (deleteAll would wipe them)
            assertThatThrownBy(() -> RedisManager.connect(redis.url(), "pool")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("name=pool is reserved");
            assertThatThrownBy(() -> RedisManager.deleteAll(redis.url(), "pool")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> m.queue(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxItems=0");
        }
        assertThatThrownBy(() -> RedisManager.connect(redis.url(), "")).isInstanceOf(IllegalArgumentException.class);
    }

    private static long leaseKeeperThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals("mp-redis-lease-keeper")).count();
    }

    /**
     * "A key is stored by value": a key holding another manager's proxy (a local manager's list) or a lock
     * anywhere inside is refused naming the key's class, as the local and remote managers refuse it
     * (decision 249); it was stored as the object's handle, a live reference nothing counted.
     */
    @Test
    void aKeyOrElementHoldingAnotherManagersProxyOrALockIsRefusedLikeTheLocalManagersKeys() {
        String name = freshName();
        try (Manager m = RedisManager.connect(redis.url(), name); Manager local = Manager.start();
             io.multiproc.sync.SharedLock lock = io.multiproc.sync.SharedLock.create()) {
            List<Object> localList = local.list();
            localList.add(1);
            ConcurrentMap<Object, Object> d = m.dict("d");
            ConcurrentMap<String, Object> holder = m.dict("holder");
            holder.put("s", new java.util.HashSet<>());
            @SuppressWarnings("unchecked")
            Set<Object> set = (Set<Object>) holder.get("s");
            for (Object key : List.of(new Box(localList), List.of(localList), new Box(lock), List.of(List.of(lock)))) {
                assertThatThrownBy(() -> d.put(key, "v")).as("put %s", key.getClass()).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(key.getClass().getName()).hasMessageContaining("cannot be stored inside");
                assertThatThrownBy(() -> d.putIfAbsent(key, "v")).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(key.getClass().getName());
                assertThatThrownBy(() -> d.merge(key, 1, (a, b) -> b)).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> set.add(key)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(key.getClass().getName());
            }
            assertThat(d).isEmpty();
            assertThat(set).isEmpty();
            d.put(localList, "contents");                   // a list proxy itself is its contents (decision 234)
            assertThat(d).containsExactly(java.util.Map.entry(List.of(1), "contents"));
            ((RedisManager) m).destroy();
        }
    }

    /** "Each job gets its own manager, whose lock goes through a dict": threads must not pile up per manager name. */
    @Test
    void managersMadeAndClosedOneAfterAnotherLeaveNoLeaseKeeperThreadsBehind() {
        long before = leaseKeeperThreads();
        for (int i = 0; i < 30; i++) {
            String name = freshName();
            try (RedisManager m = (RedisManager) RedisManager.connect(redis.url(), name)) {
                ConcurrentMap<String, Object> d = m.dict();
                d.put("l", m.lock());
                java.util.concurrent.locks.Lock lock = (java.util.concurrent.locks.Lock) d.get("l"); // decoded: attaches
                lock.lock();
                lock.unlock();
            }
            // checked as each close returns, not after a pause: a keeper thread still ending after close()
            // had returned counted as left behind (CI saw 2)
            assertThat(leaseKeeperThreads() - before).as("lease keeper threads left after manager %d closed", i)
                    .isLessThanOrEqualTo(1);
        }
    }
}
