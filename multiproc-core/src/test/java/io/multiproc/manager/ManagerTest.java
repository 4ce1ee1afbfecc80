package io.multiproc.manager;

import io.multiproc.process.ChildProcess;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One process: values, namespaces, sets, big values, the other shared objects, misuse. */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerTest {

    @Test
    void aValueIsReadUpdatedAndComparedAtomically() {
        try (Manager m = Manager.start()) {
            SharedValueProxy<Integer> v = m.value(1);
            assertThat(v.get()).isEqualTo(1);
            assertThat(v.updateAndGet(x -> x + 1)).isEqualTo(2);
            assertThat(v.getAndUpdate(x -> x * 10)).isEqualTo(2);
            assertThat(v.compareAndSet(5, 0)).isFalse();
            assertThat(v.compareAndSet(20, 0)).isTrue();
            assertThat(v.getAndSet(7)).isEqualTo(0);
            v.set(null);
            assertThat(v.get()).isNull();
        }
    }

    @Test
    void aNamespaceHasAttributesAndNamesAMissingOne() {
        try (Manager m = Manager.start()) {
            Namespace ns = m.namespace();
            ns.set("x", 1);
            ns.set("none", null);
            assertThat(ns.<Integer>get("x")).isEqualTo(1);
            assertThat(ns.has("none")).isTrue();
            assertThat((Object) ns.get("none")).isNull();
            assertThat(ns.getOrDefault("zz", 5)).isEqualTo(5);
            assertThatThrownBy(() -> ns.get("zz")).isInstanceOf(NoSuchElementException.class).hasMessageContaining("'zz'");
            assertThat(ns.names()).containsExactlyInAnyOrder("x", "none");
            assertThat(ns.remove("x")).isTrue();
            assertThat(ns.remove("x")).isFalse();
            assertThatThrownBy(() -> ns.getAs("none", String.class).length()).isInstanceOf(NullPointerException.class);
            ns.set("s", "text");
            assertThatThrownBy(() -> ns.getAs("s", Integer.class)).isInstanceOf(ClassCastException.class).hasMessageContaining("'s'");
        }
    }

    @Test
    void storedSetsAndMapsBecomeLiveManagedContainers() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Object> d = m.dict();
            d.put("tags", new HashSet<>(Set.of("a")));
            d.put("nested", Map.of("inner", new ArrayList<>(List.of(1))));
            @SuppressWarnings("unchecked")
            Set<String> tags = (Set<String>) d.get("tags");
            tags.add("b");
            assertThat(d.get("tags")).isEqualTo(Set.of("a", "b"));
            @SuppressWarnings("unchecked")
            List<Integer> inner = (List<Integer>) ((Map<String, Object>) d.get("nested")).get("inner");
            inner.add(2);
            assertThat(d.get("nested")).isEqualTo(Map.of("inner", List.of(1, 2)));
            List<Object> ls = m.list();
            ls.add(tags); // a proxy is stored as a reference, not copied
            tags.add("c");
            assertThat(ls.get(0)).isEqualTo(Set.of("a", "b", "c"));
        }
    }

    @Test
    void valuesUpToSixteenMegabytesWorkAndLargerOnesAreRefusedLeavingTheListIntact() {
        try (Manager m = Manager.start()) {
            List<Object> ls = m.list();
            byte[] big = new byte[16 * 1024 * 1024 - 64];
            big[big.length - 1] = 7;
            ls.add(big);
            assertThat(((byte[]) ls.get(0))[big.length - 1]).isEqualTo((byte) 7);
            assertThatThrownBy(() -> ls.add(new byte[17 * 1024 * 1024])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("size=");
            assertThat(ls).hasSize(1);
            ls.set(0, "small");
            assertThat(ls).containsExactly("small");
        }
    }

    @Test
    void aFunctionUsingItsOwnMapUnderComputeIsRefused() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Integer> d = m.dict();
            d.put("a", 1);
            assertThatThrownBy(() -> d.compute("a", (k, v) -> d.get("b"))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("recursive update");
            assertThat(d).isEqualTo(Map.of("a", 1));
            d.put("b", 2); // the lock was released
        }
    }

    @Test
    void theOtherSharedObjectsComeFromTheManager() throws Exception {
        try (Manager m = Manager.start()) {
            BlockingQueue<String> q = m.queue(4);
            q.put("x");
            assertThat(q.take()).isEqualTo("x");
            Lock lock = m.rlock();
            Condition c = m.condition(lock);
            lock.lock();
            try {
                assertThat(c.await(1, java.util.concurrent.TimeUnit.MILLISECONDS)).isFalse();
            } finally {
                lock.unlock();
            }
            SemaphoreProxy s = m.semaphore(1);
            assertThat(s.tryAcquire()).isTrue();
            assertThat(s.tryAcquire()).isFalse();
            s.release();
            EventProxy e = m.event();
            e.set();
            assertThat(e.await(Duration.ofMillis(1))).isTrue();
            BarrierProxy b = m.barrier(1);
            assertThat(b.await(Duration.ofSeconds(1))).isEqualTo(0);
            assertThatThrownBy(() -> m.condition(new java.util.concurrent.locks.ReentrantLock()))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /**
     * The class Javadoc of EventProxy shows it: a manager's semaphore, event and barrier, captured by a
     * child's task or sent through a queue, are the same objects in the child (they failed to encode).
     */
    @Test
    void theManagersSemaphoreEventAndBarrierTravelToAChild() throws Exception {
        try (Manager m = Manager.start(); io.multiproc.queue.SharedQueue<Object> q = io.multiproc.queue.SharedQueue.create(4)) {
            SemaphoreProxy s = m.semaphore(0);
            EventProxy ready = m.event();
            BarrierProxy b = m.barrier(2);
            q.put(ready);
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    s.release();
                    if (b.await(Duration.ofSeconds(60)) < 0) {
                        throw new IllegalStateException("no index");
                    }
                    ((EventProxy) q.take()).set();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(s.tryAcquire(Duration.ofSeconds(60))).as("the child's release").isTrue();
                b.await(Duration.ofSeconds(60));
                assertThat(ready.await(Duration.ofSeconds(60))).as("set by the child through the queue").isTrue();
                assertThat(c.join(Duration.ofSeconds(60))).isTrue();
                assertThat(c.failure()).isEmpty();
                assertThat(c.exitCode()).hasValue(0);
            } finally {
                c.kill();
            }
        }
    }

    /**
     * The manager's barrier across processes with untimed awaits: a party whose process is killed while it
     * waits breaks the pass for the party still waiting, which would otherwise wait for ever.
     */
    @Test
    void anUntimedAwaitOnTheManagersBarrierEndsWhenAWaitingPartyIsKilled() throws Exception {
        try (Manager m = Manager.start()) {
            BarrierProxy b = m.barrier(3);
            ChildProcess doomed = ChildProcess.start(() -> {
                try {
                    b.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            java.util.concurrent.ExecutorService here = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                io.multiproc.testing.Children.awaitUntil("the child waits", () -> b.getNumberWaiting() == 1);
                java.util.concurrent.Future<Integer> mine = here.submit(() -> b.await());
                io.multiproc.testing.Children.awaitUntil("this process waits too", () -> b.getNumberWaiting() == 2);
                doomed.kill();
                assertThatThrownBy(() -> mine.get(10, java.util.concurrent.TimeUnit.SECONDS))
                        .isInstanceOf(java.util.concurrent.ExecutionException.class)
                        .hasCauseInstanceOf(java.util.concurrent.BrokenBarrierException.class);
            } finally {
                b.abort();
                here.shutdownNow();
                doomed.kill();
            }
        }
    }

    /** Decision 234 across processes: a child's put with a list proxy as key stores its contents then, which the parent finds. */
    @Test
    void aListProxyKeyPutInAChildIsFoundByTheEqualPlainKeyInTheParent() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<Object, String> d = m.dict();
            List<Integer> l = m.list();
            l.addAll(List.of(1, 2));
            ChildProcess c = ChildProcess.start(() -> {
                if (d.put(l, "from the child") != null || !"from the child".equals(d.get(List.of(1, 2)))) {
                    throw new IllegalStateException("the child did not find its own key: " + d);
                }
                l.add(3);
            });
            try {
                assertThat(c.join(Duration.ofSeconds(60))).isTrue();
                assertThat(c.failure()).isEmpty();
                assertThat(c.exitCode()).hasValue(0);
            } finally {
                c.kill();
            }
            assertThat(d).containsExactly(Map.entry(List.of(1, 2), "from the child"));
            assertThat(l).containsExactly(1, 2, 3);
            assertThat(d.get(l)).as("the key is the snapshot, not the list").isNull();
            l.remove(Integer.valueOf(3));
            assertThat(d.get(l)).isEqualTo("from the child");
        }
    }

    /** A null name read as {@code name='null'}, which looks like a list called "null" that was refused. */
    @Test
    void aNullContainerNameIsReportedAsNullNotAsTheString() {
        try (Manager m = Manager.start()) {
            assertThatThrownBy(() -> m.list(null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("name=null must be a non-empty string");
            assertThatThrownBy(() -> m.dict("")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("name='' must be a non-empty string");
        }
    }

    /** It threw the JDK default's bare "remove", leaving the user to guess that the list cannot do it. */
    @Test
    void aListIteratorsRemoveSaysItIsASnapshotAndWhatToUseInstead() {
        try (Manager m = Manager.start()) {
            List<Integer> l = m.list();
            l.addAll(List.of(1, 2));
            java.util.Iterator<Integer> it = l.iterator();
            it.next();
            assertThatThrownBy(it::remove).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("snapshot").hasMessageContaining("removeIf");
            assertThat(l).containsExactly(1, 2);
        }
    }

    @Test
    void badNamesAndClosedManagersFailClearly() {
        Manager m = Manager.start();
        assertThatThrownBy(() -> Manager.start("bad/name")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("name='bad/name'");
        assertThatThrownBy(() -> Manager.start(m.name())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already exists");
        assertThatThrownBy(() -> Manager.attach("no-such-manager-" + ProcessHandle.current().pid()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no manager named");
        ConcurrentMap<String, Integer> d = m.dict("d");
        m.close();
        m.close(); // idempotent
        assertThatThrownBy(() -> d.put("a", 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("manager '" + m.name() + "' is closed");
        assertThatThrownBy(m::list).isInstanceOf(IllegalStateException.class);
    }

    /** a.removeAll(b) beside b.retainAll(a) took each list's lock inside the other's: both hung, in every process. */
    @Test
    void removeAllAndRetainAllBetweenTwoManagedListsNeverDeadlock() throws Exception {
        try (Manager m = Manager.start()) {
            List<Integer> a = m.list();
            List<Integer> b = m.list();
            for (int i = 0; i < 500; i++) {
                a.add(i);
                b.add(i + 250);
            }
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            Thread t1 = Thread.ofPlatform().start(() -> {
                try {
                    for (int r = 0; r < 200; r++) {
                        a.removeAll(b);
                        a.add(r);
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            });
            Thread t2 = Thread.ofPlatform().start(() -> {
                try {
                    for (int r = 0; r < 200; r++) {
                        b.retainAll(a);
                        b.add(r);
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            });
            t1.join(60_000);
            t2.join(60_000);
            assertThat(t1.isAlive() || t2.isAlive()).as("deadlocked").isFalse();
            assertThat(failed.get()).isNull();
            List<Integer> self = m.list();
            self.addAll(List.of(1, 2, 3));
            assertThat(self.retainAll(self)).isFalse();
            assertThat(self).containsExactly(1, 2, 3);
            assertThat(self.removeAll(self)).isTrue();   // as an ArrayList: empties itself
            assertThat(self).isEmpty();
        }
    }

    /**
     * A key is stored by value and counted nowhere: a shared object as a key would outlive what it names. A
     * managed list, set or dict as the key is its contents then (decision 234); a shared object, or a
     * container proxy inside another key, is refused naming its type.
     */
    @Test
    void aSharedObjectAsADictKeyOrSetElementIsRefusedNamingItsType() {
        try (Manager m = Manager.start(); io.multiproc.shared.SharedLong shared = io.multiproc.shared.SharedLong.create(1)) {
            java.util.concurrent.ConcurrentMap<Object, String> d = m.dict();
            List<Integer> nested = m.list();
            assertThatThrownBy(() -> d.put(List.of(nested), "v")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("List");
            assertThatThrownBy(() -> d.merge(shared, "v", String::concat)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(io.multiproc.shared.SharedLong.class.getName());
            java.util.Map<String, java.util.Set<Object>> holder = m.dict();
            holder.put("s", new java.util.HashSet<>());
            java.util.Set<Object> set = holder.get("s");   // a managed set
            assertThatThrownBy(() -> set.add(shared)).isInstanceOf(IllegalArgumentException.class);
            assertThat(d).isEmpty();
            assertThat(set).isEmpty();
            d.put("k", "v");
            assertThat(d.get(nested)).isNull();   // looking up is fine, as in a HashMap
            // so are the steps that store nothing: Map's contract has no IllegalArgumentException for them
            assertThat(d.remove(nested)).isNull();
            assertThat(d.remove(shared, "v")).isFalse();
            assertThat(d.replace(nested, "w")).isNull();
            assertThat(d.computeIfPresent(shared, (k, v) -> v + "!")).isNull();
            assertThat(d.keySet().remove(nested)).isFalse();
            assertThat(set.remove(shared)).isFalse();
            assertThat(d.remove(List.of(shared))).as("a key carrying a shared object").isNull();
            assertThat(d.computeIfPresent(List.of(shared), (k, v) -> v + "!")).isNull();
            int[] calls = {0};
            assertThatThrownBy(() -> d.compute(shared, (k, v) -> "stored" + calls[0]++)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("shared object");
            assertThatThrownBy(() -> d.computeIfAbsent(List.of(shared), k -> "stored" + calls[0]++))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("List12").hasMessageContaining("SharedLong is a shared object");
            assertThat(calls[0]).as("refused before the function ran").isZero();
            assertThat(d).containsExactly(java.util.Map.entry("k", "v"));
            assertThatThrownBy(() -> set.add(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("managed set");
        }
    }

    @Test
    void aContainerThatHoldsItselfPrintsAsTheJdkCollectionsDo() {
        try (Manager m = Manager.start()) {
            List<Object> l = m.list();
            l.add(1);
            l.add(l);
            assertThat(l.toString()).isEqualTo("[1, (this Collection)]");
            java.util.Map<String, Object> d = m.dict();
            d.put("me", d);
            assertThat(d.toString()).isEqualTo("{me=(this Map)}");
            l.clear();   // drop the self-references before close
            d.clear();
        }
    }

    /** What a modifiable List's sublist does (Collections.sort(l.subList(..)) included), checked against an ArrayList. */
    @Test
    void aSubListSortsReplacesRemovesAndClearsItsRangeAsAnArrayListsDoes() {
        try (Manager m = Manager.start()) {
            List<Integer> managed = m.list();
            List<Integer> plain = new java.util.ArrayList<>();
            for (List<Integer> l : List.of(managed, plain)) {
                l.addAll(List.of(9, 4, 7, 1, 8, 2, 6, 3, 5, 0));
                java.util.Collections.sort(l.subList(2, 7));
                l.subList(0, 5).replaceAll(x -> x * 10);
                assertThat(l.subList(5, 10).removeIf(x -> x % 2 == 0)).isTrue();
                List<Integer> tail = l.subList(3, l.size());
                tail.add(0, 100);
                tail.remove(Integer.valueOf(5));
                tail.subList(1, 2).clear();
                assertThat(tail.size()).isEqualTo(l.size() - 3);
                l.subList(0, 2).sort(java.util.Comparator.reverseOrder());
            }
            assertThat(managed).containsExactlyElementsOf(plain);
            assertThat(managed.subList(1, 4)).isEqualTo(plain.subList(1, 4));
            assertThatThrownBy(() -> managed.subList(2, 99)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }
}
