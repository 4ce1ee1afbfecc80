package io.multiproc.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
    /** The segment's backing array when it is a heap byte[] segment (strings decode in place), else null. */
    private byte[] heap;
    /** Reused for strings read out of off-heap memory. */
    private byte[] scratch;
    private static final int MAX_SCRATCH = 4096;

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
        this.heap = !segment.isNative() && segment.heapBase().orElse(null) instanceof byte[] a ? a : null;
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

    /** Reads {@code n} bytes of UTF-8 as a String, without an intermediate copy where it can. */
    String readUtf8(int n) {
        long p = take(n);
        byte[] a = heap;
        if (a != null) {
            // NOTE: for a heap segment, address() is the offset of its first byte in the array
            return new String(a, (int) (segment.address() + p), n, StandardCharsets.UTF_8);
        }
        byte[] buf = scratch;
        if (buf == null || buf.length < n) {
            buf = new byte[n];
            if (n <= MAX_SCRATCH) {
                scratch = buf;
            }
        }
        MemorySegment.copy(segment, JAVA_BYTE, p, buf, 0, n);
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    /** {@link ClassNames#hash} of the next {@code n} bytes, not consuming them. */
    int hashNext(int n) {
        if (n < 0 || n > limit - position) {
            throw new CodecException("truncated input: need " + n + " more bytes, " + (limit - position) + " left");
        }
        return ClassNames.hash(segment, position, n);
    }

    /** Consumes the next bytes if they are {@code expected}; else reads nothing and returns false. */
    boolean skipIfNext(byte[] expected) {
        int n = expected.length;
        if (n > limit - position) {
            return false;
        }
        byte[] a = heap;
        if (a != null) {
            int from = (int) (segment.address() + position);
            if (!Arrays.equals(a, from, from + n, expected, 0, n)) {
                return false;
            }
        } else {
            for (int i = 0; i < n; i++) {
                if (segment.get(JAVA_BYTE, position + i) != expected[i]) {
                    return false;
                }
            }
        }
        position += n;
        return true;
    }

    @Override
    public long remaining() {
        return limit - position;
    }
}
