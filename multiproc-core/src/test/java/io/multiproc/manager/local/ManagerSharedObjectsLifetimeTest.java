package io.multiproc.manager.local;

import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.Manager;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.process.ChildProcess;
import io.multiproc.process.Pool;
import io.multiproc.queue.SharedQueue;
import io.multiproc.shared.SharedLong;
import io.multiproc.sync.SharedLock;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The queues, locks, semaphores, events, barriers and conditions a Manager makes go once the program no
 * longer reaches them, as a CPython proxy's referent goes with its last proxy (decision 169): a job loop
 * making one per job does not fill /dev/shm (nor the 65,530 mappings a process may have) until the
 * manager closes. One stored into a container stays until the manager closes; one given to a child
 * stays while the child uses it.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerSharedObjectsLifetimeTest {

    private static boolean exists(String segment) {
        return Files.exists(Path.of("/dev/shm", segment));
    }

    private static void awaitGone(List<String> segments, String what) throws InterruptedException {
        try {
            Children.awaitUntil(what, () -> {
                System.gc();
                return segments.stream().noneMatch(ManagerSharedObjectsLifetimeTest::exists);
            });
        } catch (AssertionError e) {
            List<String> left = segments.stream().filter(ManagerSharedObjectsLifetimeTest::exists).toList();
            throw new AssertionError(e.getMessage() + ": " + left.size() + " of " + segments.size() + " left, first "
                    + left.subList(0, Math.min(6, left.size())) + " at indexes "
                    + left.stream().limit(6).map(segments::indexOf).toList(), e);
        }
    }

    /** One job: every kind of shared object a manager makes, used, then dropped; returns their segments. */
    private static List<String> oneJob(Manager m, int job) throws Exception {
        List<String> names = new ArrayList<>();
        Lock l = m.lock();
        l.lock();
        l.unlock();
        names.add(((SharedLock) l).name());
        Condition c = m.condition(l);
        names.add(((io.multiproc.sync.SharedCondition) c).name());
        Lock r = m.rlock();
        r.lock();
        r.unlock();
        names.add(((io.multiproc.sync.SharedRLock) r).name());
        BlockingQueue<Integer> q = m.queue();
        q.put(job);
        assertThat(q.take()).isEqualTo(job);
        names.add(((SharedQueue<Integer>) q).name());
        BlockingQueue<Integer> bounded = m.queue(4);
        bounded.put(job);
        names.add(((SharedQueue<Integer>) bounded).name());
        SemaphoreProxy s = m.semaphore(1);
        s.acquire();
        s.release();
        EventProxy e = m.event();
        e.set();
        BarrierProxy b = m.barrier(1);
        b.await();
        return names;
    }

    @Test
    void sharedObjectsAJobLoopMakesAndDropsAreRemovedWhileTheManagerStaysOpen() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            List<String> segments = new ArrayList<>();
            for (int job = 0; job < 30; job++) {
                segments.addAll(oneJob(m, job));
            }
            awaitGone(segments, "the jobs' locks, conditions, queues are removed from /dev/shm");
            Children.awaitUntil("the manager holds none of them", () -> {
                System.gc();
                return lm.madeCount() == 0;
            });
            Lock after = m.lock();                     // the manager still works
            after.lock();
            after.unlock();
        }
    }

    /** A shared object stored into a container has no proxy behind it: only the manager's close removes it. */
    @Test
    void aLockStoredInADictOutlivesTheProxyThatStoredIt() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Object> d = m.dict();
            String name = storeALock(m, d);
            for (int i = 0; i < 20; i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertThat(exists(name)).as("the stored lock's segment").isTrue();
            ChildProcess child = ChildProcess.start(() -> {
                Lock l = (Lock) d.get("lock");
                if (!l.tryLock()) {
                    throw new AssertionError("the stored lock is held");
                }
                l.unlock();
            });
            try {
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
            try (SharedLock again = (SharedLock) d.get("lock")) {  // this process's second handle: closed here
                assertThat(again.tryLock()).isTrue();
                again.unlock();
            }
        }
    }

    /**
     * The same when the item is inside a nested container: a queue per job kept in a list or dict value
     * goes when the job's entry is removed (the nested container is freed with it).
     */
    @Test
    void aSharedObjectInsideANestedContainerGoesWhenTheContainerIsFreed() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Object> d = m.dict();
            List<String> names = new ArrayList<>();
            for (int job = 0; job < 3; job++) {
                try (SharedQueue<String> q = SharedQueue.create(4)) {
                    names.add(q.name());
                    d.put("list " + job, new ArrayList<>(List.of("reply to", q)));
                    d.put("map " + job, java.util.Map.of("reply", q));
                }
            }
            for (int job = 0; job < 3; job++) {
                d.remove("list " + job);
            }
            d.put("map 0", "done");
            d.keySet().removeIf(k -> k.startsWith("map "));
            awaitGone(names, "the queues once the nested containers naming them are freed, the manager still open");
        }
    }

    /** A managed list the program made and dropped takes what its items named with it. */
    @Test
    void aSharedObjectStoredInADroppedListGoesWithIt() throws Exception {
        try (Manager m = Manager.start()) {
            String name = storeInADroppedList(m);
            awaitGone(List.of(name), "the queue once the list naming it was dropped and freed");
        }
    }

    private static String storeInADroppedList(Manager m) {
        List<Object> ls = m.list();
        try (SharedQueue<String> q = SharedQueue.create(4)) {
            ls.add(q);
            return q.name();
        }
    }

    /** A shared object stored into containers lives while an item names it, as a CPython proxy's referent (decision 172). */
    @Test
    void aSharedObjectGoesWithTheLastItemThatNamesIt() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Object> d = m.dict();
            List<Object> ls = m.list();
            String name;
            try (SharedQueue<String> q = SharedQueue.create(10)) {
                name = q.name();
                d.put("a", q);
                d.put("b", q);
                ls.add(q);
            }
            d.remove("a");
            d.put("b", "replaced");
            for (int i = 0; i < 5; i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertThat(exists(name)).as("the queue while the list names it").isTrue();
            @SuppressWarnings("unchecked")
            BlockingQueue<String> read = (BlockingQueue<String>) ls.get(0);
            read.put("still works");
            read = null;
            ChildProcess child = ChildProcess.start(() -> ls.remove(0)); // the last item goes in another process
            try {
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
            awaitGone(List.of(name), "the queue once no item names it, the manager still open");
            d.put("after", "the manager still works");
            assertThat(d).containsEntry("after", "the manager still works");
        }
    }

    /** {@code results.put(job, m.queue())} ... {@code results.remove(job)} in a loop does not fill /dev/shm. */
    @Test
    void aJobLoopStoringAQueuePerJobLeavesNoneBehind() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<Integer, Object> results = m.dict();
            List<String> names = new ArrayList<>();
            for (int job = 0; job < 30; job++) {
                names.add(storeUseAndRemoveAQueue(m, results, job));
            }
            awaitGone(names, "the jobs' queues, stored, read back and removed, the manager still open");
        }
    }

    @SuppressWarnings("unchecked")
    private static String storeUseAndRemoveAQueue(Manager m, ConcurrentMap<Integer, Object> results, int job) throws Exception {
        BlockingQueue<String> q = m.queue();
        results.put(job, q);
        ((BlockingQueue<String>) results.get(job)).put("done " + job);
        assertThat(q.take()).isEqualTo("done " + job);
        results.remove(job);
        return ((SharedQueue<?>) q).name();
    }

    /**
     * Each {@code d.get("lock")} makes a handle of its own, which nobody closes: dropped ones are released,
     * and the manager's close removes the lock while this process runs on (decision 171).
     */
    @Test
    void aLockReadFromADictIsReleasedOnceDroppedAndRemovedByTheManagersClose() throws Exception {
        Manager m = Manager.start();
        String name;
        Lock kept;
        try {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<String, Object> d = m.dict();
            name = storeALock(m, d);
            for (int i = 0; i < 100; i++) {
                Lock l = (Lock) d.get("lock");
                l.lock();
                l.unlock();
            }
            Children.awaitUntil("the handles read and dropped are released", () -> {
                System.gc();
                return lm.decodedCount() == 0;
            });
            kept = (Lock) d.get("lock");
            assertThat(kept.tryLock()).isTrue();
            kept.unlock();
            assertThat(lm.decodedCount()).isEqualTo(1);
        } finally {
            m.close();
        }
        assertThat(exists(name)).as("the stored lock's segment once the manager closed, this process running on").isFalse();
        assertThatThrownBy(kept::lock).isInstanceOf(IllegalStateException.class).hasMessageContaining(name);
    }

    /** A job as a program stores it: its id and the lock that guards its state. */
    record Guarded(String job, Lock lock) {
    }

    /**
     * A handle inside a stored record (a job and its lock) is held like one stored alone: reading the
     * record in a loop leaves nothing behind, and the manager's close removes the lock while this process
     * runs on (decision 173).
     */
    @Test
    void aLockInsideARecordReadFromADictIsReleasedOnceDroppedAndRemovedByTheManagersClose() throws Exception {
        readInALoopThenClose((d, lock) -> d.put("job", new Guarded("j1", lock)), d -> ((Guarded) d.get("job")).lock());
    }

    /**
     * A key is stored by value and held by nothing, so a record key naming a lock is refused, as a lock
     * key is, naming what it carries; the dict is unchanged.
     */
    @Test
    void aRecordKeyCarryingALockIsRefusedNamingIt() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<Object, Object> d = m.dict();
            d.put("set", new java.util.HashSet<>());
            @SuppressWarnings("unchecked")
            Set<Object> s = (Set<Object>) d.get("set");
            Lock lock = m.lock();
            d.put("kept", 1);
            // NOTE: the lock is named by its class, not its segment: the key is refused before the lock's
            // writeReplace, which would mark it sent (decision 249)
            String named = SharedLock.class.getName();
            assertThatThrownBy(() -> d.put(new Guarded("j1", lock), "state")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Guarded.class.getName()).hasMessageContaining(named);
            assertThatThrownBy(() -> d.putIfAbsent(new Guarded("j1", lock), "state")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(named);
            assertThatThrownBy(() -> s.add(new Guarded("j1", lock))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(named);
            assertThat(d).containsOnlyKeys("kept", "set");
            assertThat(s).isEmpty();
            assertThat(d.get(new Guarded("j1", lock))).as("a lookup by such a key").isNull();
        }
    }

    /** The same for a lock inside a value the codec writes by JDK serialization (an AtomicReference). */
    @Test
    void aLockInsideAJdkSerializedValueIsReleasedOnceDroppedAndRemovedByTheManagersClose() throws Exception {
        readInALoopThenClose((d, lock) -> d.put("ref", new java.util.concurrent.atomic.AtomicReference<>(lock)),
                d -> (Lock) ((java.util.concurrent.atomic.AtomicReference<?>) d.get("ref")).get());
    }

    /**
     * Stores a manager's lock with {@code store}, reads it back with {@code read} 100 times (each read
     * dropped), then once more, keeping that one past the manager's close.
     */
    private static void readInALoopThenClose(java.util.function.BiConsumer<ConcurrentMap<Object, Object>, Lock> store,
                                             java.util.function.Function<ConcurrentMap<Object, Object>, Lock> read) throws Exception {
        Manager m = Manager.start();
        String name;
        Lock kept;
        try {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<Object, Object> d = m.dict();
            Lock lock = m.lock();
            name = ((SharedLock) lock).name();
            store.accept(d, lock);
            for (int i = 0; i < 100; i++) {
                Lock l = read.apply(d);
                l.lock();
                l.unlock();
            }
            Children.awaitUntil("the handles read and dropped are released", () -> {
                System.gc();
                return lm.decodedCount() == 0;
            });
            kept = read.apply(d);
            assertThat(lm.decodedCount()).as("handles held for the value just read").isEqualTo(1);
            assertThat(kept.tryLock()).isTrue();
            kept.unlock();
        } finally {
            m.close();
        }
        assertThat(exists(name)).as("the stored lock's segment once the manager closed, this process running on").isFalse();
        assertThatThrownBy(kept::lock).isInstanceOf(IllegalStateException.class).hasMessageContaining(name);
    }

    /**
     * The manager holds what its containers store, as a CPython proxy stored in a managed dict keeps its
     * referent: the queue's creator may close it, and the item still attaches.
     */
    @Test
    void aQueueStoredInADictOutlivesItsCreatorsClose() throws Exception {
        String name;
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Object> d = m.dict();
            try (SharedQueue<String> q = SharedQueue.create(10)) {
                q.put("kept");
                d.put("q", q);
                name = q.name();
            }
            assertThat(exists(name)).as("the stored queue's segment after its creator closed it").isTrue();
            ChildProcess child = ChildProcess.start(() -> {
                @SuppressWarnings("unchecked")
                BlockingQueue<String> in = (BlockingQueue<String>) d.get("q");
                try {
                    if (!"kept".equals(in.poll(5, TimeUnit.SECONDS))) {
                        throw new AssertionError("the stored queue lost its item");
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
        }
        assertThat(exists(name)).as("the stored queue's segment after the manager closed").isFalse();
    }

    private static String storeALock(Manager m, ConcurrentMap<String, Object> d) {
        Lock l = m.lock();
        d.put("lock", l);
        return ((SharedLock) l).name();
    }

    /** The parent dropping its proxy takes nothing from a child that still uses the queue. */
    @Test
    void aQueueGivenToAChildStaysWhileTheChildUsesItAfterTheParentDroppedIt() throws Exception {
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            LocalManager lm = (LocalManager) m;
            ChildProcess child = childWithAQueue(m, stage);
            try {
                Children.awaitUntil("the child put its first item", () -> stage.get() == 1);
                Children.awaitUntil("the parent's handle of the queue is released", () -> {
                    System.gc();
                    return lm.madeCount() == 0;
                });
                stage.set(2);
                Children.joinOk(child);
                assertThat(stage.get()).as("the child used the queue after the parent let it go").isEqualTo(3);
            } finally {
                Children.reap(child);
            }
        }
    }

    /**
     * A queue sent in a pool task: the parent's handle goes with its last reference once the task is done,
     * the pool keeps the segment while it runs (decision 170), and it goes with the pool.
     */
    @Test
    void aQueueSentInAPoolTaskStaysWhileThePoolRunsAndGoesWithIt() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            Pool pool = Pool.create(1);
            try {
                String queue = putFromAPoolTask(m, pool);
                Children.awaitUntil("the parent's handle of the queue is released", () -> {
                    System.gc();
                    return lm.madeCount() == 0;
                });
                assertThat(pool.applyAsync(() -> {
                    try (SharedQueue<String> again = SharedQueue.attach(queue)) {
                        return again.poll(5, TimeUnit.SECONDS);
                    }
                }).get(Children.TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("the queue's item, read while the pool runs").isEqualTo("first");
                pool.close();
                awaitGone(List.of(queue), "the queue's segment once the pool closed, the manager still open");
            } finally {
                pool.terminate();
            }
        }
    }

    /** Sends a manager's queue in a task that puts an item; returns its name and keeps no reference to it. */
    private static String putFromAPoolTask(Manager m, Pool pool) throws Exception {
        BlockingQueue<String> q = m.queue();
        pool.applyAsync(() -> {
            q.put("first");
            return 1;
        }).get(Children.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        return ((SharedQueue<?>) q).name();
    }

    private static ChildProcess childWithAQueue(Manager m, SharedLong stage) {
        BlockingQueue<String> q = m.queue();
        return ChildProcess.start(() -> {
            try {
                q.put("first");
                stage.set(1);
                while (stage.get() != 2) {
                    Thread.sleep(5);
                }
                q.put("second");
                if (!"first".equals(q.poll(5, TimeUnit.SECONDS)) || !"second".equals(q.poll(5, TimeUnit.SECONDS))) {
                    throw new AssertionError("the queue lost items");
                }
                stage.set(3);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
