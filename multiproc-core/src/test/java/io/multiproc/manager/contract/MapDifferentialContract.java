package io.multiproc.manager.contract;

import io.multiproc.manager.contract.Functions.Named;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static io.multiproc.manager.contract.Differential.done;

/**
 * A model-based differential test of the {@link ConcurrentMap} contract: a seeded random sequence of a
 * few thousand operations (the atomic defaults with functions that return null or throw, the views and
 * removal through them, nulls, bulk puts, equals/hashCode/toString) runs on the map under test and on a
 * {@link ConcurrentHashMap} model, and every result, every exception type and the full contents after
 * every step must agree. The managers' dicts refuse null keys and values "as by ConcurrentHashMap"
 * (ManagedMap's Javadoc), so that is the model; where they promise something else, the model says so.
 * No iteration order is documented for a dict: contents are compared as maps, and {@code toString} in
 * the map's own iteration order. A failure names the seed to replay with {@code -Dmultiproc.diff.seed=N}.
 */
public abstract class MapDifferentialContract {
    private static final int MAX_SIZE = 30;

    /** A new empty map. */
    protected abstract ConcurrentMap<Object, Object> create();

    /** Releases what {@link #create} needed (a manager); called after each test. */
    protected void dispose() {
    }

    @AfterEach
    final void tearDown() {
        dispose();
    }

    /**
     * README.md, Manager (decision 145): a dict's {@code remove(k, v)} and {@code replace(k, old, new)}
     * match a nested container only by identity, never a plain collection with the same contents; the
     * model's arguments are always plain, so a stored list never matches there.
     */
    protected boolean nestedByIdentity() {
        return true;
    }

    /**
     * Whether {@code entrySet().remove(e)} follows {@link #nestedByIdentity} too (ManagedMap's runs
     * {@code remove(k, v)}); a backend whose entry set leaves it to {@code AbstractCollection} (equals over
     * a snapshot iterator) overrides this to say so.
     */
    protected boolean entryRemovalByIdentity() {
        return nestedByIdentity();
    }

    /**
     * ManagedMap's Javadoc: putAll's "null key or value (or one the codec refuses) fails before anything is
     * published", and README.md (remote): a putAll is "applied under one lock hold". ConcurrentHashMap
     * puts the entries before the null one.
     */
    protected boolean putAllIsOneStep() {
        return true;
    }

    /**
     * README.md, remote access: "Calls that return nothing you need (add, addAll, putAll, clear, set) are
     * pipelined: a failure among them is thrown by the next call of the same thread that waits for a
     * reply". A backend that pipelines says so here, and the suite follows such a call with {@code size()}.
     */
    protected boolean writesArePipelined() {
        return false;
    }

    /**
     * Whether {@code containsValue} (and {@code values().contains}) match a nested list by identity, as
     * {@code remove(k, v)} does (comparing stored forms), rather than by contents with {@code equals}.
     */
    protected boolean valueSearchByIdentity() {
        return false;
    }

    /**
     * Decision 102 (Redis): a nested container is freed when the last container referring to it lets go,
     * and "a proxy of a freed object sees it empty": what remove/set/put return for a nested list may
     * read empty. The local and remote managers keep it alive while its proxy is reachable.
     */
    protected boolean freedNestedSeenEmpty() {
        return false;
    }

    /** Operations per seed. */
    protected int steps() {
        return 3000;
    }

    @Test
    public void randomOperationsMatchAConcurrentHashMap() {
        ConcurrentMap<Object, Object> real = create();
        for (long seed : Differential.seeds(20_261_205L, 11L, 7_654_321L)) {
            real.clear();
            Differential d = new Differential(getClass().getName(), seed);
            new Run(d, real, new ConcurrentHashMap<>()).run(steps());
        }
    }

    /** One seed's run: the map under test, its model, and the operations. */
    private final class Run {
        private final Differential d;
        private final ConcurrentMap<Object, Object> r;
        private final ConcurrentMap<Object, Object> m;

        Run(Differential d, ConcurrentMap<Object, Object> r, ConcurrentMap<Object, Object> m) {
            this.d = d;
            this.r = r;
            this.m = m;
        }

        void run(int steps) {
            d.check(r.isEmpty(), "the map is not empty after clear(): " + r);
            for (int i = 0; i < steps; i++) {
                step();
                d.sameContents(new HashMap<>(r), new HashMap<>(m));
                d.same("size()", r::size, m::size);
            }
        }

        private void step() {
            if (m.size() > MAX_SIZE) {
                Object k = someKey();
                removing("remove(" + k + ")", () -> r.remove(k), () -> m.remove(k));
                return;
            }
            Object k = key();
            Object v = value();
            switch (d.nextInt(27)) {
                case 0, 1 -> removing("put(" + k + ", " + v + ")", () -> r.put(k, v), () -> m.put(k, v));
                case 2 -> same("get(" + k + ")", () -> r.get(k), () -> m.get(k));
                case 3 -> removing("remove(" + k + ")", () -> r.remove(k), () -> m.remove(k));
                case 4 -> same("remove(" + k + ", " + v + ")", () -> r.remove(k, v), () -> removeIfMatches(k, v),
                        k == null ? null : v);
                case 5 -> removing("replace(" + k + ", " + v + ")", () -> r.replace(k, v), () -> m.replace(k, v));
                case 6 -> {
                    Object old = d.chance(60) && k != null ? m.get(k) : value();
                    same("replace(" + k + ", " + old + ", " + v + ")", () -> r.replace(k, old, v),
                            () -> replaceIfMatches(k, old, v));
                }
                case 7 -> same("putIfAbsent(" + k + ", " + v + ")", () -> r.putIfAbsent(k, v), () -> m.putIfAbsent(k, v));
                case 8 -> {
                    Named<BiFunction<Object, Object, Object>> f = Functions.pick(d, Functions.REMAPPINGS);
                    same("compute(" + k + ", " + f + ")", () -> r.compute(k, f.f()), () -> m.compute(k, f.f()));
                }
                case 9 -> {
                    Named<Function<Object, Object>> f = Functions.pick(d, Functions.MAPPINGS);
                    same("computeIfAbsent(" + k + ", " + f + ")", () -> r.computeIfAbsent(k, f.f()),
                            () -> m.computeIfAbsent(k, f.f()));
                }
                case 10 -> {
                    Named<BiFunction<Object, Object, Object>> f = Functions.pick(d, Functions.REMAPPINGS);
                    same("computeIfPresent(" + k + ", " + f + ")", () -> r.computeIfPresent(k, f.f()),
                            () -> m.computeIfPresent(k, f.f()));
                }
                case 11, 12 -> {
                    Named<BiFunction<Object, Object, Object>> f = Functions.pick(d, Functions.MERGES);
                    same("merge(" + k + ", " + v + ", " + f + ")", () -> r.merge(k, v, f.f()), () -> m.merge(k, v, f.f()));
                }
                case 13 -> same("getOrDefault(" + k + ", " + v + ")", () -> r.getOrDefault(k, v), () -> m.getOrDefault(k, v));
                case 14 -> same("containsKey(" + k + ")", () -> r.containsKey(k), () -> m.containsKey(k));
                case 15 -> same("containsValue(" + v + ")", () -> r.containsValue(v), () -> containsValue(v), v);
                case 16 -> keySetOp();
                case 17 -> valuesOp();
                case 18 -> entrySetOp();
                case 19 -> {
                    Map<Object, Object> more = new LinkedHashMap<>();
                    int n = d.nextInt(5);
                    for (int i = 0; i < n; i++) {
                        more.put(key(), value()); // a null key or value makes putAll throw NullPointerException
                    }
                    same("putAll(" + more + ")", () -> pipelined(() -> r.putAll(more)), () -> putAll(more));
                }
                case 20 -> compareWhole();
                case 21 -> replaceAll();
                case 22 -> {
                    if (d.chance(15)) {
                        same("clear()", () -> pipelined(r::clear), () -> done(m::clear));
                    } else {
                        same("isEmpty()", r::isEmpty, m::isEmpty);
                    }
                }
                case 23 -> same("forEach", () -> {
                    Map<Object, Object> seen = new HashMap<>();
                    r.forEach(seen::put);
                    return seen;
                }, () -> new HashMap<>(m));
                default -> {
                    Object present = someKey();
                    same("get(" + present + ")", () -> r.get(present), () -> m.get(present));
                }
            }
        }

        // ---- views -------------------------------------------------------------------------------------

        private void keySetOp() {
            Object k = key();
            List<Object> c = keys(4);
            switch (d.nextInt(7)) {
                case 0 -> same("keySet().remove(" + k + ")", () -> r.keySet().remove(k), () -> m.keySet().remove(k), k);
                case 1 -> same("keySet().contains(" + k + ")", () -> r.keySet().contains(k), () -> m.keySet().contains(k), k);
                case 2 -> same("keySet().removeAll(" + c + ")", () -> r.keySet().removeAll(c), () -> m.keySet().removeAll(c));
                case 3 -> {
                    c.addAll(new ArrayList<>(m.keySet()).subList(0, d.nextInt(m.size() + 1)));
                    same("keySet().retainAll(" + c + ")", () -> r.keySet().retainAll(c), () -> m.keySet().retainAll(c));
                }
                case 4 -> {
                    Named<Predicate<Object>> p = safe(Functions.pick(d, Functions.PREDICATES));
                    same("keySet().removeIf(" + p + ")", () -> r.keySet().removeIf(p.f()), () -> m.keySet().removeIf(p.f()));
                }
                case 5 -> same("keySet() equals", () -> r.keySet().equals(m.keySet()), () -> true);
                default -> {
                    // ManagedMap's Javadoc: the views' iterators' remove removes the key from the map
                    List<Object> order = new ArrayList<>(r.keySet());
                    int at = d.nextInt(order.size() + 1);
                    same("keySet().iterator(): " + at + " x next(), remove()",
                            () -> Differential.removeAfter(r.keySet().iterator(), at),
                            () -> Differential.modelRemoveAfter(order, at, m::remove));
                }
            }
        }

        private void valuesOp() {
            Object v = value();
            List<Object> c = values(4);
            switch (d.nextInt(6)) {
                case 0 -> same("values().contains(" + v + ")", () -> r.values().contains(v), () -> containsValue(v), v);
                case 1 -> {
                    Named<Predicate<Object>> p = safe(Functions.pick(d, Functions.PREDICATES));
                    same("values().removeIf(" + p + ")", () -> r.values().removeIf(p.f()), () -> m.values().removeIf(p.f()));
                }
                case 2 -> {
                    // which of several equal values goes is the map's iteration order: the model follows it
                    List<Object> order = new ArrayList<>(r.keySet());
                    same("values().remove(" + v + ")", () -> r.values().remove(v), () -> {
                        for (Object k : order) {
                            if (v != null && v.equals(m.get(k))) {
                                m.remove(k);
                                return true;
                            }
                        }
                        return false;
                    });
                }
                case 3 -> same("values().removeAll(" + c + ")", () -> r.values().removeAll(c), () -> m.values().removeAll(c));
                case 4 -> {
                    c.addAll(new ArrayList<>(m.values()).subList(0, d.nextInt(m.size() + 1)));
                    same("values().retainAll(" + c + ")", () -> r.values().retainAll(c), () -> m.values().retainAll(c));
                }
                default -> same("values() size", () -> r.values().size(), () -> m.values().size());
            }
        }

        private void entrySetOp() {
            Object k = d.chance(70) ? someKey() : key();
            Object v = d.chance(60) && k != null ? m.get(k) : value();
            Map.Entry<Object, Object> e = new SimpleEntry<>(k, v);
            switch (d.nextInt(5)) {
                case 0 -> same("entrySet().contains(" + e + ")", () -> r.entrySet().contains(e), () -> m.entrySet().contains(e));
                case 1 -> same("entrySet().remove(" + e + ")", () -> r.entrySet().remove(e), () -> {
                    if (k == null || v == null) {
                        return false; // ConcurrentHashMap's entry set holds no null: the entry is not there
                    }
                    if (!entryRemovalByIdentity()) {
                        return m.remove(k, v);
                    }
                    return removeIfMatches(k, v);
                });
                case 2 -> {
                    Named<Predicate<Object>> p = safe(Functions.pick(d, Functions.PREDICATES));
                    same("entrySet().removeIf(value " + p + " or key " + p + ")",
                            () -> r.entrySet().removeIf(x -> p.f().test(x.getValue()) || p.f().test(x.getKey())),
                            () -> m.entrySet().removeIf(x -> p.f().test(x.getValue()) || p.f().test(x.getKey())));
                }
                case 3 -> {
                    // ManagedMap's Javadoc: an entry's setValue puts
                    List<Object> order = new ArrayList<>(r.keySet());
                    if (order.isEmpty()) {
                        return;
                    }
                    int at = d.nextInt(order.size());
                    Object nv = value();
                    removing("entrySet().iterator(): entry " + at + " setValue(" + nv + ")", () -> {
                        Iterator<Map.Entry<Object, Object>> it = r.entrySet().iterator();
                        for (int i = 0; i < at; i++) {
                            it.next();
                        }
                        return it.next().setValue(nv);
                    }, () -> {
                        for (Map.Entry<Object, Object> x : m.entrySet()) {
                            if (x.getKey().equals(order.get(at))) {
                                return x.setValue(nv);
                            }
                        }
                        throw new AssertionError("the model lacks key " + order.get(at));
                    });
                }
                default -> same("entrySet() equals", () -> r.entrySet().equals(m.entrySet()), () -> true);
            }
        }

        /** A predicate for a view's removeIf, whose order of visits the model cannot follow: never throws. */
        private Named<Predicate<Object>> safe(Named<Predicate<Object>> p) {
            if (!p.name().contains("Refusing")) {
                return p;
            }
            return new Named<>("isLong", v -> v instanceof Long);
        }

        /** equals both ways, hashCode, and toString in the map's own iteration order. */
        private void compareWhole() {
            Map<Object, Object> plain = new HashMap<>(m);
            same("equals(a HashMap)", () -> r.equals(plain), () -> true);
            d.same("a HashMap equals the map", () -> plain.equals(r), () -> true);
            d.same("equals(itself)", () -> r.equals(r), () -> true);
            Map<Object, Object> other = new HashMap<>(m);
            other.put("extra-key", 1);
            d.same("equals(a bigger map)", () -> r.equals(other), () -> false);
            d.same("hashCode()", r::hashCode, m::hashCode);
            Map<Object, Object> ordered = new LinkedHashMap<>();
            for (Object k : new ArrayList<>(r.keySet())) {
                ordered.put(k, m.get(k));
            }
            d.same("toString()", r::toString, ordered::toString);
        }

        /**
         * replaceAll runs entry by entry, as ConcurrentHashMap's (README.md): a function that fails halfway
         * leaves a part replaced that depends on the iteration order, so this step's functions fail only on
         * a map of at most one entry.
         */
        private void replaceAll() {
            Named<BiFunction<Object, Object, Object>> f = Functions.pick(d, Functions.REMAPPINGS);
            boolean mayFail = List.of("alwaysNull", "keepOrRefuseLists", "countInts").contains(f.name());
            if (mayFail && m.size() > 1) {
                f = Functions.REMAPPINGS.get(1); // keyText: never null, never throws
            }
            Named<BiFunction<Object, Object, Object>> g = f;
            same("replaceAll(" + g + ")", () -> done(() -> r.replaceAll(g.f())), () -> done(() -> m.replaceAll(g.f())));
        }

        // ---- the model's rules -------------------------------------------------------------------------

        private boolean matches(Object stored, Object arg) {
            if (nestedByIdentity() && (stored instanceof List<?> || arg instanceof List<?>)) {
                return false; // decision 145: a nested container matches only its own proxy, never a plain list
            }
            return Objects.equals(stored, arg);
        }

        /** The model's containsValue, matching as {@link #valueSearchByIdentity} says. */
        private boolean containsValue(Object v) {
            return valueSearchByIdentity() ? m.values().stream().anyMatch(x -> matches(x, v)) : m.containsValue(v);
        }

        /** {@code remove(k, v)} as ConcurrentHashMap's (NullPointerException for a null key), with {@link #matches}. */
        private boolean removeIfMatches(Object k, Object v) {
            Objects.requireNonNull(k);
            if (v == null) {
                return false;
            }
            Object now = m.get(k);
            if (now != null && matches(now, v)) {
                m.remove(k);
                return true;
            }
            return false;
        }

        /** {@code replace(k, old, v)} as ConcurrentHashMap's (NullPointerException for any null), with {@link #matches}. */
        private boolean replaceIfMatches(Object k, Object old, Object v) {
            if (k == null || old == null || v == null) {
                throw new NullPointerException();
            }
            Object now = m.get(k);
            if (now != null && matches(now, old)) {
                m.put(k, v);
                return true;
            }
            return false;
        }

        /** putAll: with {@link #putAllIsOneStep}, a null key or value refuses the whole batch before anything is stored. */
        private Object putAll(Map<Object, Object> more) {
            for (Map.Entry<Object, Object> e : more.entrySet()) {
                if (putAllIsOneStep() && (e.getKey() == null || e.getValue() == null)) {
                    throw new NullPointerException();
                }
            }
            m.putAll(more);
            return "done";
        }

        // ---- helpers -----------------------------------------------------------------------------------

        private void same(String op, Supplier<?> real, Supplier<?> model) {
            d.step(op, real, model);
        }

        /** {@link #same} for a call that returns what it removed or replaced ({@link #freedNestedSeenEmpty}). */
        private void removing(String op, Supplier<?> real, Supplier<?> model) {
            d.step(op);
            d.sameRemoved(op, real, model, freedNestedSeenEmpty());
        }

        /** {@link Differential#optionalNullQuery}. */
        private void same(String op, Supplier<?> real, Supplier<?> model, Object arg) {
            d.optionalNullQuery(op, real, model, arg);
        }

        private Object key() {
            return d.chance(8) ? null : d.value(false);
        }

        private Object value() {
            return d.chance(8) ? null : d.value(false);
        }

        /** A key the model holds, if any (else a random one). */
        private Object someKey() {
            if (m.isEmpty()) {
                return key();
            }
            List<Object> keys = new ArrayList<>(m.keySet());
            return keys.get(d.nextInt(keys.size()));
        }

        private List<Object> keys(int max) {
            List<Object> c = new ArrayList<>();
            int n = d.nextInt(max + 1);
            for (int i = 0; i < n; i++) {
                c.add(d.value(false));
            }
            return c;
        }

        private List<Object> values(int max) {
            return keys(max);
        }

        /** Runs a write that may be pipelined, then (if it is) a call that waits, to see its failure. */
        private Object pipelined(Runnable write) {
            write.run();
            if (writesArePipelined()) {
                r.size();
            }
            return "done";
        }
    }
}
