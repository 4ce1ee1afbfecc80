package io.multiproc.shared;

import java.util.Collection;

/**
 * Python's {@code multiprocessing.Array}, by typecode, for people porting code.
 *
 * <pre>{@code
 * SharedNumberArray a = Array.of("d", 10);            // Python: Array('d', 10), zero-filled
 * ((SharedDoubleArray) a).set(0, 1.5);
 * }</pre>
 *
 * <p>Typecodes as {@link Value}: {@code b B c h H i} give a {@link SharedIntArray}, {@code I l q L Q} a
 * {@link SharedLongArray}, {@code f d} a {@link SharedDoubleArray}; others throw IllegalArgumentException.
 * {@link #of(String, Collection)} checks each value against the typecode's range.
 *
 * <pre>{@code
 * SharedNumberArray a = Array.of("h", List.of(1, 2, 3));   // Python: Array('h', [1, 2, 3])
 * }</pre>
 */
public final class Array {
    private Array() {
    }

    /** A zero-filled shared array of {@code length} elements of CPython typecode {@code typecode}. */
    public static SharedNumberArray of(String typecode, int length) {
        return switch (Typecode.of(typecode).kind) {
            case INT -> SharedIntArray.create(length);
            case LONG -> SharedLongArray.create(length);
            case DOUBLE -> SharedDoubleArray.create(length);
        };
    }

    /**
     * A shared array holding {@code values}, like Python's {@code Array(typecode, sequence)}.
     *
     * @throws IllegalArgumentException naming the typecode, or the first value out of the typecode's
     *         range with its index (nothing is created then)
     */
    public static SharedNumberArray of(String typecode, Collection<? extends Number> values) {
        Typecode t = Typecode.of(typecode);
        Number[] v = values.toArray(new Number[0]);
        switch (t.kind) {
            case INT -> {
                int[] a = new int[v.length];
                for (int k = 0; k < v.length; k++) {
                    a[k] = (int) t.toBits(java.util.Objects.requireNonNull(v[k], "values[" + k + "]"), "values[" + k + "]");
                }
                return SharedIntArray.of(a);
            }
            case LONG -> {
                long[] a = new long[v.length];
                for (int k = 0; k < v.length; k++) {
                    a[k] = t.toBits(java.util.Objects.requireNonNull(v[k], "values[" + k + "]"), "values[" + k + "]");
                }
                return SharedLongArray.of(a);
            }
            default -> {
                double[] a = new double[v.length];
                for (int k = 0; k < v.length; k++) {
                    a[k] = t.toDouble(java.util.Objects.requireNonNull(v[k], "values[" + k + "]"), "values[" + k + "]");
                }
                return SharedDoubleArray.of(a);
            }
        }
    }
}
