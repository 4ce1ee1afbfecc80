package io.multiproc.shared;

/**
 * Python's {@code multiprocessing.Array}, by typecode, for people porting code.
 *
 * <pre>{@code
 * SharedNumberArray a = Array.of("d", 10);            // Python: Array('d', 10), zero-filled
 * ((SharedDoubleArray) a).set(0, 1.5);
 * }</pre>
 *
 * <p>Typecodes: {@code i} gives a {@link SharedIntArray}, {@code l} and {@code q} a
 * {@link SharedLongArray}, {@code d} a {@link SharedDoubleArray}; others throw IllegalArgumentException.
 */
public final class Array {
    private Array() {
    }

    public static SharedNumberArray of(String typecode, int length) {
        return switch (NumberKind.ofTypecode(typecode)) {
            case INT -> SharedIntArray.create(length);
            case LONG -> SharedLongArray.create(length);
            case DOUBLE -> SharedDoubleArray.create(length);
        };
    }
}
