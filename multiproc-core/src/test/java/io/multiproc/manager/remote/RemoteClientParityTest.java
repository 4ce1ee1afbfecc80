package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A remote client's containers behave as the local manager's: views, iterators, equality, Map's default
 * methods, nested containers seen by a second client. A real server on loopback over a local manager.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteClientParityTest {
    private final Manager local = Manager.start();
    private final ManagerServer server = ManagerServer.start(local, RemoteManagerTest.LOOPBACK_ANY_PORT, RemoteManagerTest.KEY);
    private final Manager a = Manager.connect(server.address(), RemoteManagerTest.KEY);
    private final Manager b = Manager.connect(server.address(), RemoteManagerTest.KEY);

    @AfterEach
    void close() {
        try {
            a.close();
            b.close();
        } finally {
            server.close();
            local.close();
        }
    }

    /** Local proxies of one namespace are equal (ManagedNamespace.equals): so are a remote client's. */
    @Test
    void twoProxiesOfOneNamespaceAreEqualAsTheLocalManagersAre() {
        assertThat(local.namespace("cfg")).isEqualTo(local.namespace("cfg"));
        Namespace one = a.namespace("cfg");
        Namespace two = a.namespace("cfg");
        assertThat(one).isEqualTo(two);
        assertThat(one.hashCode()).isEqualTo(two.hashCode());
        assertThat(one).isNotEqualTo(a.namespace("other"));
        ConcurrentMap<String, Object> d = a.dict();
        d.put("ns", one);
        assertThat(d.get("ns")).isEqualTo(d.get("ns")).isEqualTo(one);
    }

    @Test
    void aListIteratorsSetAddAndRemoveWriteThroughAsAnArrayLists() {
        List<String> remote = a.list();
        remote.addAll(List.of("a", "b", "c"));
        List<String> plain = new ArrayList<>(List.of("a", "b", "c"));
        for (List<String> l : List.of(remote, plain)) {
            ListIterator<String> it = l.listIterator();
            it.next();
            it.set("A");
            it.add("ab");
            assertThatThrownBy(() -> it.set("x")).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(it::remove).isInstanceOf(IllegalStateException.class);
            it.next();
            it.remove();
            assertThat(it.previous()).isEqualTo("ab");
            it.remove();
            it.next();
            assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
        }
        assertThat(remote).isEqualTo(plain).containsExactly("A", "c");
        assertThat(b.list().equals(remote)).isFalse();
    }

    @Test
    void subListViewsReadAndWriteThroughAndCheckTheirRangeAsAnArrayLists() {
        List<Integer> remote = a.list();
        remote.addAll(List.of(0, 1, 2, 3, 4));
        List<Integer> plain = new ArrayList<>(List.of(0, 1, 2, 3, 4));
        for (List<Integer> l : List.of(remote, plain)) {
            List<Integer> sub = l.subList(1, 4);
            assertThat(sub).containsExactly(1, 2, 3);
            sub.set(0, 10);
            sub.add(1, 11);
            assertThat(sub.remove(Integer.valueOf(2))).isTrue();
            sub.remove(0);
            assertThat(sub).containsExactly(11, 3);
            assertThatThrownBy(() -> sub.get(2)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> l.subList(0, 9)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> l.subList(3, 2)).isInstanceOf(IllegalArgumentException.class);
            sub.clear();
        }
        assertThat(remote).isEqualTo(plain).containsExactly(0, 4);
    }

    @Test
    void dictViewsRemoveThroughToTheDict() {
        ConcurrentMap<String, Integer> d = a.dict();
        d.putAll(Map.of("a", 1, "b", 2, "c", 3, "d", 4));
        assertThat(d.keySet().remove("a")).isTrue();
        assertThat(d.keySet().remove("zz")).isFalse();
        assertThat(d.values().remove(2)).isTrue();
        assertThat(d.entrySet().removeIf(e -> e.getValue() == 3)).isTrue();
        assertThat(d).isEqualTo(Map.of("d", 4));
        assertThatThrownBy(() -> d.keySet().add("x")).isInstanceOf(UnsupportedOperationException.class);
        Iterator<String> it = d.keySet().iterator();
        it.next();
        it.remove();
        assertThat(d).isEmpty();
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    }

    /**
     * A key set's removals remove the key, whatever it maps to by then, as the local manager's key set
     * (ManagedMap.keySet) and ConcurrentHashMap's do: another client changed the value after the iterator
     * read it.
     */
    @Test
    void aKeySetIteratorsRemoveRemovesTheKeyAnotherClientChangedMeanwhile() {
        ConcurrentMap<String, Integer> da = a.dict("d");
        ConcurrentMap<String, Integer> db = b.dict("d");
        da.put("k", 1);
        da.put("j", 1);
        Iterator<String> it = da.keySet().iterator();
        String first = it.next();
        db.put(first, 2);
        it.remove();
        assertThat(db).doesNotContainKey(first);
        String other = first.equals("k") ? "j" : "k";
        db.put(other, 3);
        assertThat(da.keySet().remove(other)).isTrue();
        assertThat(da).isEmpty();
    }

    @Test
    void mapDefaultMethodsAsAHashMaps() {
        ConcurrentMap<String, Integer> d = a.dict();
        Map<String, Integer> plain = new HashMap<>();
        for (Map<String, Integer> m : List.of(d, plain)) {
            assertThat(m.getOrDefault("a", 7)).isEqualTo(7);
            assertThat(m.putIfAbsent("a", 1)).isNull();
            assertThat(m.putIfAbsent("a", 2)).isEqualTo(1);
            assertThat(m.merge("a", 5, Integer::sum)).isEqualTo(6);
            assertThat(m.merge("a", 5, (x, y) -> null)).isNull();
            assertThat(m.containsKey("a")).isFalse();
            assertThat(m.compute("b", (k, v) -> v == null ? 1 : v + 1)).isEqualTo(1);
            assertThat(m.computeIfPresent("b", (k, v) -> v + 1)).isEqualTo(2);
            assertThat(m.computeIfPresent("b", (k, v) -> null)).isNull();
            assertThat(m.computeIfAbsent("c", k -> 3)).isEqualTo(3);
            assertThat(m.computeIfAbsent("c", k -> 4)).isEqualTo(3);
            assertThat(m.compute("c", (k, v) -> null)).isNull();
            m.put("e", 5);
            assertThat(m.replace("e", 6)).isEqualTo(5);
            assertThat(m.replace("e", 5, 7)).isFalse();
            assertThat(m.remove("e", 6)).isTrue();
            m.put("f", 1);
        }
        assertThat(d).isEqualTo(plain);
        assertThat(plain).isEqualTo(d);
        assertThat(d.hashCode()).isEqualTo(plain.hashCode());
        assertThat(d.toString()).isEqualTo(plain.toString());
    }

    @Test
    @SuppressWarnings("unchecked")
    void aListNestedInADictChangedThroughOneClientIsSeenByTheOtherAndTheLocalManager() {
        ConcurrentMap<String, Object> da = a.dict("shared");
        da.put("inner", new ArrayList<>(List.of(1)));
        ((List<Integer>) da.get("inner")).add(2);
        assertThat(da).hasSize(1); // a waiting call of a: its pipelined add was applied
        ConcurrentMap<String, Object> db = b.dict("shared");
        List<Integer> seenByB = (List<Integer>) db.get("inner");
        assertThat(seenByB).containsExactly(1, 2);
        seenByB.add(3);
        assertThat(seenByB).containsExactly(1, 2, 3); // a waiting call of b: its pipelined add was applied
        assertThat((List<Integer>) da.get("inner")).containsExactly(1, 2, 3);
        assertThat((List<Integer>) local.<String, Object>dict("shared").get("inner")).containsExactly(1, 2, 3);
        assertThat(da.get("inner")).isEqualTo(List.of(1, 2, 3)).hasSameHashCodeAs(List.of(1, 2, 3));
        assertThat(da).isEqualTo(db);
    }

    /**
     * Set elements are values: iterating a local set gives a plain List element. A remote set's iteration gave
     * a live-looking RemoteList proxy of a copy the server decoded and kept exported for it, whose writes
     * went nowhere.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aListElementReadFromANestedSetIsAPlainValueAsFromALocalSet() {
        List<Object> localHolder = local.list();
        localHolder.add(new java.util.HashSet<>(java.util.Set.of(List.of(0, "n1"))));
        List<Object> holder = a.list();
        holder.add(new java.util.HashSet<>(java.util.Set.of(List.of(0, "n1"))));
        for (java.util.Set<Object> s : List.of((java.util.Set<Object>) localHolder.get(0), (java.util.Set<Object>) holder.get(0))) {
            Object e = s.iterator().next();
            assertThat(e).isEqualTo(List.of(0, "n1")).isExactlyInstanceOf(ArrayList.class);
            assertThat(s.contains(e)).isTrue();
            assertThat(s.retainAll(List.of("other"))).isTrue();
            assertThat(s).isEmpty();
        }
    }

    @Test
    void listErrorsAreTheJavaUtilOnes() {
        List<Object> l = a.list();
        l.add(1);
        assertThatThrownBy(() -> l.add(5, 2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.addAll(5, List.of(2))).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.listIterator(3)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.get(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.toArray((Object[]) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> l.addAll(null)).isInstanceOf(NullPointerException.class);
        ConcurrentMap<String, Object> d = a.dict();
        assertThatThrownBy(() -> d.put("k", null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> d.get(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> d.putIfAbsent("k", null)).isInstanceOf(NullPointerException.class);
        Namespace ns = a.namespace();
        assertThatThrownBy(() -> ns.get(null)).isInstanceOf(NullPointerException.class);
        assertThat(l).containsExactly(1);
        assertThat(d).isEmpty();
    }

    /** Namespace.get, has and the local namespace's getOrDefault refuse a null name; so does a remote getOrDefault. */
    @Test
    void aNamespacesGetOrDefaultRefusesANullNameAsTheLocalOne() {
        assertThatThrownBy(() -> local.namespace().getOrDefault(null, 1)).isInstanceOf(NullPointerException.class);
        Namespace ns = a.namespace();
        ns.set("x", 1);
        assertThatThrownBy(() -> ns.getOrDefault(null, 1)).isInstanceOf(NullPointerException.class);
        assertThat(ns.<Integer>getOrDefault("x", 2)).isEqualTo(1);
    }
}
