package io.multiproc.shared;

/**
 * Python's {@code multiprocessing.Value}, by typecode, for people porting code.
 *
 * <pre>{@code
 * SharedNumber counter = Value.of("i", 0);            // Python: Value('i', 0)
 * ((SharedInt) counter).incrementAndGet();            // atomic, no get_lock() needed
 * }</pre>
 *
 * <p>Typecodes: {@code i} gives a {@link SharedInt}, {@code l} and {@code q} a {@link SharedLong}
 * (64-bit, as on Linux), {@code d} a {@link SharedDouble}; others throw IllegalArgumentException.
 */
public final class Value {
    private Value() {
    }

    public static SharedNumber of(String typecode, Number initial) {
        java.util.Objects.requireNonNull(initial, "initial");
        return switch (NumberKind.ofTypecode(typecode)) {
            case INT -> SharedInt.create(initial.intValue());
            case LONG -> SharedLong.create(initial.longValue());
            case DOUBLE -> SharedDouble.create(initial.doubleValue());
        };
    }
}
