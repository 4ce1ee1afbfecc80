package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import static io.multiproc.manager.local.ManagerLifetimeTest.awaitInUse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Bulk reads of a dict (its views' iteration, getAll) read under one lock hold, and the nested containers
 * they meet live as if their proxies had been made under that lock, although the proxies are made only as
 * the iteration reaches them (decision 114).
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerBulkReadTest {

    @Test
    @SuppressWarnings("unchecked")
    void aNestedListAnIterationHasNotReachedYetSurvivesItsRemovalByAnotherProcess() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<Integer, List<Integer>> d = m.dict();
            long before = lm.heapBytesInUse();
            for (int k = 0; k < 50; k++) {
                d.put(k, List.of(k, k + 1, k + 2));
            }
            Iterator<List<Integer>> it = d.values().iterator();     // the snapshot: 50 lists, no proxy made yet
            Children.joinOk(ChildProcess.start(() -> d.clear()));   // every reference to them goes
            long sum = 0;
            int lists = 0;
            while (it.hasNext()) {
                List<Integer> l = it.next();
                l.add(1000);                                         // a live proxy, not a copy
                for (int v : l) {
                    sum += v;
                }
                lists++;
            }
            assertThat(lists).isEqualTo(50);
            assertThat(sum).isEqualTo(3L * (49 * 50 / 2) + 50 * 3 + 50 * 1000);
            assertThat(d).isEmpty();
            it = null;
            awaitInUse(lm, before, "the removed lists are freed once their proxies are unreachable");
        }
    }

    @Test
    void aListIterationThatFailsPartWayLeavesNoHoldOnTheNestedListsItAlreadyRead() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            List<Object> ls = m.list();
            long before = lm.heapBytesInUse();
            ls.add(new ArrayList<>(List.of(1, 2, 3)));
            try (Manager other = Manager.start()) {
                ls.add(other.list());                                // a proxy of another manager, stored by value
            }
            assertThatThrownBy(() -> ls.iterator()).hasMessageContaining("no manager named");
            ls.clear();
            awaitInUse(lm, before, "the nested list the failed snapshot read is freed once nothing refers to it");
        }
    }

    @Test
    void aDictIterationThatFailsPartWayLeavesNoHoldOnTheNestedListsItAlreadyRead() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<String, Object> d = m.dict();
            long before = lm.heapBytesInUse();
            for (int k = 0; k < 5; k++) {
                d.put("list" + k, new ArrayList<>(List.of(k)));
            }
            try (Manager other = Manager.start()) {
                d.put("other", other.list());
            }
            assertThatThrownBy(() -> d.values().iterator()).hasMessageContaining("no manager named");
            d.clear();
            awaitInUse(lm, before, "the nested lists the failed snapshot read are freed once nothing refers to them");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aListOfListsIteratesLiveNestedListsThatOutliveTheirRemoval() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            List<Object> ls = m.list();
            long before = lm.heapBytesInUse();
            for (int k = 0; k < 30; k++) {
                ls.add(List.of(k));
            }
            ls.add("plain");
            Iterator<Object> it = ls.iterator();
            Children.joinOk(ChildProcess.start(() -> ls.clear()));
            List<Object> seen = new ArrayList<>();
            while (it.hasNext()) {
                Object v = it.next();
                if (v instanceof List<?> l) {
                    ((List<Object>) l).add("x");                     // a live proxy of a list nothing refers to now
                    seen.add(List.copyOf(l));
                } else {
                    seen.add(v);
                }
            }
            assertThat(seen).hasSize(31).startsWith(List.of(0, "x"), List.of(1, "x")).endsWith("plain");
            it = null;
            awaitInUse(lm, before, "the removed lists are freed once their proxies are unreachable");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void readingManyNestedListsLeavesNoProxyPerListInTheCacheButEachIsLiveAndWritable() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<Integer, List<Integer>> d = m.dict();
            for (int k = 0; k < 2_000; k++) {
                d.put(k, List.of(k, 1, 2));
            }
            int cached = lm.cachedProxies();
            long sum = 0;
            List<Integer> kept = null;
            for (List<Integer> l : d.values()) {
                for (int v : l) {
                    sum += v;
                }
                kept = l;
                assertThat(lm.cachedProxies()).as("proxies cached while reading").isEqualTo(cached);
            }
            assertThat(sum).isEqualTo(1_999L * 2_000 / 2 + 2_000 * 3);
            kept.set(1, 100);                                        // a view writes through like any proxy
            int key = kept.get(0);
            assertThat(d.get(key)).containsExactly(key, 100, 2);
            assertThat(d.get(key).equals(kept)).isTrue();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aListKeptPastTheLoopOutlivesItsRemovalAndIsFreedWhenDropped() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<Integer, List<Integer>> d = m.dict();
            long before = lm.heapBytesInUse();
            for (int k = 0; k < 100; k++) {
                d.put(k, List.of(k));
            }
            List<Integer> kept = null;
            for (List<Integer> l : d.values()) {
                if (l.get(0) == 42) {
                    kept = l;
                }
            }
            Children.joinOk(ChildProcess.start(() -> d.clear()));   // no reference to any list is left
            for (int i = 0; i < 3; i++) {
                System.gc();                                         // the iterator is gone; the kept list is not
                Thread.sleep(20);
            }
            kept.add(43);
            assertThat(kept).containsExactly(42, 43);
            kept = null;
            awaitInUse(lm, before, "every list is freed once the kept one is unreachable");
        }
    }

    @Test
    void aFunctionUnderOneProxysLockUsingAViewOfTheSameListIsRefusedNotDeadlocked() {
        // preemptive: before the fix this waited for itself forever
        assertTimeoutPreemptively(Duration.ofSeconds(30), this::useAViewUnderTheSameListsLock);
    }

    private void useAViewUnderTheSameListsLock() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, List<Integer>> d = m.dict();
            d.put("a", List.of(1, 2));
            List<Integer> view = d.values().iterator().next();   // an uncached view (decision 132)
            List<Integer> cached = d.get("a");                    // a registered proxy of the same list
            assertThat(cached).isNotSameAs(view);
            assertThatThrownBy(() -> cached.replaceAll(x -> x + view.size())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("recursive update");
            assertThatThrownBy(() -> view.replaceAll(x -> x + cached.size())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("recursive update");
            assertThat(cached).containsExactly(1, 2);             // unchanged, and both locks were released
            view.add(3);
            assertThat(cached).containsExactly(1, 2, 3);
        }
    }

    @Test
    void anIterationAbandonedMidwayReleasesTheHoldsItDidNotReach() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<String, Object> d = m.dict();
            long before = lm.heapBytesInUse();
            for (int k = 0; k < 20; k++) {
                d.put("k" + k, new ArrayList<>(List.of(k)));
            }
            Iterator<Map.Entry<String, Object>> it = d.entrySet().iterator();
            assertThat(it.next().getValue()).isInstanceOf(List.class);
            it = null;                                               // 19 deferred holds left: the cleaner's
            d.clear();
            awaitInUse(lm, before, "every nested list is freed");
        }
    }

    @Test
    void keysValuesAndEntriesIterateOneSnapshotAndRemoveThroughTheIterator() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Integer> d = m.dict();
            for (int k = 0; k < 10; k++) {
                d.put("k" + k, k);
            }
            Iterator<Integer> values = d.values().iterator();
            d.put("later", 99);                                      // after the snapshot: not seen
            int seen = 0;
            while (values.hasNext()) {
                if (values.next() % 2 == 0) {
                    values.remove();                                 // removes that value's key
                }
                seen++;
            }
            assertThat(seen).isEqualTo(10);
            assertThat(d.keySet()).containsExactlyInAnyOrder("k1", "k3", "k5", "k7", "k9", "later");
            Iterator<String> keys = d.keySet().iterator();
            keys.next();
            keys.remove();
            assertThat(d).hasSize(5);
            for (Map.Entry<String, Integer> e : d.entrySet()) {
                e.setValue(e.getValue() + 1);
            }
            assertThat(d.values()).allMatch(v -> v % 2 == 0);
        }
    }

    @Test
    void getAllReadsEveryKeyUnderOneLockHold() throws Exception {
        try (Manager m = Manager.start(); SharedLong stop = SharedLong.create(0); SharedLong bad = SharedLong.create(0)) {
            ConcurrentMap<String, Integer> d = m.dict();
            d.put("a", 0);
            d.put("b", 0);
            ManagedMap<String, Integer> local = (ManagedMap<String, Integer>) d;
            // a writer moves both keys together (a and b always equal inside its compute of a)...
            ChildProcess writer = ChildProcess.start(() -> {
                for (int i = 1; stop.get() == 0; i++) {
                    int v = i;
                    d.putAll(Map.of("a", v, "b", v));                // one locked step
                }
            });
            try {
                for (int i = 0; i < 2_000; i++) {                    // ...so one lock hold always sees them equal
                    List<Integer> ab = local.getAll(Arrays.asList("a", "b", "absent"));
                    if (!ab.get(0).equals(ab.get(1)) || ab.get(2) != null) {
                        bad.set(ab.get(0) * 1_000_000L + ab.get(1));
                    }
                }
            } finally {
                stop.set(1);
                Children.joinOk(writer);
            }
            assertThat(bad.get()).as("a torn getAll (a * 1e6 + b)").isZero();
            assertThat(local.getAll(List.of("b", "a"))).containsExactly(d.get("b"), d.get("a"));
            assertThat(LocalManager.getAll(d, List.of("a", "zz"))).containsExactly(d.get("a"), null);
            assertThat(LocalManager.getAll(new java.util.HashMap<>(Map.of("a", 1)), List.of("a", "zz"))).containsExactly(1, null);
            assertThatThrownBy(() -> local.getAll(Arrays.asList("a", null))).isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("key=null");
        }
    }
}
