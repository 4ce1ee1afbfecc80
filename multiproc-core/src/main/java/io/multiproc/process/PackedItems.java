package io.multiproc.process;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;

import java.util.AbstractList;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.function.IntFunction;

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
        Class<?> type = items.getFirst() == null ? null : items.getFirst().getClass();
        return type == Integer.class || type == Long.class || type == Double.class ? packed(items, n, type) : items;
    }

    /** What {@link #pack} made, as a List (a packed array boxes its elements on access). */
    static List<?> unpack(Object payload) {
        return switch (payload) {
            case List<?> list -> list;
            case int[] a -> new Boxed(a.length, i -> a[i]);
            case long[] a -> new Boxed(a.length, i -> a[i]);
            case double[] a -> new Boxed(a.length, i -> a[i]);
            case null, default -> throw new IllegalStateException("a map chunk holds a "
                    + (payload == null ? "null" : payload.getClass().getName()) + ", not a List or a packed array");
        };
    }

    // NOTE: iterate, never get(i): the items may be a LinkedList's subList. A size that changes while
    // packing (another thread) falls back to the List, and the codec then reports it.

    private static Object packed(List<?> items, int n, Class<?> type) {
        Object array = type == Integer.class ? new int[n] : type == Long.class ? new long[n] : new double[n];
        int i = 0;
        for (Object o : items) {
            if (i == n || o == null || o.getClass() != type) {
                return items;
            }
            switch (o) {
                case Integer v -> ((int[]) array)[i] = v;
                case Long v -> ((long[]) array)[i] = v;
                default -> ((double[]) array)[i] = (Double) o;
            }
            i++;
        }
        return i == n ? array : items;
    }

    /** A packed array as a List: element {@code i} is {@code at.apply(i)}, boxed on access. */
    private static final class Boxed extends AbstractList<Object> implements RandomAccess {
        private final int size;
        private final IntFunction<Object> at;

        Boxed(int size, IntFunction<Object> at) {
            this.size = size;
            this.at = at;
        }

        @Override
        public Object get(int i) {
            Objects.checkIndex(i, size);
            return at.apply(i);
        }

        @Override
        public int size() {
            return size;
        }
    }
}
