package io.multiproc.shared;

/**
 * Python's {@code multiprocessing.Value}, by typecode, for people porting code.
 *
 * <pre>{@code
 * SharedNumber counter = Value.of("i", 0);            // Python: Value('i', 0)
 * ((SharedInt) counter).incrementAndGet();            // atomic, no get_lock() needed
 * }</pre>
 *
 * <p>Typecodes: {@code b B c h H i} give a {@link SharedInt}, {@code I l q L Q} a {@link SharedLong}
 * (64-bit, as on Linux), {@code f d} a {@link SharedDouble}. The typecode's C range is checked for the
 * initial value ({@code Value.of("i", 5_000_000_000L)} throws, naming the value and the range); later
 * writes are the Java type's arithmetic. {@code f} rounds to float precision; {@code L Q} store the
 * two's-complement bits of values up to 2^64-1 (read them with {@link Long#toUnsignedString(long)}).
 * Other typecodes throw IllegalArgumentException. See docs/decisions/057.
 */
public final class Value {
    private Value() {
    }

    /**
     * A new shared number of CPython typecode {@code typecode} holding {@code initial}.
     *
     * @throws IllegalArgumentException naming the typecode, or the value and the typecode's range
     */
    public static SharedNumber of(String typecode, Number initial) {
        java.util.Objects.requireNonNull(initial, "initial");
        Typecode t = Typecode.of(typecode);
        return switch (t.kind) {
            case INT -> SharedInt.create((int) t.toBits(initial, "initial"));
            case LONG -> SharedLong.create(t.toBits(initial, "initial"));
            case DOUBLE -> SharedDouble.create(t.toDouble(initial, "initial"));
        };
    }
}
