package io.multiproc.codec;

import java.io.Serial;
import java.io.Serializable;
import java.util.Optional;

/**
 * An {@link Optional} inside a JDK serialization stream (a serializable lambda's captured argument): the
 * JDK refuses the Optional itself, which is not Serializable, so {@link JavaSerialization} writes this
 * stand-in, and reading it back gives the Optional. The built-in codec's own format writes an Optional
 * natively ({@link WireFormat}, tag 0x2C).
 *
 * <pre>{@code
 * Optional<String> user = Optional.of("ada");
 * ChildProcess.start(() -> greet(user));   // the lambda's stream holds SerializedOptional
 * }</pre>
 *
 * @param value the content, null for an empty Optional
 */
record SerializedOptional(Object value) implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    @Serial
    private Object readResolve() {
        return Optional.ofNullable(value);
    }

    /**
     * An {@link java.util.OptionalInt} in a JDK stream.
     *
     * @param present whether it holds a value
     * @param value its value (0 when empty)
     */
    record OfInt(boolean present, int value) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        @Serial
        private Object readResolve() {
            return present ? java.util.OptionalInt.of(value) : java.util.OptionalInt.empty();
        }
    }

    /**
     * An {@link java.util.OptionalLong} in a JDK stream.
     *
     * @param present whether it holds a value
     * @param value its value (0 when empty)
     */
    record OfLong(boolean present, long value) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        @Serial
        private Object readResolve() {
            return present ? java.util.OptionalLong.of(value) : java.util.OptionalLong.empty();
        }
    }

    /**
     * An {@link java.util.OptionalDouble} in a JDK stream.
     *
     * @param present whether it holds a value
     * @param value its value (0 when empty)
     */
    record OfDouble(boolean present, double value) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        @Serial
        private Object readResolve() {
            return present ? java.util.OptionalDouble.of(value) : java.util.OptionalDouble.empty();
        }
    }
}
