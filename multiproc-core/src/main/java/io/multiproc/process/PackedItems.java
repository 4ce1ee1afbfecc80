package io.multiproc.process;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A map chunk's items, or its results, as they travel between a {@link Pool} and its workers: a List
 * whose elements are all {@code Integer} (all {@code Long}, all {@code Double}) travels as an
 * {@code int[]} ({@code long[]}, {@code double[]}), which the built-in codec copies in bulk (4 or 8
 * bytes an item, no tag, no per-item dispatch); any other List travels as it is. The receiver turns a
 * packed array back into a List that boxes on access ({@link #unpack}).
 *
 * <pre>{@code
 * Object wire = PackedItems.pack(codec, List.of(1, 2, 3));   // int[] {1, 2, 3}
 * List<?> items = PackedItems.unpack(wire);                  // [1, 2, 3] (Integers)
 * }</pre>
 *
 * Why: {@code map(x -> x * x, 1,000,000 Integers)} spent most of a first map in per-item encode and
 * decode code that the JIT had not compiled yet, on both sides; a packing loop is one small method that
 * on-stack replacement compiles within the first thousands of items, and the bulk copy needs no JIT at
 * all. Unambiguous on the wire: a map chunk's payload is otherwise always a List. Only with a
 * {@link BuiltinCodec}: a user's codec may not know primitive arrays.
 */
final class PackedItems {
    private PackedItems() {
    }

    /** {@code items} as a primitive array when every element has the same packable type, else {@code items}. */
    static Object pack(Codec codec, List<?> items) {
        int n = items.size();
        if (n == 0 || !(codec instanceof BuiltinCodec)) {
            return items;
        }
        Object first = items.getFirst();
        if (first instanceof Integer) {
            return ints(items, n);
        }
        if (first instanceof Long) {
            return longs(items, n);
        }
        if (first instanceof Double) {
            return doubles(items, n);
        }
        return items;
    }

    /** What {@link #pack} made, as a List (a packed array boxes its elements on access). */
    static List<?> unpack(Object payload) {
        return switch (payload) {
            case List<?> list -> list;
            case int[] a -> new Ints(a);
            case long[] a -> new Longs(a);
            case double[] a -> new Doubles(a);
            case null, default -> throw new IllegalStateException("a map chunk holds a "
                    + (payload == null ? "null" : payload.getClass().getName()) + ", not a List or a packed array");
        };
    }

    // NOTE: iterate, never get(i): the items may be a LinkedList's subList. A size that changes while
    // packing (another thread) falls back to the List, and the codec then reports it.

    private static Object ints(List<?> items, int n) {
        int[] a = new int[n];
        int i = 0;
        for (Object o : items) {
            if (i == n || !(o instanceof Integer v)) {
                return items;
            }
            a[i++] = v;
        }
        return i == n ? a : items;
    }

    private static Object longs(List<?> items, int n) {
        long[] a = new long[n];
        int i = 0;
        for (Object o : items) {
            if (i == n || !(o instanceof Long v)) {
                return items;
            }
            a[i++] = v;
        }
        return i == n ? a : items;
    }

    private static Object doubles(List<?> items, int n) {
        double[] a = new double[n];
        int i = 0;
        for (Object o : items) {
            if (i == n || !(o instanceof Double v)) {
                return items;
            }
            a[i++] = v;
        }
        return i == n ? a : items;
    }

    private static final class Ints extends AbstractList<Integer> implements RandomAccess {
        private final int[] a;

        Ints(int[] a) {
            this.a = a;
        }

        @Override
        public Integer get(int i) {
            return a[i];
        }

        @Override
        public int size() {
            return a.length;
        }
    }

    private static final class Longs extends AbstractList<Long> implements RandomAccess {
        private final long[] a;

        Longs(long[] a) {
            this.a = a;
        }

        @Override
        public Long get(int i) {
            return a[i];
        }

        @Override
        public int size() {
            return a.length;
        }
    }

    private static final class Doubles extends AbstractList<Double> implements RandomAccess {
        private final double[] a;

        Doubles(double[] a) {
            this.a = a;
        }

        @Override
        public Double get(int i) {
            return a[i];
        }

        @Override
        public int size() {
            return a.length;
        }
    }
}
