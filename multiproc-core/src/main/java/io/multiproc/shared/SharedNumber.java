package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.foreign.MemorySegment;

/**
 * A single number in shared memory: the common supertype of {@link SharedInt}, {@link SharedLong} and
 * {@link SharedDouble}, and what {@link Value#of(String, Number)} returns.
 *
 * <pre>{@code
 * SharedNumber v = Value.of("i", 0);   // like Python's Value('i', 0)
 * v.setValue(5);
 * int n = ((SharedInt) v).incrementAndGet();
 * }</pre>
 */
public abstract sealed class SharedNumber extends SharedObject permits SharedInt, SharedLong, SharedDouble {

    SharedNumber(SharedSegments.Mapping mapping, NumberKind kind) {
        super(mapping, kind);
    }

    /** The value, boxed (like Python's {@code .value}); prefer the typed {@code get()} on hot paths. */
    public abstract Number getValue();

    /** Sets the value from any Number, narrowing as a Java cast would. */
    public abstract void setValue(Number value);

    /** The bytes of the value itself (4 or 8, naturally aligned). */
    public final MemorySegment segment() {
        ensureOpen();
        return whole.asSlice(SharedValueLayout.VALUE_OFFSET, kind.bytes());
    }

    @Override
    final long lockOffset() {
        return SharedValueLayout.LOCK_OFFSET;
    }

    @Override
    final boolean isArray() {
        return false;
    }

    static SharedSegments.Mapping create(NumberKind kind, java.util.function.Consumer<MemorySegment> init) {
        return SharedObject.create(SharedValueLayout.MAGIC, SharedValueLayout.VERSION, kind,
                SharedValueLayout.TOTAL_SIZE, init);
    }

    static SharedNumber attach(String name, NumberKind kind) {
        SharedSegments.Mapping m = SharedObject.attach(name, "Shared" + kind.name().charAt(0)
                + kind.name().substring(1).toLowerCase(java.util.Locale.ROOT), SharedValueLayout.MAGIC,
                SharedValueLayout.VERSION, kind);
        return switch (kind) {
            case INT -> new SharedInt(m);
            case LONG -> new SharedLong(m);
            case DOUBLE -> new SharedDouble(m);
        };
    }
}
