package io.multiproc.manager.contract;

import io.multiproc.manager.contract.Differential.Outcome;
import io.multiproc.manager.contract.Functions.Named;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ListIterator;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import static io.multiproc.manager.contract.Differential.done;

/**
 * A model-based differential test of the {@link List} contract: a seeded random sequence of a few
 * thousand operations runs on the list under test and on an {@link ArrayList} model, and every result,
 * every exception type and the full contents after every step must agree. Where the managers' lists
 * promise something other than {@code ArrayList} does, the model says so (see the hooks below and the
 * comments citing README.md's Manager section). Subclass it for each implementation (from core's
 * test-jar for other modules); a failure names the seed to replay with {@code -Dmultiproc.diff.seed=N}.
 */
public abstract class ListDifferentialContract {
    private static final int MAX_SIZE = 40;

    /** A new empty list. */
    protected abstract List<Object> create();

    /** Releases what {@link #create} needed (a manager); called after each test. */
    protected void dispose() {
    }

    @AfterEach
    final void tearDown() {
        dispose();
    }

    /** What a list's iterators do on {@code set}, {@code remove} and {@code add}. */
    protected enum IteratorWrites {
        /** Throw UnsupportedOperationException, whatever the iterator's state (they iterate a snapshot). */
        UNSUPPORTED,
        /** Change the list as {@code ArrayList}'s do. */
        WRITE_THROUGH
    }

    /**
     * README.md, Manager: "Iterators, toString and equals read a snapshot; a list iterator's remove is
     * not supported". A backend that documents write-through iterators overrides this.
     */
    protected IteratorWrites iteratorWrites() {
        return IteratorWrites.UNSUPPORTED;
    }

    /** How {@code removeIf}, {@code replaceAll} and {@code sort} leave a list when their function throws. */
    protected enum OnFailure {
        /** As it was: each is one step. */
        UNCHANGED,
        /** As {@code ArrayList} does: removeIf unchanged, replaceAll and sort half done. */
        AS_ARRAYLIST,
        /**
         * As the {@code Collection}/{@code List} default methods over the list's own iterators do: removeIf and
         * replaceAll done up to the failing element, sort unchanged (it sorts a copy first).
         */
        AS_DEFAULT_METHODS
    }

    /**
     * README.md, Manager: "a list's replaceAll and removeIf as one step" and "a sublist's removeIf,
     * replaceAll, sort and clear are (one step over the range)": a function that throws leaves the list
     * as it was.
     */
    protected OnFailure bulkOnFailure() {
        return OnFailure.UNCHANGED;
    }

    /** {@link #bulkOnFailure} for a sublist's removeIf, replaceAll and sort. */
    protected OnFailure sublistBulkOnFailure() {
        return bulkOnFailure();
    }

    /**
     * README.md, Manager (decision 145): a list's {@code remove(Object)}, {@code removeAll} and
     * {@code retainAll} match a nested container only by identity, never a plain collection with the
     * same contents. The model's arguments are always plain, so a stored list never matches there.
     */
    protected boolean nestedByIdentity() {
        return true;
    }

    /**
     * Whether {@code removeAll}, {@code retainAll} and a sublist's {@code remove(Object)} follow
     * {@link #nestedByIdentity} too; a backend whose list leaves them to {@code AbstractCollection}
     * (comparing with {@code equals} over a snapshot iterator) overrides this to say so.
     */
    protected boolean bulkRemovalsByIdentity() {
        return nestedByIdentity();
    }

    /**
     * Whether the list's own {@code indexOf}, {@code lastIndexOf}, {@code contains} and {@code containsAll}
     * match a nested list by identity as {@code remove(Object)} does (comparing stored forms), rather than
     * by contents with {@code equals} as {@code ArrayList} and the local manager's list do.
     */
    protected boolean searchesByIdentity() {
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
    public void randomOperationsMatchAnArrayList() {
        List<Object> real = create();
        for (long seed : Differential.seeds(20_261_205L, 7L, 1_234_567L)) {
            real.clear();
            Differential d = new Differential(getClass().getName(), seed);
            new Run(d, real, new ArrayList<>()).run(steps());
        }
    }

    /** One seed's run: the list under test, its model, and the operations. */
    private final class Run {
        private final Differential d;
        private final List<Object> r;
        private final List<Object> m;

        Run(Differential d, List<Object> r, List<Object> m) {
            this.d = d;
            this.r = r;
            this.m = m;
        }

        void run(int steps) {
            d.check(r.isEmpty(), "the list is not empty after clear(): " + r);
            for (int i = 0; i < steps; i++) {
                step();
                d.sameContents(new ArrayList<>(r), m);
                d.same("size()", r::size, m::size);
            }
        }

        private void step() {
            boolean shrink = m.size() > MAX_SIZE;
            int op = shrink ? 3 + d.nextInt(2) * 17 : d.nextInt(26); // remove(int) or removeIf when too long
            switch (op) {
                case 0 -> {
                    Object v = d.value(true);
                    same("add(" + v + ")", () -> r.add(v), () -> m.add(v));
                }
                case 1 -> {
                    int i = index(m.size() + 1);
                    Object v = d.value(true);
                    same("add(" + i + ", " + v + ")", () -> done(() -> r.add(i, v)), () -> done(() -> m.add(i, v)));
                }
                case 2 -> {
                    int i = index(m.size());
                    Object v = d.value(true);
                    removing("set(" + i + ", " + v + ")", () -> r.set(i, v), () -> m.set(i, v));
                }
                case 3 -> {
                    int i = index(m.size());
                    removing("remove(" + i + ")", () -> r.remove(i), () -> m.remove(i));
                }
                case 4 -> {
                    Object v = d.value(true);
                    same("remove((Object) " + v + ")", () -> r.remove(v), () -> removeFirst(m, v));
                }
                case 5 -> {
                    Object v = d.value(true);
                    same("indexOf(" + v + ")", () -> r.indexOf(v), () -> search(v, false));
                }
                case 6 -> {
                    Object v = d.value(true);
                    same("lastIndexOf(" + v + ")", () -> r.lastIndexOf(v), () -> search(v, true));
                }
                case 7 -> {
                    Object v = d.value(true);
                    same("contains(" + v + ")", () -> r.contains(v), () -> search(v, false) >= 0);
                }
                case 8 -> {
                    int i = index(m.size());
                    same("get(" + i + ")", () -> r.get(i), () -> m.get(i));
                }
                case 9 -> {
                    List<Object> c = values(4);
                    if (d.chance(50)) {
                        same("addAll(" + c + ")", () -> r.addAll(c), () -> m.addAll(c));
                    } else {
                        int i = index(m.size() + 1);
                        same("addAll(" + i + ", " + c + ")", () -> r.addAll(i, c), () -> m.addAll(i, c));
                    }
                }
                case 10 -> {
                    List<Object> c = values(3);
                    same("removeAll(" + c + ")", () -> r.removeAll(c), () -> m.removeIf(in(c)));
                }
                case 11 -> {
                    List<Object> c = values(6);
                    same("retainAll(" + c + ")", () -> r.retainAll(c), () -> m.removeIf(in(c).negate()));
                }
                case 12 -> removeIf(r, m, bulkOnFailure());
                case 13 -> replaceAll(r, m, bulkOnFailure());
                case 14 -> sort(r, m, bulkOnFailure());
                case 15, 16 -> subList();
                case 17 -> compareWhole();
                case 18 -> toArrays();
                case 19 -> listIterator();
                case 20 -> removeIf(r, m, bulkOnFailure());
                case 21 -> iterate();
                case 22 -> {
                    List<Object> c = values(2);
                    same("containsAll(" + c + ")", () -> r.containsAll(c), () -> c.stream().allMatch(v -> search(v, false) >= 0));
                }
                case 23 -> {
                    switch (d.nextInt(5)) {
                        case 0 -> same("getFirst()", r::getFirst, m::getFirst);
                        case 1 -> same("getLast()", r::getLast, m::getLast);
                        case 2 -> removing("removeLast()", r::removeLast, m::removeLast);
                        case 3 -> same("isEmpty()", r::isEmpty, m::isEmpty);
                        default -> {
                            Object v = d.value(true);
                            same("addFirst(" + v + ")", () -> done(() -> r.addFirst(v)), () -> done(() -> m.addFirst(v)));
                        }
                    }
                }
                case 24 -> {
                    if (d.chance(10)) {
                        same("clear()", () -> done(r::clear), () -> done(m::clear));
                    } else {
                        same("hashCode()", r::hashCode, m::hashCode);
                    }
                }
                default -> {
                    int i = index(m.size());
                    same("getAfterWrites(" + i + ")", () -> r.get(i), () -> m.get(i));
                }
            }
        }

        // ---- composite steps ---------------------------------------------------------------------------

        private void removeIf(List<Object> r, List<Object> m, OnFailure mode) {
            Named<Predicate<Object>> p = Functions.pick(d, Functions.PREDICATES);
            same("removeIf(" + p + ")", () -> r.removeIf(p.f()), () -> bulk(mode, m, l -> l.removeIf(p.f()), () -> {
                boolean any = false;
                for (Iterator<Object> it = m.iterator(); it.hasNext(); ) {
                    if (p.f().test(it.next())) {
                        it.remove();
                        any = true;
                    }
                }
                return any;
            }));
        }

        private void replaceAll(List<Object> r, List<Object> m, OnFailure mode) {
            Named<UnaryOperator<Object>> f = Functions.pick(d, Functions.OPERATORS);
            same("replaceAll(" + f + ")", () -> done(() -> r.replaceAll(f.f())),
                    () -> bulk(mode, m, l -> done(() -> l.replaceAll(f.f())), () -> {
                        for (ListIterator<Object> it = m.listIterator(); it.hasNext(); ) {
                            it.set(f.f().apply(it.next()));
                        }
                        return "done";
                    }));
        }

        private void sort(List<Object> r, List<Object> m, OnFailure mode) {
            Named<Comparator<Object>> c = Functions.pick(d, Functions.COMPARATORS);
            same("sort(" + c + ")", () -> done(() -> r.sort(c.f())), () -> bulk(mode, m, l -> done(() -> l.sort(c.f())), null));
        }

        /** A sublist and a few operations through it, each compared; then the parent is compared as usual. */
        private void subList() {
            int size = m.size();
            int from = d.chance(90) ? d.nextInt(size + 1) : index(size + 1);
            int room = Math.max(size - Math.max(from, 0), 0);
            int to = d.chance(90) ? from + d.nextInt(room + 1) : index(size + 1);
            Outcome rs = subListOutcome(r, from, to);
            Outcome ms = subListOutcome(m, from, to);
            same("subList(" + from + ", " + to + ")", rs, ms);
            if (rs.thrown() != null) {
                return;
            }
            @SuppressWarnings("unchecked")
            List<Object> realSub = (List<Object>) rs.value();
            @SuppressWarnings("unchecked")
            List<Object> modelSub = (List<Object>) ms.value();
            int ops = 1 + d.nextInt(3);
            for (int k = 0; k < ops; k++) {
                subListOp(realSub, modelSub);
                d.same("sublist contents", () -> new ArrayList<>(realSub), () -> new ArrayList<>(modelSub));
            }
        }

        private void subListOp(List<Object> rs, List<Object> ms) {
            int n = ms.size();
            switch (d.nextInt(14)) {
                case 0 -> sub("clear()", () -> done(rs::clear), () -> done(ms::clear));
                case 1 -> {
                    int i = index(n);
                    sub("get(" + i + ")", () -> rs.get(i), () -> ms.get(i));
                }
                case 2 -> {
                    int i = index(n);
                    Object v = d.value(true);
                    d.detail("sublist.set(" + i + ", " + v + ")");
                    d.sameRemoved("set", () -> rs.set(i, v), () -> ms.set(i, v), freedNestedSeenEmpty());
                }
                case 3 -> {
                    Object v = d.value(true);
                    sub("add(" + v + ")", () -> rs.add(v), () -> ms.add(v));
                }
                case 4 -> {
                    int i = index(n + 1);
                    Object v = d.value(true);
                    sub("add(" + i + ", " + v + ")", () -> done(() -> rs.add(i, v)), () -> done(() -> ms.add(i, v)));
                }
                case 5 -> {
                    int i = index(n);
                    d.detail("sublist.remove(" + i + ")");
                    d.sameRemoved("remove", () -> rs.remove(i), () -> ms.remove(i), freedNestedSeenEmpty());
                }
                case 6 -> {
                    Object v = d.value(true);
                    sub("remove((Object) " + v + ")", () -> rs.remove(v),
                            () -> bulkRemovalsByIdentity() ? removeFirst(ms, v) : ms.remove(v));
                }
                case 7 -> {
                    Object v = d.value(true);
                    sub("indexOf(" + v + ")", () -> rs.indexOf(v), () -> ms.indexOf(v));
                    sub("lastIndexOf(" + v + ")", () -> rs.lastIndexOf(v), () -> ms.lastIndexOf(v));
                    sub("contains(" + v + ")", () -> rs.contains(v), () -> ms.contains(v));
                }
                case 8 -> {
                    d.detail("sublist:");
                    removeIf(rs, ms, sublistBulkOnFailure());
                }
                case 9 -> {
                    d.detail("sublist:");
                    replaceAll(rs, ms, sublistBulkOnFailure());
                }
                case 10 -> {
                    d.detail("sublist:");
                    sort(rs, ms, sublistBulkOnFailure());
                }
                case 11 -> {
                    List<Object> c = values(3);
                    if (d.chance(50)) {
                        sub("removeAll(" + c + ")", () -> rs.removeAll(c), () -> ms.removeIf(in(c)));
                    } else {
                        sub("retainAll(" + c + ")", () -> rs.retainAll(c), () -> ms.removeIf(in(c).negate()));
                    }
                }
                case 12 -> {
                    int from = index(n + 1);
                    int to = from < 0 || from > n ? from : from + d.nextInt(n - from + 1);
                    Outcome inner = subListOutcome(rs, from, to);
                    Outcome model = subListOutcome(ms, from, to);
                    sub("subList(" + from + ", " + to + ")", inner, model);
                    if (inner.thrown() == null) {
                        d.detail("then clear()");
                        ((List<?>) inner.value()).clear();
                        ((List<?>) model.value()).clear();
                    }
                }
                default -> {
                    sub("equals", () -> rs.equals(new ArrayList<>(ms)), () -> true);
                    sub("hashCode()", rs::hashCode, ms::hashCode);
                    sub("toString()", rs::toString, ms::toString);
                    sub("size()", rs::size, ms::size);
                }
            }
        }

        private void sub(String op, Supplier<?> real, Supplier<?> model) {
            d.detail("sublist." + op);
            d.same(op, real, model);
        }

        private void sub(String op, Outcome real, Outcome model) {
            d.detail("sublist." + op);
            d.same(op, real, model);
        }

        /** equals both ways, hashCode and toString against the model. */
        private void compareWhole() {
            List<Object> copy = new ArrayList<>(m);
            same("equals(model copy)", () -> r.equals(copy), () -> true);
            d.same("model copy equals the list", () -> copy.equals(r), () -> true);
            d.same("equals(itself)", () -> r.equals(r), () -> true);
            List<Object> other = new ArrayList<>(m);
            other.add("extra");
            d.same("equals(a longer list)", () -> r.equals(other), () -> false);
            d.same("hashCode()", r::hashCode, m::hashCode);
            d.same("toString()", r::toString, m::toString);
        }

        private void toArrays() {
            same("toArray()", r::toArray, m::toArray);
            d.same("toArray(new Object[0])", () -> r.toArray(new Object[0]), () -> m.toArray(new Object[0]));
            Object[] bigR = filled(m.size() + 2);
            Object[] bigM = filled(m.size() + 2);
            d.same("toArray(a longer array)", () -> r.toArray(bigR) == bigR ? Arrays.asList(bigR) : "a new array",
                    () -> m.toArray(bigM) == bigM ? Arrays.asList(bigM) : "a new array");
        }

        private Object[] filled(int n) {
            Object[] a = new Object[n];
            Arrays.fill(a, "old");
            return a;
        }

        /** A list iterator from a random index, moved at random, with a write now and then. */
        private void listIterator() {
            int at = index(m.size() + 1);
            Outcome ri = Outcome.of(() -> r.listIterator(at));
            Outcome mi = Outcome.of(() -> m.listIterator(at));
            same("listIterator(" + at + ")", ri.thrown() == null ? new Outcome("an iterator", null) : ri,
                    mi.thrown() == null ? new Outcome("an iterator", null) : mi);
            if (ri.thrown() != null) {
                return;
            }
            ListIterator<?> rit = (ListIterator<?>) ri.value();
            @SuppressWarnings("unchecked")
            ListIterator<Object> mit = (ListIterator<Object>) mi.value();
            @SuppressWarnings("unchecked")
            ListIterator<Object> writable = (ListIterator<Object>) rit;
            int moves = 2 + d.nextInt(8);
            for (int k = 0; k < moves; k++) {
                switch (d.nextInt(9)) {
                    case 0, 1 -> it("next()", rit::next, mit::next);
                    case 2 -> it("previous()", rit::previous, mit::previous);
                    case 3 -> it("hasNext()", rit::hasNext, mit::hasNext);
                    case 4 -> it("hasPrevious()", rit::hasPrevious, mit::hasPrevious);
                    case 5 -> it("nextIndex()", rit::nextIndex, mit::nextIndex);
                    case 6 -> it("previousIndex()", rit::previousIndex, mit::previousIndex);
                    case 7 -> it("remove()", () -> done(writable::remove), () -> write(() -> done(mit::remove)));
                    default -> {
                        Object v = d.value(true);
                        if (d.chance(50)) {
                            it("set(" + v + ")", () -> done(() -> writable.set(v)), () -> write(() -> done(() -> mit.set(v))));
                        } else {
                            it("add(" + v + ")", () -> done(() -> writable.add(v)), () -> write(() -> done(() -> mit.add(v))));
                        }
                    }
                }
            }
        }

        /** A plain iterator: part of the way, then remove. */
        private void iterate() {
            Iterator<Object> rit = r.iterator();
            Iterator<Object> mit = m.iterator();
            d.step("iterator()");
            int n = d.nextInt(m.size() + 2);
            for (int k = 0; k < n; k++) {
                it("next()", rit::next, mit::next);
                it("hasNext()", rit::hasNext, mit::hasNext);
            }
            if (d.chance(30)) {
                it("remove()", () -> done(rit::remove), () -> write(() -> done(mit::remove)));
            }
        }

        private void it(String op, Supplier<?> real, Supplier<?> model) {
            d.detail("it." + op);
            d.same(op, real, model);
        }

        /** An iterator write on the model: what {@link #iteratorWrites} says the container does. */
        private Object write(Supplier<?> onModel) {
            if (iteratorWrites() == IteratorWrites.UNSUPPORTED) {
                throw new UnsupportedOperationException("the model: iterators of a snapshot do not write");
            }
            return onModel.get();
        }

        // ---- the model's rules -------------------------------------------------------------------------

        /**
         * Runs a bulk operation on the model as {@code mode} says: {@code op} on a copy that replaces
         * the model only if it succeeds, {@code op} on the model itself, or {@code inOrder} (the default
         * method's element-by-element loop; null where the default method works on a copy).
         */
        private Object bulk(OnFailure mode, List<Object> target, java.util.function.Function<List<Object>, Object> op,
                Supplier<Object> inOrder) {
            if (mode == OnFailure.AS_ARRAYLIST) {
                return op.apply(target);
            }
            if (mode == OnFailure.AS_DEFAULT_METHODS && inOrder != null) {
                return inOrder.get();
            }
            List<Object> copy = new ArrayList<>(target);
            Object result = op.apply(copy);
            target.clear();
            target.addAll(copy);
            return result;
        }

        /** Whether a stored value matches an argument in remove(Object), removeAll and retainAll. */
        private boolean matches(Object stored, Object arg) {
            if (nestedByIdentity() && (stored instanceof List<?> || arg instanceof List<?>)) {
                return false; // decision 145: a nested container matches only its own proxy, never a plain list
            }
            return Objects.equals(stored, arg);
        }

        /** The stored values that removeAll and retainAll match in {@code c}. */
        private Predicate<Object> in(Collection<?> c) {
            return v -> c.stream().anyMatch(a -> bulkRemovalsByIdentity() ? matches(v, a) : Objects.equals(v, a));
        }

        /** The model's indexOf (or lastIndexOf), matching as {@link #searchesByIdentity} says. */
        private int search(Object v, boolean last) {
            if (!searchesByIdentity()) {
                return last ? m.lastIndexOf(v) : m.indexOf(v);
            }
            int found = -1;
            for (int i = 0; i < m.size(); i++) {
                if (matches(m.get(i), v)) {
                    found = i;
                    if (!last) {
                        break;
                    }
                }
            }
            return found;
        }

        private boolean removeFirst(List<Object> l, Object v) {
            for (int i = 0; i < l.size(); i++) {
                if (matches(l.get(i), v)) {
                    l.remove(i);
                    return true;
                }
            }
            return false;
        }

        /**
         * {@code l.subList(from, to)}'s outcome. {@code List.subList}'s Javadoc names IndexOutOfBoundsException
         * for {@code fromIndex > toIndex}, while {@code ArrayList} and {@code AbstractList} (which the remote
         * list extends) throw IllegalArgumentException: both are the java.util behaviour, so the second is
         * counted as the first, for the list under test and for the model alike.
         */
        private static Outcome subListOutcome(List<Object> l, int from, int to) {
            Outcome o = Outcome.of(() -> l.subList(from, to));
            if (o.thrown() instanceof IllegalArgumentException && from > to) {
                IndexOutOfBoundsException same = new IndexOutOfBoundsException("fromIndex=" + from + " > toIndex=" + to);
                same.initCause(o.thrown());
                return new Outcome(null, same);
            }
            return o;
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

        private void same(String op, Outcome real, Outcome model) {
            d.step(op);
            d.same(op, real, model);
        }

        /** An index in {@code [0, bound)} mostly, else one just outside. */
        private int index(int bound) {
            if (d.chance(85) && bound > 0) {
                return d.nextInt(bound);
            }
            return switch (d.nextInt(4)) {
                case 0 -> -1;
                case 1 -> bound;
                case 2 -> bound + 1;
                default -> Integer.MIN_VALUE;
            };
        }

        private List<Object> values(int max) {
            List<Object> c = new ArrayList<>();
            int n = d.nextInt(max + 1);
            for (int i = 0; i < n; i++) {
                c.add(d.value(true));
            }
            return c;
        }
    }
}
