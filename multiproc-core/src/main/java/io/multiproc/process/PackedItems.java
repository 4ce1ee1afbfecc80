package io.multiproc.process;

import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.function.Function;

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
 * <p>The per-item loop here ({@link #applyPacked}) is what a worker's first chunk runs before the JIT
 * has compiled it; the parent keeps packed results packed ({@link MapResults}). The loop is one
 * counted loop per element type, with plain class checks (no pattern {@code switch}, whose
 * {@code invokedynamic} costs a bootstrap and, interpreted, method-handle calls per item) and no
 * iterator or boxing view in between, so an interpreted item costs a few calls (decision 113).
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
        Class<?> type = first == null ? null : first.getClass();
        Object packed = type == Integer.class ? packInts(items, n) : type == Long.class ? packLongs(items, n)
                : type == Double.class ? packDoubles(items, n) : null;
        return packed != null ? packed : items;
    }

    /** What {@link #pack} made, as a List (a packed array boxes its elements on access). */
    static List<?> unpack(Object payload) {
        if (payload instanceof List<?> list) {
            return list;
        }
        if (payload instanceof int[] || payload instanceof long[] || payload instanceof double[]) {
            return new Boxed(payload);
        }
        throw new IllegalStateException("a map chunk holds a " + (payload == null ? "null" : payload.getClass().getName())
                + ", not a List or a packed array");
    }

    /** Element {@code i} of an int[], long[] or double[] (boxed), or of an Object[]; no index check beyond the array's. */
    static Object element(Object array, int i) {
        if (array instanceof int[] a) {
            return a[i];
        }
        if (array instanceof long[] a) {
            return a[i];
        }
        if (array instanceof double[] a) {
            return a[i];
        }
        return ((Object[]) array)[i];
    }

    /** The packed array behind {@link #unpack}'s List, or null if it is a List of objects. */
    static Object packedArray(List<?> values) {
        return values instanceof Boxed b ? b.array : null;
    }

    // NOTE: iterate, never get(i): the items may be a LinkedList's subList. A size that changes while
    // packing (another thread) falls back to the List (null here), and the codec then reports it.

    private static int[] packInts(List<?> items, int n) {
        int[] a = new int[n];
        int i = 0;
        for (Object o : items) {
            if (i == n || o == null || o.getClass() != Integer.class) {
                return null;
            }
            a[i++] = (Integer) o;
        }
        return i == n ? a : null;
    }

    private static long[] packLongs(List<?> items, int n) {
        long[] a = new long[n];
        int i = 0;
        for (Object o : items) {
            if (i == n || o == null || o.getClass() != Long.class) {
                return null;
            }
            a[i++] = (Long) o;
        }
        return i == n ? a : null;
    }

    private static double[] packDoubles(List<?> items, int n) {
        double[] a = new double[n];
        int i = 0;
        for (Object o : items) {
            if (i == n || o == null || o.getClass() != Double.class) {
                return null;
            }
            a[i++] = (Double) o;
        }
        return i == n ? a : null;
    }

    /**
     * A worker's map loop: {@code f} applied to every item of a chunk's payload (a List or a packed
     * array), the results in order and ready for the wire: packed as {@link #pack} would pack them, else
     * a List. One counted loop per payload kind, nothing between the item and {@code f} but the store.
     * <p>Why the apply and the packing are one loop: a chunk's results were first an {@code Object[]} of
     * boxed results, all alive until packed. A fresh worker's young generation is small, so its first
     * chunks' garbage collections copied every one of them (one to three pauses of 8-31 ms per worker in
     * a first map). Unboxed into the packed array at once, each result dies young and a collection
     * copies almost nothing.
     */
    static Object applyPacked(Codec codec, Function<Object, Object> f, Object payload) {
        if (payload instanceof int[] a) {
            Results out = new Results(codec, a.length);
            for (int i = 0; i < a.length; i++) {
                out.set(i, f.apply(a[i]));
            }
            return out.wire();
        }
        if (payload instanceof long[] a) {
            Results out = new Results(codec, a.length);
            for (int i = 0; i < a.length; i++) {
                out.set(i, f.apply(a[i]));
            }
            return out.wire();
        }
        if (payload instanceof double[] a) {
            Results out = new Results(codec, a.length);
            for (int i = 0; i < a.length; i++) {
                out.set(i, f.apply(a[i]));
            }
            return out.wire();
        }
        List<?> items = unpack(payload);
        Results out = new Results(codec, items.size());
        int i = 0;
        for (Object item : items) {
            out.set(i++, f.apply(item));
        }
        return out.wire();
    }

    /**
     * A chunk's results as they are produced, in the packed array that the first result's type chose
     * (int[], long[], double[]) until a result of another type (or null) comes: from then on boxed in an
     * Object[]. Only with a {@link BuiltinCodec}; a user's codec always gets the Object[] as a List.
     */
    private static final class Results {
        private final int n;
        private final boolean packable;
        private int[] ints;
        private long[] longs;
        private double[] doubles;
        private Object[] objects;

        Results(Codec codec, int n) {
            this.n = n;
            this.packable = codec instanceof BuiltinCodec;
        }

        void set(int i, Object r) {
            if (ints != null) {
                if (r instanceof Integer v) {
                    ints[i] = v;
                    return;
                }
                spill(i);
            } else if (longs != null) {
                if (r instanceof Long v) {
                    longs[i] = v;
                    return;
                }
                spill(i);
            } else if (doubles != null) {
                if (r instanceof Double v) {
                    doubles[i] = v;
                    return;
                }
                spill(i);
            } else if (objects == null) {
                choose(r);
                set(i, r);
                return;
            }
            objects[i] = r;
        }

        /** The first result's array. */
        private void choose(Object r) {
            if (packable && r instanceof Integer) {
                ints = new int[n];
            } else if (packable && r instanceof Long) {
                longs = new long[n];
            } else if (packable && r instanceof Double) {
                doubles = new double[n];
            } else {
                objects = new Object[n];
            }
        }

        /** The first {@code done} results boxed into an Object[], which takes every later one. */
        private void spill(int done) {
            objects = new Object[n];
            Boxed sofar = new Boxed(ints != null ? ints : longs != null ? longs : doubles);
            for (int k = 0; k < done; k++) {
                objects[k] = sofar.get(k);
            }
            ints = null;
            longs = null;
            doubles = null;
        }

        Object wire() {
            Object packed = ints != null ? ints : longs != null ? longs : doubles;
            return packed != null ? packed : Arrays.asList(objects != null ? objects : new Object[0]);
        }
    }

    /** A packed array as a List: its elements boxed on access. */
    private static final class Boxed extends AbstractList<Object> implements RandomAccess {
        /** An int[], long[] or double[]. */
        private final Object array;
        private final int size;

        Boxed(Object array) {
            this.array = array;
            this.size = java.lang.reflect.Array.getLength(array);
        }

        @Override
        public Object get(int i) {
            Objects.checkIndex(i, size);
            return element(array, i);
        }

        @Override
        public int size() {
            return size;
        }
    }
}
