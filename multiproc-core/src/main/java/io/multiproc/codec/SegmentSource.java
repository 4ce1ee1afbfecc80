package io.multiproc.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A {@link ByteSource} over a region of a {@link MemorySegment} (shared memory, or a heap array through
 * {@link #of(byte[])}). Reusable: {@link #reset} points it at the next region without allocating.
 *
 * <pre>{@code
 * SegmentSource in = new SegmentSource();
 * in.reset(ring, itemOffset, itemLength);
 * Object item = codec.decode(in);
 * }</pre>
 *
 * <p>Not thread-safe: one source per thread.
 */
public final class SegmentSource implements ByteSource {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private MemorySegment segment = MemorySegment.NULL;
    private long position;
    private long limit;

    public SegmentSource() {
    }

    /** A source over all of {@code bytes}. */
    public static SegmentSource of(byte[] bytes) {
        SegmentSource s = new SegmentSource();
        s.reset(MemorySegment.ofArray(bytes), 0, bytes.length);
        return s;
    }

    /** Reads {@code length} bytes of {@code segment} starting at {@code offset} next. */
    public SegmentSource reset(MemorySegment segment, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > segment.byteSize()) {
            throw new IndexOutOfBoundsException("offset=" + offset + ", length=" + length + " outside a segment of "
                    + segment.byteSize() + " bytes");
        }
        this.segment = segment;
        this.position = offset;
        this.limit = offset + length;
        return this;
    }

    private long take(long n) {
        long p = position;
        if (n < 0 || n > limit - p) {
            throw new CodecException("truncated input: need " + n + " more bytes, " + (limit - p) + " left");
        }
        position = p + n;
        return p;
    }

    @Override
    public byte readByte() {
        return segment.get(JAVA_BYTE, take(1));
    }

    @Override
    public int readInt() {
        return segment.get(INT, take(4));
    }

    @Override
    public long readLong() {
        return segment.get(LONG, take(8));
    }

    @Override
    public void readFully(byte[] dst, int offset, int length) {
        MemorySegment.copy(segment, JAVA_BYTE, take(length), dst, offset, length);
    }

    @Override
    public void readFully(MemorySegment dst, long offset, long length) {
        MemorySegment.copy(segment, take(length), dst, offset, length);
    }

    @Override
    public long remaining() {
        return limit - position;
    }
}
