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
     * An {@link java.util.OptionalInt}, {@link java.util.OptionalLong} or {@link java.util.OptionalDouble}
     * in a JDK stream.
     *
     * @param kind 'I', 'L' or 'D'
     * @param present whether it holds a value
     * @param bits its value (a double's raw bits; 0 when empty)
     */
    record OfPrimitive(char kind, boolean present, long bits) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        /** The stand-in of {@code o}, one of the three primitive optionals. */
        static OfPrimitive of(Object o) {
            return switch (o) {
                case java.util.OptionalInt i -> new OfPrimitive('I', i.isPresent(), i.orElse(0));
                case java.util.OptionalLong l -> new OfPrimitive('L', l.isPresent(), l.orElse(0));
                case java.util.OptionalDouble d -> new OfPrimitive('D', d.isPresent(),
                        Double.doubleToRawLongBits(d.orElse(0)));
                default -> throw new IllegalArgumentException("object=" + o.getClass().getName()
                        + " is no primitive Optional");
            };
        }

        @Serial
        private Object readResolve() throws java.io.InvalidObjectException {
            return switch (kind) {
                case 'I' -> present ? java.util.OptionalInt.of((int) bits) : java.util.OptionalInt.empty();
                case 'L' -> present ? java.util.OptionalLong.of(bits) : java.util.OptionalLong.empty();
                case 'D' -> present ? java.util.OptionalDouble.of(Double.longBitsToDouble(bits))
                        : java.util.OptionalDouble.empty();
                default -> throw new java.io.InvalidObjectException("kind=" + kind
                        + " of a primitive Optional is none of I, L, D");
            };
        }
    }
}
