package io.multiproc.manager;

import io.multiproc.codec.CodecException;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Batch writes (CPython's {@code d.update(m)}, {@code ls.extend(xs)}): one locked step each, so a batch
 * that cannot be encoded changes nothing, and another process never sees half of a batch.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class ManagerBatchTest {

    @Test
    void putAllAddsNewKeysAndReplacesExistingOnes() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<Integer, String> d = m.dict();
            d.put(1, "old");
            d.put(-5, "kept");
            Map<Integer, String> batch = new HashMap<>();
            for (int i = 0; i < 10_000; i++) {
                batch.put(i, "v" + i);
            }
            d.putAll(batch);
            assertThat(d).hasSize(10_001);
            assertThat(d.get(1)).isEqualTo("v1");
            assertThat(d.get(9_999)).isEqualTo("v9999");
            assertThat(d.get(-5)).isEqualTo("kept");
            d.putAll(Map.of());
            assertThat(d).hasSize(10_001);
        }
    }

    @Test
    void putAllWithAValueTheCodecRefusesChangesNothing() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Object> d = m.dict();
            d.put("a", 1);
            Map<String, Object> batch = new LinkedHashMap<>();
            batch.put("a", 2);
            batch.put("b", 3);
            batch.put("bad", new Object());
            assertThatThrownBy(() -> d.putAll(batch)).isInstanceOf(CodecException.class);
            assertThat(d).containsExactly(Map.entry("a", 1));
            Map<String, Object> withNull = new HashMap<>();
            withNull.put("c", null);
            assertThatThrownBy(() -> d.putAll(withNull)).isInstanceOf(NullPointerException.class).hasMessageContaining("value=null");
            assertThat(d).containsExactly(Map.entry("a", 1));
        }
    }

    @Test
    void putAllOfNestedListsStoresLiveContainers() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, List<Integer>> d = m.dict();
            d.putAll(Map.of("x", List.of(1), "y", List.of(2)));
            d.get("x").add(10);
            assertThat(d.get("x")).containsExactly(1, 10);
            assertThat(d.get("y")).containsExactly(2);
        }
    }

    @Test
    void addAllAtAnIndexInsertsInOrderOrChangesNothing() {
        try (Manager m = Manager.start()) {
            List<Object> ls = m.list();
            ls.addAll(List.of(1, 2, 3));
            assertThat(ls.addAll(1, List.of("a", "b"))).isTrue();
            assertThat(ls).containsExactly(1, "a", "b", 2, 3);
            assertThat(ls.addAll(5, List.of(9))).isTrue();
            assertThat(ls).containsExactly(1, "a", "b", 2, 3, 9);
            assertThat(ls.addAll(0, List.of())).isFalse();
            List<Object> bad = new ArrayList<>(List.of(7, 8));
            bad.add(new Object());
            assertThatThrownBy(() -> ls.addAll(2, bad)).isInstanceOf(CodecException.class);
            assertThatThrownBy(() -> ls.addAll(7, List.of(1))).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> ls.addAll(-1, List.of())).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(ls).containsExactly(1, "a", "b", 2, 3, 9);
        }
    }

    @Test
    void anotherProcessSeesAllOfAPutAllOrNoneOfIt() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<Integer, Integer> d = m.dict();
            List<Integer> seen = m.list();
            ChildProcess reader = ChildProcess.start(() -> {
                // sizes the reader observes while the parent puts batches of 1,000
                for (int i = 0; i < 2_000 && d.size() < 5_000; i++) {
                    seen.add(d.size());
                }
            });
            for (int b = 0; b < 5; b++) {
                Map<Integer, Integer> batch = new HashMap<>();
                for (int i = 0; i < 1_000; i++) {
                    batch.put(b * 1_000 + i, i);
                }
                d.putAll(batch);
            }
            reader.join();
            assertThat(reader.exitCode()).hasValue(0);
            assertThat(d).hasSize(5_000);
            assertThat(new ArrayList<>(seen)).allMatch(n -> n % 1_000 == 0, "a multiple of the batch size");
        }
    }
}
