package io.multiproc.manager.contract;

import io.multiproc.manager.contract.Functions.Named;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static io.multiproc.manager.contract.Differential.done;

/**
 * A model-based differential test of the {@link Set} contract for the sets a manager makes of a stored
 * {@code Set}: a seeded random sequence of operations runs on the set under test and on a
 * {@link ConcurrentHashMap#newKeySet()} model (a managed set refuses null elements, as its table's keys
 * are a dict's), comparing every result, every exception type and the contents after every step. No
 * iteration order is documented: contents are compared as sets, {@code toString} in the set's own
 * order. A failure names the seed to replay with {@code -Dmultiproc.diff.seed=N}.
 */
public abstract class SetDifferentialContract {
    private static final int MAX_SIZE = 30;

    /** A new empty set (a nested one: a manager's list or dict element). */
    protected abstract Set<Object> create();

    /** Releases what {@link #create} needed (a manager); called after each test. */
    protected void dispose() {
    }

    @AfterEach
    final void tearDown() {
        dispose();
    }

    /** Operations per seed. */
    protected int steps() {
        return 2000;
    }

    @Test
    public void randomOperationsMatchAConcurrentKeySet() {
        Set<Object> real = create();
        for (long seed : Differential.seeds(20_261_205L, 3L)) {
            real.clear();
            Differential d = new Differential(getClass().getName(), seed);
            new Run(d, real, ConcurrentHashMap.newKeySet()).run(steps());
        }
    }

    /** One seed's run: the set under test, its model, and the operations. */
    private final class Run {
        private final Differential d;
        private final Set<Object> r;
        private final Set<Object> m;

        Run(Differential d, Set<Object> r, Set<Object> m) {
            this.d = d;
            this.r = r;
            this.m = m;
        }

        void run(int steps) {
            d.check(r.isEmpty(), "the set is not empty after clear(): " + r);
            for (int i = 0; i < steps; i++) {
                step();
                d.sameContents(new HashSet<>(r), new HashSet<>(m));
                d.same("size()", r::size, m::size);
            }
        }

        private void step() {
            Object v = d.chance(8) ? null : element();
            int op = m.size() > MAX_SIZE ? 1 : d.nextInt(13);
            switch (op) {
                case 0 -> same("add(" + v + ")", () -> r.add(v), () -> m.add(v));
                case 1 -> {
                    Object gone = d.chance(70) && !m.isEmpty() ? new ArrayList<>(m).get(d.nextInt(m.size())) : v;
                    d.optionalNullQuery("remove(" + gone + ")", () -> r.remove(gone), () -> m.remove(gone), gone);
                }
                case 2 -> d.optionalNullQuery("contains(" + v + ")", () -> r.contains(v), () -> m.contains(v), v);
                case 3 -> {
                    List<Object> c = elements(4, true);
                    // element by element in c's order, as ConcurrentHashMap's key set: a null stops it there
                    same("addAll(" + c + ")", () -> r.addAll(c), () -> m.addAll(c));
                }
                case 4 -> {
                    List<Object> c = elements(4, false);
                    same("removeAll(" + c + ")", () -> r.removeAll(c), () -> m.removeAll(c));
                }
                case 5 -> {
                    List<Object> c = elements(3, false);
                    c.addAll(new ArrayList<>(m).subList(0, d.nextInt(m.size() + 1)));
                    same("retainAll(" + c + ")", () -> r.retainAll(c), () -> m.retainAll(c));
                }
                case 6 -> {
                    Named<Predicate<Object>> p = Functions.pick(d, Functions.PREDICATES);
                    if (p.name().contains("Refusing")) { // which elements go before a throw is the iteration order
                        p = new Named<>("isLong", x -> x instanceof Long);
                    }
                    Named<Predicate<Object>> q = p;
                    same("removeIf(" + q + ")", () -> r.removeIf(q.f()), () -> m.removeIf(q.f()));
                }
                case 7 -> iterateAndRemove();
                case 8 -> compareWhole();
                case 9 -> {
                    List<Object> c = elements(2, false);
                    same("containsAll(" + c + ")", () -> r.containsAll(c), () -> m.containsAll(c));
                }
                case 10 -> same("toArray() as a set", () -> new HashSet<>(Arrays.asList(r.toArray())), () -> new HashSet<>(m));
                case 11 -> {
                    if (d.chance(15)) {
                        same("clear()", () -> done(r::clear), () -> done(m::clear));
                    } else {
                        same("isEmpty()", r::isEmpty, m::isEmpty);
                    }
                }
                default -> same("add(" + v + ") again", () -> r.add(v), () -> m.add(v));
            }
        }

        /** Iterates the whole set (it must see the model's elements) and removes the one at a random place. */
        private void iterateAndRemove() {
            List<Object> order = new ArrayList<>(r);
            int at = d.nextInt(order.size() + 1);
            same("iterator(): " + at + " x next(), remove()", () -> Differential.removeAfter(r.iterator(), at),
                    () -> Differential.modelRemoveAfter(order, at, m::remove));
        }

        private void compareWhole() {
            Set<Object> plain = new HashSet<>(m);
            same("equals(a HashSet)", () -> r.equals(plain), () -> true);
            d.same("a HashSet equals the set", () -> plain.equals(r), () -> true);
            d.same("hashCode()", r::hashCode, m::hashCode);
            Set<Object> ordered = new LinkedHashSet<>(new ArrayList<>(r));
            d.same("toString()", r::toString, ordered::toString);
            d.same("the set's order holds the model's elements", () -> ordered, () -> plain);
        }

        private void same(String op, Supplier<?> real, Supplier<?> model) {
            d.step(op, real, model);
        }

        private List<Object> elements(int max, boolean nulls) {
            List<Object> c = new ArrayList<>();
            int n = d.nextInt(max + 1);
            for (int i = 0; i < n; i++) {
                c.add(nulls && d.chance(8) ? null : element());
            }
            return c;
        }

        /**
         * A non-null element, a List too: README.md, Manager, "Keys (and set elements) are stored by value",
         * so a List element is a value equal to any list with the same contents.
         */
        private Object element() {
            return d.value(false);
        }
    }
}
