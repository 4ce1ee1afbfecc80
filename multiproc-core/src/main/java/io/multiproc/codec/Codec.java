package io.multiproc.codec;

/**
 * How objects become bytes and back: the one serialization seam of multiproc. Queues, pipes, child
 * tasks and the manager all go through a {@code Codec}.
 *
 * <pre>{@code
 * Codec codec = Codec.defaultCodec();
 * BufferSink out = new BufferSink(64);
 * codec.encode(List.of(1, "two", 3.0), out);
 * Object back = codec.decode(SegmentSource.of(out.toByteArray()));
 * }</pre>
 *
 * <p>Contract for implementations: {@link #encode} either writes one complete value or throws
 * {@link CodecException} naming the class it could not write (callers encode into a scratch
 * {@link BufferSink} first, so a failed encode leaves shared memory untouched). {@link #decode} reads
 * exactly the bytes one {@code encode} wrote, and throws {@link CodecException} on malformed input
 * without reading past {@link ByteSource#remaining()}. Implementations are thread-safe.
 */
public interface Codec {

    /** Writes {@code value} (which may be null) to {@code out}. */
    void encode(Object value, ByteSink out);

    /**
     * Writes {@code value} for a lookup by bytes (a hash table's key): values equal by {@code equals} should
     * write equal bytes, and {@link #decode} reads it back. This default is {@link #encode}; the
     * {@link BuiltinCodec} writes Sets and Maps in a canonical order and NaN as its canonical bits.
     */
    default void encodeKey(Object value, ByteSink out) {
        encode(value, out);
    }

    /** Reads one value that {@link #encode} wrote. */
    Object decode(ByteSource in);

    /**
     * The codec multiproc uses unless told otherwise: a {@link BuiltinCodec} with its default
     * allow-list and limits.
     */
    static Codec defaultCodec() {
        return DefaultCodecHolder.DEFAULT;
    }
}
