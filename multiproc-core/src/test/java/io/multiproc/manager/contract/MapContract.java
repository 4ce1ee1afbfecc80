package io.multiproc.manager.contract;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@link Map} contract as the managers' dicts keep it, including the atomic default methods: run
 * against {@link HashMap} and {@link java.util.concurrent.ConcurrentHashMap} (to check the suite) and
 * against every managed dict (subclass it from the test-jar). Views iterate a snapshot; their
 * iterators' remove and entries' setValue write through.
 */
public abstract class MapContract {
    /** A new empty map. */
    protected abstract Map<Object, Object> create();

    /** True for maps that store null keys and values (HashMap); the others throw NullPointerException. */
    protected abstract boolean allowsNulls();

    protected void dispose() {
    }

    @AfterEach
    final void tearDown() {
        dispose();
    }

    @Test
    public void putGetRemove() {
        Map<Object, Object> m = create();
        assertThat(m.isEmpty()).isTrue();
        assertThat(m.put("a", 1)).isNull();
        assertThat(m.put("a", 2)).isEqualTo(1);
        assertThat(m.put(7L, List.of("x"))).isNull();
        assertThat(m.get("a")).isEqualTo(2);
        assertThat(m.get(7L)).isEqualTo(List.of("x"));
        assertThat(m.get("missing")).isNull();
        assertThat(m.containsKey("a")).isTrue();
        assertThat(m.containsValue(2)).isTrue();
        assertThat(m.size()).isEqualTo(2);
        assertThat(m.remove("a")).isEqualTo(2);
        assertThat(m.remove("a")).isNull();
        assertThat(m.size()).isEqualTo(1);
    }

    @Test
    public void keepsManyEntries() {
        Map<Object, Object> m = create();
        for (int i = 0; i < 2000; i++) {
            m.put("k" + i, i);
        }
        for (int i = 0; i < 2000; i += 2) {
            m.remove("k" + i);
        }
        assertThat(m).hasSize(1000);
        for (int i = 0; i < 2000; i++) {
            assertThat(m.get("k" + i)).isEqualTo(i % 2 == 0 ? null : i);
        }
    }

    @Test
    public void keysOfDifferentTypesAreDifferent() {
        Map<Object, Object> m = create();
        m.put(1, "int");
        m.put(1L, "long");
        m.put("1", "string");
        assertThat(m).hasSize(3);
        assertThat(m.get(1)).isEqualTo("int");
        assertThat(m.get(1L)).isEqualTo("long");
    }

    @Test
    public void atomicDefaults() {
        Map<Object, Object> m = create();
        assertThat(m.putIfAbsent("a", 1)).isNull();
        assertThat(m.putIfAbsent("a", 2)).isEqualTo(1);
        assertThat(m.merge("a", 5, (x, y) -> (Integer) x + (Integer) y)).isEqualTo(6);
        assertThat(m.merge("b", 5, (x, y) -> (Integer) x + (Integer) y)).isEqualTo(5);
        assertThat(m.compute("a", (k, v) -> v == null ? 0 : (Integer) v * 2)).isEqualTo(12);
        assertThat(m.compute("a", (k, v) -> null)).isNull();
        assertThat(m.containsKey("a")).isFalse();
        assertThat(m.computeIfAbsent("c", k -> 3)).isEqualTo(3);
        assertThat(m.computeIfAbsent("c", k -> 4)).isEqualTo(3);
        assertThat(m.computeIfPresent("c", (k, v) -> (Integer) v + 1)).isEqualTo(4);
        assertThat(m.computeIfPresent("zz", (k, v) -> 1)).isNull();
        assertThat(m.replace("c", 40)).isEqualTo(4);
        assertThat(m.replace("zz", 1)).isNull();
        assertThat(m.replace("c", 41, 0)).isFalse();
        assertThat(m.replace("c", 40, 0)).isTrue();
        assertThat(m.remove("c", 1)).isFalse();
        assertThat(m.remove("c", 0)).isTrue();
        assertThat(m.merge("b", 1, (x, y) -> null)).isNull();
        assertThat(m).isEmpty();
        assertThat(m.getOrDefault("x", 9)).isEqualTo(9);
    }

    @Test
    public void replaceAllAndForEach() {
        Map<Object, Object> m = create();
        m.put("a", 1);
        m.put("b", 2);
        m.replaceAll((k, v) -> (Integer) v * 10);
        Map<Object, Object> seen = new HashMap<>();
        m.forEach(seen::put);
        assertThat(seen).isEqualTo(Map.of("a", 10, "b", 20));
    }

    @Test
    public void viewsIterateAndWriteThrough() {
        Map<Object, Object> m = create();
        m.put("a", 1);
        m.put("b", 2);
        m.put("c", 3);
        assertThat(m.keySet()).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(m.values()).containsExactlyInAnyOrder(1, 2, 3);
        for (Iterator<Map.Entry<Object, Object>> it = m.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Object, Object> e = it.next();
            if (e.getKey().equals("a")) {
                it.remove();
            } else if (e.getKey().equals("b")) {
                e.setValue(20);
            }
        }
        assertThat(m).isEqualTo(Map.of("b", 20, "c", 3));
        m.keySet().remove("c");
        assertThat(m).isEqualTo(Map.of("b", 20));
        assertThatThrownBy(() -> m.keySet().iterator().remove()).isInstanceOf(IllegalStateException.class);
    }

    /**
     * A List, Set or Map is equal to any other with the same contents, so the Map contract says a key
     * equal to a stored one finds it whatever class it is: here the proxies a managed dict returns for
     * its nested containers (a HashMap returns the plain collections themselves). Used as the key of a
     * store, a proxy stores what it holds then (decision 234).
     */
    @Test
    public void aContainerProxyAsKeyIsItsContents() {
        Map<Object, Object> m = create();
        m.put("list", List.of(1, 2));
        m.put("set", java.util.Set.of("a", "b", "c"));
        m.put("dict", Map.of("k", 1, "j", 2));
        Object list = m.get("list");
        Object set = m.get("set");
        Object dict = m.get("dict");
        m.put(List.of(1, 2), "by list");
        m.put(java.util.Set.of("c", "b", "a"), "by set");
        m.put(Map.of("j", 2, "k", 1), "by dict");
        assertThat(m.get(list)).isEqualTo("by list");
        assertThat(m.get(set)).isEqualTo("by set");
        assertThat(m.get(dict)).isEqualTo("by dict");
        assertThat(m.containsKey(list)).isTrue();
        assertThat(m.keySet().contains(set)).isTrue();
        assertThat(m.getOrDefault(dict, "none")).isEqualTo("by dict");
        assertThat(m.remove(list)).isEqualTo("by list");
        assertThat(m.containsKey(List.of(1, 2))).isFalse();
        assertThat(m.put(list, "stored by proxy")).isNull();
        assertThat(m.get(List.of(1, 2))).isEqualTo("stored by proxy");
        assertThat(m.putIfAbsent(list, "again")).isEqualTo("stored by proxy");
        assertThat(m.merge(list, "!", (a, b) -> (String) a + b)).isEqualTo("stored by proxy!");
        assertThat(m.compute(set, (k, v) -> v + "?")).isEqualTo("by set?");
        assertThat(m.remove(dict, "by dict")).isTrue();
        assertThat(m).hasSize(5).containsEntry(List.of(1, 2), "stored by proxy!").containsEntry(java.util.Set.of("a", "b", "c"), "by set?");
        assertThat(m.keySet()).filteredOn(k -> k instanceof List<?>).containsExactly(List.of(1, 2));
    }

    @Test
    public void equalsHashCodeToString() {
        Map<Object, Object> m = create();
        m.put("a", 1);
        Map<Object, Object> plain = new HashMap<>(Map.of("a", 1));
        assertThat(m).isEqualTo(plain);
        assertThat(plain).isEqualTo(m);
        assertThat(m.hashCode()).isEqualTo(plain.hashCode());
        assertThat(m.toString()).isEqualTo("{a=1}");
    }

    @Test
    public void clearEmptiesIt() {
        Map<Object, Object> m = create();
        for (int i = 0; i < 100; i++) {
            m.put(i, i);
        }
        m.clear();
        assertThat(m).isEmpty();
        m.put(1, 1);
        assertThat(m).hasSize(1);
    }

    @Test
    public void nullsAreStoredOrRefusedWithNullPointer() {
        Map<Object, Object> m = create();
        if (allowsNulls()) {
            m.put(null, null);
            assertThat(m.containsKey(null)).isTrue();
        } else {
            assertThatThrownBy(() -> m.put(null, 1)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> m.put("a", null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> m.get(null)).isInstanceOf(NullPointerException.class);
            assertThat(m).isEmpty();
        }
        assertThatThrownBy(() -> m.merge("a", 1, null)).isInstanceOf(NullPointerException.class);
    }
}
