package io.multiproc.codec;

import java.lang.foreign.MemorySegment;

/**
 * Where a {@link Codec} reads: the bytes of one encoded value. Little-endian, like {@link ByteSink}.
 * Reading past the end throws {@link CodecException}.
 *
 * <pre>{@code
 * ByteSource in = SegmentSource.of(bytes);
 * int n = in.readInt();
 * }</pre>
 */
public interface ByteSource {
    byte readByte();

    int readInt();

    long readLong();

    default short readShort() {
        return (short) ((readByte() & 0xff) | (readByte() & 0xff) << 8);
    }

    default float readFloat() {
        return Float.intBitsToFloat(readInt());
    }

    default double readDouble() {
        return Double.longBitsToDouble(readLong());
    }

    void readFully(byte[] dst, int offset, int length);

    /** Copies the next {@code length} bytes into {@code dst} at {@code offset} (bulk primitive arrays). */
    void readFully(MemorySegment dst, long offset, long length);

    /** Bytes left to read. */
    long remaining();
}
