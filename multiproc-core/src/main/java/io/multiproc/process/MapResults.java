package io.multiproc.process;

import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * The List that {@link Pool#map} returns: each chunk's results as they came back, a packed chunk
 * ({@code int[]}, {@code long[]}, {@code double[]}: every result of the chunk an Integer, Long or Double)
 * kept packed and boxed on access. Like {@code Arrays.asList}: fixed size, {@link #set} allowed.
 *
 * <pre>{@code
 * List<Integer> squares = pool.map(x -> x * x, items);   // 1,000,000 results: 4 MB, not ~20 MB of Integers
 * int sum = 0;
 * for (int s : squares) sum += s;                          // boxing on access, elided once compiled
 * squares.set(0, -1);                                      // an Integer stays packed; any other value boxes that chunk
 * }</pre>
 *
 * Why: boxing a million results into an {@code Object[]} as the replies came made the caller allocate
 * ~20 MB per map on the pool's reader threads, and a young collection landing in a map copied whatever
 * results were alive (33-55 ms pauses in a started pool's first map, BENCHMARKS.md). Packed, a map's
 * results are 4 bytes an int and die or survive as a few arrays.
 * <p>Not thread-safe for writes, as {@code Arrays.asList} is not. {@link #get} boxes each time: two gets
 * of the same large value are equal, not identical. Serializes as an {@code ArrayList}.
 */
final class MapResults extends AbstractList<Object> implements RandomAccess, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private final int size;
    private final int chunkSize;
    /**
     * Per chunk its results: an int[], long[], double[] or Object[]. Each is written once by the reader
     * thread that handled the chunk's reply, under the job's monitor; the caller reads them after the
     * map's future completed (CompletableFuture's completion orders the writes before).
     */
    private final Object[] parts;

    MapResults(int size, int chunkSize) {
        this.size = size;
        this.chunkSize = chunkSize;
        this.parts = new Object[(int) ((size + (long) chunkSize - 1) / chunkSize)];
    }

    /** Takes chunk {@code index}'s results ({@link PackedItems#unpack}'s List): its packed array, else a copy. */
    void put(int index, List<?> values) {
        Object packed = PackedItems.packedArray(values);
        parts[index] = packed != null ? packed : values.toArray();
    }

    @Override
    public Object get(int i) {
        Objects.checkIndex(i, size);
        return PackedItems.element(parts[i / chunkSize], i % chunkSize);
    }

    @Override
    public Object set(int i, Object value) {
        Object old = get(i);
        int c = i / chunkSize;
        int k = i % chunkSize;
        Object part = parts[c];
        if (part instanceof int[] a && value instanceof Integer v) {
            a[k] = v;
        } else if (part instanceof long[] a && value instanceof Long v) {
            a[k] = v;
        } else if (part instanceof double[] a && value instanceof Double v) {
            a[k] = v;
        } else {
            Object[] boxed = part instanceof Object[] o ? o : PackedItems.unpack(part).toArray();
            boxed[k] = value;
            parts[c] = boxed;
        }
        return old;
    }

    @Override
    public int size() {
        return size;
    }

    @Serial
    private Object writeReplace() {
        return new ArrayList<>(this);
    }
}
