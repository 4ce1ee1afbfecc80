package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.manager.SharedValueProxy;
import io.multiproc.manager.contract.ManagerContainersContract;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

import static io.multiproc.manager.remote.RemoteManagerTest.KEY;
import static io.multiproc.manager.remote.RemoteManagerTest.LOOPBACK_ANY_PORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A remote client's read-modify-write calls (merge, compute, updateAndGet, a list's replaceAll) and the
 * List/Map contract where a client's copy differs from the server's: arrays, values changed in place,
 * containers returned by compute, popping from two clients. Over real loopback sockets.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteCompareAndSetTest {
    private static final Duration NO_ENDLESS_RETRY = Duration.ofSeconds(20);

    private Manager local;
    private ManagerServer server;

    @BeforeEach
    void serve() {
        local = Manager.start();
        server = ManagerServer.start(local, LOOPBACK_ANY_PORT, KEY);
    }

    @AfterEach
    void stop() {
        server.close();
        local.close();
    }

    private Manager connect() {
        return Manager.connect(server.address(), KEY);
    }

    @Test
    void mergeComputeAndReplaceAllOverArrayValuesEnd() {
        try (Manager m = connect()) {
            ConcurrentMap<String, byte[]> d = m.dict();
            d.put("k", new byte[] {1});
            assertTimeoutPreemptively(NO_ENDLESS_RETRY, () -> {
                d.merge("k", new byte[] {2}, (a, b) -> new byte[] {(byte) (a[0] + b[0])});
                d.compute("k", (k, v) -> new byte[] {(byte) (v[0] * 10)});
                d.computeIfPresent("k", (k, v) -> {
                    v[0]++; // in place
                    return v;
                });
                d.replaceAll((k, v) -> new byte[] {(byte) (v[0] + 1)});
            });
            assertThat(d.get("k")).containsExactly(32);
            assertThat(d.replace("k", new byte[] {32}, new byte[] {0})).as("arrays compare by contents in a swap").isTrue();
            assertThat(d.remove("k", new byte[] {0})).isTrue();
            assertThat(d).isEmpty();
        }
    }

    @Test
    void updateAndGetOverAnArrayChangedInPlaceEnds() {
        try (Manager m = connect()) {
            SharedValueProxy<int[]> v = m.value(new int[] {0});
            assertTimeoutPreemptively(NO_ENDLESS_RETRY, () -> {
                assertThat(v.updateAndGet(a -> {
                    a[0]++;
                    return a;
                })).containsExactly(1);
                assertThat(v.getAndUpdate(a -> {
                    a[0] += 10;
                    return a;
                })).as("the value before").containsExactly(1);
            });
            assertThat(v.get()).containsExactly(11);
        }
    }

    @Test
    void aListsReplaceAllAndSortOverArraysChangedInPlaceEnd() {
        try (Manager m = connect()) {
            List<int[]> l = m.list();
            l.add(new int[] {3, 1, 2});
            assertTimeoutPreemptively(NO_ENDLESS_RETRY, () -> l.replaceAll(a -> {
                Arrays.sort(a);
                return a;
            }));
            assertThat(l.get(0)).containsExactly(1, 2, 3);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void whatComputeAndMergeReturnIsTheStoredContainer() {
        try (Manager m = connect()) {
            ConcurrentMap<String, Object> d = m.dict();
            ((List<Integer>) d.computeIfAbsent("a", k -> new ArrayList<>())).add(1);
            ((List<Integer>) d.computeIfAbsent("a", k -> new ArrayList<>())).add(2);
            ((Set<String>) d.compute("b", (k, v) -> new HashSet<>())).add("x");
            ((Map<String, Integer>) d.merge("c", new HashMap<>(), (x, y) -> y)).put("k", 3);
            assertThat(d.get("a")).isEqualTo(List.of(1, 2));
            assertThat(d.get("b")).isEqualTo(Set.of("x"));
            assertThat(d.get("c")).isEqualTo(Map.of("k", 3));
        }
    }

    @Test
    void anEntrySetIsAViewWhoseRemoveNeedsTheValue() {
        try (Manager m = connect()) {
            ConcurrentMap<String, Integer> d = m.dict();
            d.put("a", 1);
            var entries = d.entrySet();
            d.put("a", 2);
            d.put("b", 3);
            assertThat(entries).hasSize(2);
            assertThat(entries.remove(Map.entry("a", 1))).as("a stale entry").isFalse();
            assertThat(d).containsEntry("a", 2);
            assertThat(entries.remove(Map.entry("a", 2))).isTrue();
            assertThat(d).containsOnlyKeys("b");
        }
    }

    @Test
    void twoClientsPoppingTakeEachElementOnceAndAnEmptyListSaysNoSuchElement() throws Exception {
        try (Manager one = connect(); Manager two = connect()) {
            List<Integer> a = one.list("popped");
            List<Integer> b = two.list("popped");
            assertThatThrownBy(a::removeLast).isInstanceOf(NoSuchElementException.class);
            assertThatThrownBy(a::getFirst).isInstanceOf(NoSuchElementException.class);
            int n = 600;
            List<Integer> items = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                items.add(i);
            }
            a.addAll(items);
            assertThat(a).hasSize(n); // the addAll is pipelined: this waits for it before the other client reads
            assertThat(b.getFirst()).isZero();
            assertThat(b.getLast()).isEqualTo(n - 1);
            ManagerContainersContract.assertPoppedOnceEach(List.of(a, b), n);
        }
    }

    @Test
    void aKeyThatCannotTravelIsAbsent() {
        try (Manager m = connect()) {
            ConcurrentMap<Object, Integer> d = m.dict();
            d.put("a", 1);
            Object foreign = new Object();
            assertThat(d.get(foreign)).isNull();
            assertThat(d.containsKey(foreign)).isFalse();
            assertThat(d.remove(foreign)).isNull();
            assertThat(d.remove(foreign, 1)).isFalse();
            Map<Object, Integer> other = new HashMap<>();
            other.put(foreign, 1);
            assertThat(other.equals(d)).isFalse();
            assertThat(d).containsExactly(Map.entry("a", 1));
        }
    }
}
