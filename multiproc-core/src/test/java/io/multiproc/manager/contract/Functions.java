package io.multiproc.manager.contract;

import java.util.Comparator;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The named, deterministic functions the differential suites pass to removeIf, replaceAll, sort,
 * compute and merge. Each gives equal results for equal arguments (a nested container's proxy and the
 * plain list the model holds are equal), some throw or return null on purpose. The name is what a
 * failure message shows.
 */
final class Functions {
    private Functions() {
    }

    /** A function and the name it is shown by. */
    record Named<F>(String name, F f) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Thrown by the functions that fail on purpose: the container must pass it on unchanged. */
    static final class Refused extends IllegalStateException {
        Refused(Object v) {
            super("refused " + v);
        }
    }

    static final List<Named<Predicate<Object>>> PREDICATES = List.of(
            new Named<>("isNull", v -> v == null),
            new Named<>("isEvenInt", v -> v instanceof Integer i && i % 2 == 0),
            new Named<>("isList", v -> v instanceof List<?>),
            new Named<>("isString", v -> v instanceof String),
            new Named<>("isLongRefusingS3", v -> {
                if ("s3".equals(v)) {
                    throw new Refused(v);
                }
                return v instanceof Long;
            }));

    static final List<Named<UnaryOperator<Object>>> OPERATORS = List.of(
            new Named<>("incrementInts", v -> v instanceof Integer i ? i + 1 : v),
            new Named<>("toText", String::valueOf),
            new Named<>("stringsToNull", v -> v instanceof String ? null : v),
            new Named<>("refuseLists", v -> {
                if (v instanceof List<?>) {
                    throw new Refused(v);
                }
                return v instanceof Long l ? l * 2 : v;
            }));

    /** Comparators; null is natural order (ClassCastException on mixed types, NullPointerException on null). */
    static final List<Named<Comparator<Object>>> COMPARATORS = List.of(
            new Named<>("natural", null),
            new Named<>("byText", Comparator.comparing(String::valueOf)),
            new Named<>("byTextReversed", Comparator.comparing(String::valueOf).reversed()),
            new Named<>("byHashRefusingNull", (a, b) -> {
                if (a == null || b == null) {
                    throw new Refused(null);
                }
                return Integer.compare(a.hashCode(), b.hashCode());
            }));

    /** Remapping functions (key, old value) for compute and computeIfPresent; some return null (remove). */
    static final List<Named<BiFunction<Object, Object, Object>>> REMAPPINGS = List.of(
            new Named<>("countInts", (k, v) -> v == null ? 1 : v instanceof Integer i ? i + 1 : null),
            new Named<>("keyText", (k, v) -> String.valueOf(k) + "=" + v),
            new Named<>("alwaysNull", (k, v) -> null),
            new Named<>("keepOrRefuseLists", (k, v) -> {
                if (v instanceof List<?>) {
                    throw new Refused(v);
                }
                return v == null ? "new" : v;
            }));

    /** Mapping functions (key) for computeIfAbsent; some return null (nothing stored). */
    static final List<Named<Function<Object, Object>>> MAPPINGS = List.of(
            new Named<>("keyText", String::valueOf),
            new Named<>("nullForStrings", k -> k instanceof String ? null : 7),
            new Named<>("refuseInts", k -> {
                if (k instanceof Integer) {
                    throw new Refused(k);
                }
                return List.of(String.valueOf(k));
            }));

    /** Merge functions (old, given); some return null (remove). */
    static final List<Named<BiFunction<Object, Object, Object>>> MERGES = List.of(
            new Named<>("sumInts", (a, b) -> a instanceof Integer x && b instanceof Integer y ? x + y : b),
            new Named<>("nullUnlessEqual", (a, b) -> a.equals(b) ? a : null),
            new Named<>("concat", (a, b) -> a + "+" + b),
            new Named<>("refuseLongs", (a, b) -> {
                if (a instanceof Long) {
                    throw new Refused(a);
                }
                return b;
            }));

    static <F> Named<F> pick(Differential d, List<Named<F>> from) {
        return from.get(d.nextInt(from.size()));
    }
}
