package io.multiproc.manager.contract;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SharedValueProxy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * What every {@link Manager}'s containers do, whatever keeps them (shared memory, Redis): the containers,
 * nesting (seed 001's operations in one process), atomic merge from several threads, and the errors.
 * Subclass it with a fresh manager per test (the local manager in multiproc-core, the Redis one in
 * multiproc-redis).
 */
public abstract class ManagerContainersContract {
    private Manager manager;

    /** A new manager; closed after each test. */
    protected abstract Manager start();

    protected final Manager m() {
        if (manager == null) {
            manager = start();
        }
        return manager;
    }

    @AfterEach
    final void closeManager() {
        if (manager != null) {
            manager.close();
        }
    }

    @Test
    public void everyContainerKindStoresAndReadsBack() throws Exception {
        List<Object> l = m().list();
        l.add("x");
        ConcurrentMap<String, Object> d = m().dict();
        d.put("k", 1);
        Namespace ns = m().namespace();
        ns.set("a", 2.5);
        SharedValueProxy<Integer> v = m().value(7);
        BlockingQueue<String> q = m().queue();
        q.put("item");
        assertThat(l).containsExactly("x");
        assertThat(d).isEqualTo(Map.of("k", 1));
        assertThat(ns.<Double>get("a")).isEqualTo(2.5);
        assertThat(ns.has("a")).isTrue();
        assertThat(ns.names()).containsExactly("a");
        assertThat(v.get()).isEqualTo(7);
        assertThat(q.poll(5, TimeUnit.SECONDS)).isEqualTo("item");
        assertThat(q.poll(10, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    public void namedObjectsAreTheSameObjectEachTime() {
        m().<String, Integer>dict("config").put("port", 80);
        m().<String>list("jobs").add("first");
        assertThat(m().<String, Integer>dict("config").get("port")).isEqualTo(80);
        assertThat(m().<String>list("jobs")).containsExactly("first");
        assertThat(m().value("hits", 5).get()).isEqualTo(5);
        assertThat(m().value("hits", 9).get()).isEqualTo(5); // created once, with the first initial value
    }

    @Test
    public void boundedQueueRefusesBeyondItsBound() throws Exception {
        BlockingQueue<Integer> q = m().queue(2);
        assertThat(q.offer(1)).isTrue();
        assertThat(q.offer(2)).isTrue();
        assertThat(q.offer(3, 50, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(q.take()).isEqualTo(1);
        assertThat(q.offer(3)).isTrue();
        assertThat(q).containsExactly(2, 3);
    }

    @SuppressWarnings("unchecked")
    @Test
    public void nestedContainersAreLiveProxies() {
        List<Object> ls = m().list();
        ls.add(0);
        ls.add(new ArrayList<>(List.of(0, 0)));
        ((List<Integer>) ls.get(1)).set(0, 1);                           // ls[1][0] += 1
        assertThat(ls.get(1)).isEqualTo(List.of(1, 0));

        ConcurrentMap<String, Object> d = m().dict();
        d.put("inner", new ArrayList<>(List.of(1)));
        d.put("counts", new HashMap<>(Map.of("a", 1)));
        d.put("tags", new HashSet<>(Set.of("t")));
        ((List<Integer>) d.get("inner")).add(2);
        ((Map<String, Integer>) d.get("counts")).merge("a", 1, Integer::sum);
        ((Set<String>) d.get("tags")).add("u");
        assertThat(d.get("inner")).isEqualTo(List.of(1, 2));
        assertThat(d.get("counts")).isEqualTo(Map.of("a", 2));
        assertThat(d.get("tags")).isEqualTo(Set.of("t", "u"));

        Namespace ns = m().namespace();
        ns.set("y", new ArrayList<>(List.of(1, 2)));
        ns.<List<Integer>>get("y").add(10);                                  // ns.y.append(10)
        assertThat(ns.<List<Integer>>get("y")).containsExactly(1, 2, 10);
    }

    @SuppressWarnings("unchecked")
    @Test
    public void storingAProxyStoresAReferenceNotACopy() {
        ConcurrentMap<String, Object> d = m().dict();
        d.put("a", new ArrayList<>());
        d.put("b", d.get("a"));
        List<Object> top = m().list();
        top.add(d.get("a"));
        ((List<Integer>) d.get("a")).add(1);
        assertThat(d.get("b")).isEqualTo(List.of(1));
        assertThat(top.get(0)).isEqualTo(List.of(1));
        d.remove("a");                                          // still referenced by "b" and top[0]
        ((List<Integer>) d.get("b")).add(2);
        assertThat(top.get(0)).isEqualTo(List.of(1, 2));
    }

    @Test
    public void mergeFromManyThreadsLosesNothing() throws Exception {
        ConcurrentMap<String, Integer> d = m().dict();
        SharedValueProxy<Integer> v = m().value(0);
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 250; i++) {
                    d.merge("k", 1, Integer::sum);
                    v.updateAndGet(n -> n + 1);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join(120_000);
            assertThat(t.isAlive()).as("thread still merging after 120 s").isFalse();
        }
        assertThat(d.get("k")).isEqualTo(1000);
        assertThat(v.get()).isEqualTo(1000);
    }

    @Test
    public void listReplaceAllAndRemoveIfAreWholeListOperations() {
        List<Integer> l = m().list();
        l.addAll(List.of(1, 2, 3, 4));
        l.replaceAll(x -> x * 10);
        assertThat(l.removeIf(x -> x > 20)).isTrue();
        assertThat(l).containsExactly(10, 20);
    }

    @Test
    public void errorsKeepTheJdkTypesAndLeaveTheContainerIntact() {
        List<Object> l = m().list();
        l.add(1);
        assertThatThrownBy(() -> l.get(3)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.set(-1, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> l.remove(1)).isInstanceOf(IndexOutOfBoundsException.class);
        ConcurrentMap<Object, Object> d = m().dict();
        assertThatThrownBy(() -> d.put(null, 1)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> d.merge("a", 1, null)).isInstanceOf(NullPointerException.class);
        Namespace ns = m().namespace();
        assertThatThrownBy(() -> ns.get("missing")).isInstanceOf(NoSuchElementException.class).hasMessageContaining("missing");
        assertThat(ns.<Integer>getOrDefault("missing", 3)).isEqualTo(3);
        assertThat(l).containsExactly(1);
        assertThat(d).isEmpty();
    }

    @Test
    public void aNestedSetRefusesANullElementAsADictRefusesANullKey() {
        List<Object> l = m().list();
        l.add(new HashSet<>(Set.of("a")));
        @SuppressWarnings("unchecked")
        Set<Object> s = (Set<Object>) l.get(0);
        assertThatThrownBy(() -> s.add(null)).isInstanceOf(NullPointerException.class);
        assertThat(s).containsExactly("a");
    }

    /**
     * README.md, Manager: "Keys (and set elements) are stored by value"; a list proxy as one is its contents
     * at that moment, as a HashSet finds an equal List (decision 234).
     */
    @Test
    public void aNestedSetStoresListElementsByValueAndAProxyElementAsItsContents() {
        List<Object> l = m().list();
        l.add(new HashSet<>());
        @SuppressWarnings("unchecked")
        Set<Object> s = (Set<Object>) l.get(0);
        assertThat(s.add(new java.util.ArrayList<>(List.of(2)))).isTrue();
        assertThat(s.add(List.of(2))).as("an equal list is the same element").isFalse();
        assertThat(s.contains(List.of(2))).isTrue();
        assertThat(s).hasSize(1);
        List<Object> proxy = m().list();
        proxy.add(2);
        assertThat(s.contains(proxy)).as("a proxy finds the equal element").isTrue();
        assertThat(s.add(proxy)).as("a proxy equal to an element is that element").isFalse();
        proxy.add(3);
        assertThat(s.contains(proxy)).isFalse();
        assertThat(s.add(proxy)).isTrue();
        proxy.clear();
        assertThat(s).as("the element is what the proxy held when added").containsExactlyInAnyOrder(List.of(2), List.of(2, 3));
        assertThat(s.remove(List.of(2))).isTrue();
        proxy.addAll(List.of(2, 3));
        assertThat(s.remove(proxy)).isTrue();
        assertThat(s).isEmpty();
    }

    @Test
    public void aProxyUsedAfterCloseThrowsIllegalStateNamingTheManager() {
        Manager mgr = start();
        List<Object> l = mgr.list();
        l.add(1);
        mgr.close();
        assertThatThrownBy(l::size).isInstanceOf(IllegalStateException.class).hasMessageContaining(mgr.name());
    }
    /**
     * Map's own idiom, {@code computeIfAbsent(key, k -> new HashSet<>()).add(v)}: what compute and merge
     * return is the container the map now holds, so a change through it is kept (CPython's known failure 2).
     */
    @Test
    @SuppressWarnings("unchecked")
    public void whatComputeAndMergeReturnIsTheStoredContainerSoChangesThroughItAreKept() {
        ConcurrentMap<String, Object> d = m().dict();
        ((List<Integer>) d.computeIfAbsent("a", k -> new ArrayList<>())).add(1);
        ((List<Integer>) d.computeIfAbsent("a", k -> new ArrayList<>())).add(2);
        ((Set<String>) d.compute("b", (k, v) -> new HashSet<>())).add("x");
        ((Map<String, Integer>) d.merge("c", new HashMap<>(), (x, y) -> y)).put("k", 3);
        assertThat(d.get("a")).isEqualTo(List.of(1, 2));
        assertThat(d.get("b")).isEqualTo(Set.of("x"));
        assertThat(d.get("c")).isEqualTo(Map.of("k", 3));
    }

    /** A function that changes its argument in place and returns it still stores the change. */
    @Test
    public void updateAndGetStoresAValueItsFunctionChangedInPlace() {
        SharedValueProxy<int[]> v = m().value(new int[] {0});
        assertThat(v.updateAndGet(a -> {
            a[0]++;
            return a;
        })).containsExactly(1);
        assertThat(v.get()).containsExactly(1);
        v.getAndUpdate(a -> {
            a[0] += 10;
            return a;
        });
        assertThat(v.get()).containsExactly(11);
    }

    /** List's SequencedCollection methods: NoSuchElementException when empty, each one step (linearizable). */
    @Test
    public void removeLastAndFirstAreAtomicAndThrowNoSuchElementWhenEmpty() throws Exception {
        List<Integer> l = m().list();
        assertThatThrownBy(l::removeLast).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(l::removeFirst).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(l::getLast).isInstanceOf(NoSuchElementException.class);
        assertThatThrownBy(l::getFirst).isInstanceOf(NoSuchElementException.class);
        int n = 2_000;
        List<Integer> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            items.add(i);
        }
        l.addAll(items);
        assertThat(l.getFirst()).isEqualTo(0);
        assertThat(l.getLast()).isEqualTo(n - 1);
        assertPoppedOnceEach(List.of(l, l), n);
        assertThat(l).isEmpty();
    }

    /**
     * Pops every element through {@code views} (proxies of one list: the same one, or one per client), two
     * threads per view (one from each end) until NoSuchElementException, and checks that each of the
     * {@code n} elements came out exactly once and no other exception was thrown.
     */
    public static void assertPoppedOnceEach(List<List<Integer>> views, int n) throws InterruptedException {
        java.util.concurrent.ConcurrentLinkedQueue<Object> popped = new java.util.concurrent.ConcurrentLinkedQueue<>();
        List<Thread> poppers = new ArrayList<>();
        for (List<Integer> l : views) {
            for (boolean last : new boolean[] {true, false}) {
                poppers.add(Thread.ofPlatform().start(() -> {
                    while (true) {
                        try {
                            popped.add(last ? l.removeLast() : l.removeFirst());
                        } catch (NoSuchElementException empty) {
                            return;
                        } catch (RuntimeException e) {
                            popped.add(e);
                            return;
                        }
                    }
                }));
            }
        }
        for (Thread p : poppers) {
            p.join();
        }
        assertThat(popped).doesNotHaveAnyElementsOfTypes(RuntimeException.class).hasSize(n);
        assertThat(new HashSet<>(popped)).hasSize(n);
    }

    /**
     * A list's {@code reversed()} view reads, writes, iterates and changes through its iterator where
     * ArrayList's view would (each of its calls is one step on the list, decision 217/225).
     */
    @Test
    public void aReversedViewWritesWhereArrayListsWould() {
        List<Integer> ls = m().list();
        ls.addAll(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        List<Integer> plain = new ArrayList<>(ls);
        for (List<Integer> l : List.of(ls, plain)) {
            List<Integer> r = l.reversed();
            r.add(0, 100);
            r.add(r.size(), -1);
            r.set(1, 99);
            r.add(2, 50);
            assertThat(r.remove(3)).isEqualTo(8);
            r.addFirst(200);
            r.addLast(-2);
            assertThat(r.removeFirst()).isEqualTo(200);
            assertThat(r.getFirst()).isEqualTo(100);
            assertThat(r.getLast()).isEqualTo(-2);
            assertThat(r.get(2)).isEqualTo(50);
            assertThat(r.indexOf(99)).isEqualTo(1);
            assertThat(r.lastIndexOf(-1)).isEqualTo(r.size() - 2);
            java.util.ListIterator<Integer> it = r.listIterator(r.size());
            assertThat(it.previous()).isEqualTo(-2);
            assertThat(r.subList(1, 3)).containsExactly(99, 50);
            r.add(7);
            r.addAll(List.of(6, 5));
            assertThat(r.removeAll(List.of(5, 100))).isTrue();
            r.sort(null);
            assertThat(r.reversed()).isEqualTo(l);
            assertThatThrownBy(() -> r.get(r.size())).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> r.add(-1, 0)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> r.listIterator(r.size() + 1)).isInstanceOf(IndexOutOfBoundsException.class);
        }
        assertThat(ls).isEqualTo(plain);
        assertThat(ls.reversed().toArray()).isEqualTo(plain.reversed().toArray());
        assertThat(ls.reversed()).hasToString(plain.reversed().toString()).hasSameHashCodeAs(plain.reversed());
    }

    /**
     * Reads {@code ls} (holding 0..9) through its {@code reversed()} view (and adds at the view's end and
     * takes that back) {@code rounds} times while another
     * process appends 10 and pops it again: each read sees one state of the list. JDK's default view read
     * the size, then a snapshot or element from an index computed from it, and threw
     * IndexOutOfBoundsException (or "End size 10 is less than fixed size 11") when the list had shrunk between.
     */
    public static void assertReversedReadsOneState(List<Integer> ls, int rounds) {
        List<Integer> down = List.of(9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        for (int round = 0; round < rounds; round++) {
            assertThat(ls.lastIndexOf(3)).as("lastIndexOf(3)").isEqualTo(3);
            List<Integer> seen = new ArrayList<>();
            for (int x : ls.reversed()) {
                seen.add(x);
            }
            assertThat(seen.subList(seen.size() - 10, seen.size())).as("reversed iteration").isEqualTo(down);
            assertThat(ls.reversed().get(0)).as("reversed().get(0)").isIn(9, 10);
            assertThat(ls.reversed().stream().toList()).as("reversed().stream()").endsWith(1, 0);
            assertThat(ls.reversed().indexOf(0)).as("reversed().indexOf(0)").isIn(9, 10);
            assertThat(ls.reversed().lastIndexOf(9)).as("reversed().lastIndexOf(9)").isIn(0, 1);
            ls.reversed().add(-1); // at the list's front, whatever its size (AbstractList's add(size(), e) took two steps)
            assertThat(ls.removeFirst()).as("what reversed().add put at the front").isEqualTo(-1);
        }
    }

    /** A stream reads one snapshot, as iteration does (README: "Iterators ... read a snapshot"). */
    @Test
    public void aStreamReadsOneSnapshotLikeIteration() {
        List<String> l = m().list();
        l.addAll(List.of("a", "b", "c", "d"));
        List<String> seen = l.stream().peek(x -> {
            if (x.equals("a")) {
                l.remove("a");
                l.add("e");
            }
        }).toList();
        assertThat(seen).containsExactly("a", "b", "c", "d");
        assertThat(l).containsExactly("b", "c", "d", "e");
        Set<Object> s = new HashSet<>();
        ConcurrentMap<String, Integer> d = m().dict();
        d.put("x", 1);
        d.put("y", 2);
        d.keySet().stream().peek(k -> d.remove(k.equals("x") ? "y" : "x")).forEach(s::add);
        assertThat(s).containsExactlyInAnyOrder("x", "y");
    }
    /** Map.get: a key of a type the codec cannot store is simply absent (AbstractMap.equals relies on it). */
    @Test
    public void aKeyTheCodecCannotStoreIsAbsentNotAnError() {
        ConcurrentMap<Object, Integer> d = m().dict();
        d.put("a", 1);
        Object foreign = new Object(); // not Serializable, no codec accepts it
        assertThat(d.get(foreign)).isNull();
        assertThat(d.containsKey(foreign)).isFalse();
        assertThat(d.remove(foreign)).isNull();
        assertThat(d.remove(foreign, 1)).isFalse();
        assertThat(d.replace(foreign, 2)).isNull();
        assertThat(d.getOrDefault(foreign, 9)).isEqualTo(9);
        Map<Object, Integer> other = new HashMap<>();
        other.put(foreign, 1);
        assertThat(other.equals(d)).isFalse();
        assertThat(d.equals(other)).isFalse();
        Set<Object> set = new HashSet<>();
        List<Object> l = m().list();
        l.add(set);
        @SuppressWarnings("unchecked")
        Set<Object> managed = (Set<Object>) l.get(0);
        managed.add("x");
        assertThat(managed.contains(foreign)).isFalse();
        assertThat(managed.remove(foreign)).isFalse();
        assertThat(d).isEqualTo(Map.of("a", 1));
    }
    /** A key holding a Set, as a record's component: equal records are one key (public: the codec builds it). */
    public record Tagged(String name, Set<String> tags) {
    }

    /** {@code a, b, ...} in this iteration order. */
    @SafeVarargs
    private static <E> Set<E> ordered(E... elements) {
        return new LinkedHashSet<>(List.of(elements));
    }

    /**
     * Map's contract: keys are the same key when they are equal, as a HashMap's (and CPython's server-side
     * dict's) are: an equal Set, Map or record holding one finds the entry whatever order it iterates in, and
     * putting it again replaces the entry instead of adding a second one.
     */
    @Test
    public void keysEqualButIteratedInAnotherOrderAreOneKey() {
        ConcurrentMap<Object, String> d = m().dict();
        d.put(ordered(1, 2), "set");
        assertThat(d.get(ordered(2, 1))).isEqualTo("set");
        assertThat(d.containsKey(ordered(2, 1))).isTrue();
        assertThat(d.keySet().contains(ordered(2, 1))).isTrue();
        assertThat(d.entrySet().contains(Map.entry(ordered(2, 1), "set"))).isTrue();
        assertThat(d.put(ordered(2, 1), "again")).isEqualTo("set");
        assertThat(d).hasSize(1);
        assertThat(d.putIfAbsent(ordered(2, 1), "x")).isEqualTo("again");
        assertThat(d.merge(ordered(2, 1), "!", String::concat)).isEqualTo("again!");
        assertThat(d.compute(ordered(2, 1), (k, v) -> v + "?")).isEqualTo("again!?");
        assertThat(d.replace(ordered(2, 1), "r")).isEqualTo("again!?");
        assertThat(d.replace(ordered(2, 1), "r", "s")).isTrue();
        assertThat(d).hasSize(1).containsEntry(ordered(1, 2), "s");

        Map<String, Integer> ab = new LinkedHashMap<>();
        ab.put("a", 1);
        ab.put("b", 2);
        Map<String, Integer> ba = new LinkedHashMap<>();
        ba.put("b", 2);
        ba.put("a", 1);
        d.put(ab, "map");
        assertThat(d.get(ba)).isEqualTo("map");
        assertThat(d.remove(ba, "map")).isTrue();

        d.put(new Tagged("t", ordered("x", "y")), "record");
        assertThat(d.get(new Tagged("t", ordered("y", "x")))).isEqualTo("record");
        assertThat(d.keySet().remove(new Tagged("t", ordered("y", "x")))).isTrue();
        assertThat(d.remove(ordered(2, 1))).isEqualTo("s");
        assertThat(d).isEmpty();
    }

    /** Two equal HashSets whose tables differ in size iterate in different orders: still one key. */
    @Test
    public void equalHashSetsOfOtherCapacitiesAreOneKey() {
        Set<String> small = new HashSet<>(2); // "a" (hash 97) and "Q" (81) share a bucket of 4: insertion order
        Set<String> large = new HashSet<>(1024); // a bucket each: "Q" first
        for (String e : List.of("a", "Q")) {
            small.add(e);
            large.add(e);
        }
        assertThat(List.copyOf(small)).isNotEqualTo(List.copyOf(large)); // the premise: other orders
        ConcurrentMap<Object, Integer> d = m().dict();
        d.put(small, 1);
        assertThat(d.get(large)).isEqualTo(1);
        d.put(List.of(large, 0), 2);
        assertThat(d.get(List.of(small, 0))).isEqualTo(2);
    }

    /** A set's elements: an equal Set in another order is already there, and contains/remove find it. */
    @Test
    public void setElementsEqualButIteratedInAnotherOrderAreOneElement() {
        ConcurrentMap<String, Object> d = m().dict();
        d.put("s", new HashSet<>());
        @SuppressWarnings("unchecked")
        Set<Object> s = (Set<Object>) d.get("s");
        assertThat(s.add(ordered(1, 2))).isTrue();
        assertThat(s.add(ordered(2, 1))).isFalse();
        assertThat(s).hasSize(1);
        assertThat(s.contains(ordered(2, 1))).isTrue();
        assertThat(s.remove(ordered(2, 1))).isTrue();
        assertThat(s).isEmpty();
    }

    /**
     * A list, set or dict proxy as a dict key is what it holds when the call reads it (decision 234): the key
     * stored keeps that snapshot, nested containers included, whatever the proxy does after. A namespace or
     * a value is equal only to itself, which a key stored by value cannot be: refused as a stored key (naming
     * its class), simply absent as a lookup.
     */
    @Test
    @SuppressWarnings("unchecked")
    public void aProxyKeyIsItsContentsWhenUsedAndANamespaceOrValueKeyIsRefused() {
        ConcurrentMap<Object, Object> d = m().dict();
        List<Object> l = m().list();
        l.addAll(List.of("a", 1));
        assertThat(d.put(l, "first")).isNull();
        l.add("more");
        assertThat(d.keySet()).containsExactly(List.of("a", 1));
        assertThat(d.get(l)).isNull();
        l.remove("more");
        assertThat(d.get(l)).isEqualTo("first");
        Map<String, Object> inner = m().dict();
        inner.put("x", List.of(1));
        assertThat(d.putIfAbsent(inner, "dict")).isNull();
        ((List<Object>) inner.get("x")).add(2);
        assertThat(d.get(Map.of("x", List.of(1)))).isEqualTo("dict");
        assertThat(d.get(inner)).isNull();
        Namespace ns = m().namespace();
        SharedValueProxy<Integer> v = m().value(1);
        assertThatThrownBy(() -> d.put(ns, "ns")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> d.merge(v, "v", (a, b) -> b)).isInstanceOf(IllegalArgumentException.class);
        assertThat(d.get(ns)).isNull();
        assertThat(d.containsKey(v)).isFalse();
        assertThat(d.remove(ns)).isNull();
        assertThat(d).hasSize(2);
    }

    /** Tuple-like keys: List.of, Arrays.asList and an ArrayList of the same elements are one key. */
    @Test
    public void equalListsOfAnyClassAreOneKey() {
        ConcurrentMap<Object, Integer> d = m().dict();
        d.put(List.of("a", 1), 1);
        assertThat(d.get(java.util.Arrays.asList("a", 1))).isEqualTo(1);
        assertThat(d.get(new ArrayList<>(List.of("a", 1)))).isEqualTo(1);
        d.put(new java.util.LinkedList<>(List.of("a", 1)), 2);
        assertThat(d).hasSize(1);
    }

    /** Double.equals says every NaN is equal (its canonical bits): so is a key. */
    @Test
    public void nanKeysOfOtherBitsAreOneKey() {
        Double other = Double.longBitsToDouble(0x7ff8000000000001L);
        assumeThat(Double.doubleToRawLongBits(other)).isNotEqualTo(Double.doubleToRawLongBits(Double.NaN));
        assertThat(other.equals(Double.NaN)).isTrue();
        ConcurrentMap<Object, Integer> d = m().dict();
        d.put(Double.NaN, 1);
        assertThat(d.get(other)).isEqualTo(1);
        d.put(List.of(Double.NaN), 2);
        assertThat(d.get(List.of(other))).isEqualTo(2);
    }
    /** By-value lookups in a list and among a dict's values use equals: an equal record whose Set iterates in another order matches. */
    @Test
    public void listAndValueLookupsMatchEqualValuesWhateverTheirSetsOrder() {
        List<Object> l = m().list();
        l.addAll(List.of(new Tagged("a", ordered("x", "y")), 7, new Tagged("a", ordered("x", "y"))));
        Tagged other = new Tagged("a", ordered("y", "x"));
        assertThat(l.contains(other)).isTrue();
        assertThat(l.indexOf(other)).isEqualTo(0);
        assertThat(l.lastIndexOf(other)).isEqualTo(2);
        assertThat(l.remove(other)).isTrue();
        assertThat(l).containsExactly(7, new Tagged("a", ordered("x", "y")));
        assertThat(l.retainAll(List.of(other))).isTrue();
        assertThat(l).hasSize(1);
        assertThat(l.removeAll(List.of(other))).isTrue();
        assertThat(l).isEmpty();
        ConcurrentMap<String, Object> d = m().dict();
        d.put("k", new Tagged("a", ordered("x", "y")));
        assertThat(d.containsValue(other)).isTrue();
        assertThat(d.values().contains(other)).isTrue();
        assertThat(d.replace("k", other, new Tagged("b", ordered("x")))).isTrue();
        assertThat(d.get("k")).isEqualTo(new Tagged("b", ordered("x")));
        d.put("k", new Tagged("a", ordered("x", "y")));
        assertThat(d.remove("k", other)).isTrue();
    }
}
