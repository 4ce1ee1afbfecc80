package io.multiproc.codec;

import java.lang.foreign.MemorySegment;

/**
 * Where a {@link Codec} writes. Multi-byte values are little-endian (the byte order of x86_64 and
 * aarch64, and of Python's {@code struct} with {@code '<'}).
 *
 * <pre>{@code
 * BufferSink sink = new BufferSink(256);
 * sink.writeInt(42);
 * sink.write(new byte[] {1, 2, 3});
 * }</pre>
 */
public interface ByteSink {
    void writeByte(int value);

    void writeInt(int value);

    void writeLong(long value);

    default void writeShort(int value) {
        writeByte(value);
        writeByte(value >>> 8);
    }

    default void writeFloat(float value) {
        writeInt(Float.floatToRawIntBits(value));
    }

    default void writeDouble(double value) {
        writeLong(Double.doubleToRawLongBits(value));
    }

    void write(byte[] src, int offset, int length);

    default void write(byte[] src) {
        write(src, 0, src.length);
    }

    /** Copies {@code length} bytes of {@code src} from {@code offset} (bulk primitive arrays). */
    void write(MemorySegment src, long offset, long length);

    /** Bytes written so far. */
    long position();
}
