package io.multiproc.manager.remote;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The one walk over a value that both ends of a remote connection need: containers travel as
 * {@link RemoteRef}s, also inside plain lists, sets and maps, so the client turns its proxies into refs
 * and the server turns refs into its containers.
 */
final class PlainValues {
    private PlainValues() {
    }

    /**
     * {@code v} with {@code leaf} applied first to {@code v} itself and, where {@code leaf} leaves a
     * value unchanged, to the elements, keys and values of plain lists, sets and maps, rebuilt (a list or
     * map of scalars only is returned as it is: callers encode it or hand it on, never change it).
     */
    static Object map(Object v, UnaryOperator<Object> leaf) {
        if (isScalar(v)) {
            return v; // the common case of a batch's keys and values: nothing to walk, no leaf call
        }
        Object r = leaf.apply(v);
        if (r != v) {
            return r;
        }
        return switch (v) {
            case List<?> l when allScalar(l) -> l;
            case List<?> l -> {
                List<Object> c = new ArrayList<>(l.size());
                for (Object e : l) {
                    c.add(map(e, leaf));
                }
                yield c;
            }
            case Set<?> s -> {
                Set<Object> c = new LinkedHashSet<>();
                for (Object e : s) {
                    c.add(map(e, leaf));
                }
                yield c;
            }
            case Map<?, ?> m when allScalar(m) -> m; // a putAll of plain entries: no copy of 10,000 entries
            case Map<?, ?> m -> {
                Map<Object, Object> c = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    c.put(map(e.getKey(), leaf), map(e.getValue(), leaf));
                }
                yield c;
            }
            case null, default -> v;
        };
    }

    /**
     * Whether a batch's collection can be encoded as the caller passed it instead of copied first (a
     * copy of 10,000 entries cost ~0.5 ms): a JDK class the codec writes, and not a concurrent one,
     * which another thread may change while it is encoded (the codec refuses a count that changed).
     */
    static boolean encodableAsIs(Object c) {
        Class<?> type = c.getClass();
        return type.getClassLoader() == null && !type.getPackageName().equals("java.util.concurrent");
    }

    /** Values the walk never changes: not a container, a ref, nor anything holding one. */
    static boolean isScalar(Object v) {
        return v == null || v instanceof String || v instanceof Integer || v instanceof Long || v instanceof Double
                || v instanceof Boolean || v instanceof Short || v instanceof Byte || v instanceof Float || v instanceof Character;
    }

    private static boolean allScalar(List<?> l) {
        for (Object e : l) {
            if (!isScalar(e)) {
                return false;
            }
        }
        return true;
    }

    private static boolean allScalar(Map<?, ?> m) {
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!isScalar(e.getKey()) || !isScalar(e.getValue())) {
                return false;
            }
        }
        return true;
    }
}
