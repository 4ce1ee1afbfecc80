package io.multiproc.codec;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A growable, reusable {@link ByteSink} over a heap array: encode into it, then copy the bytes where
 * they go (a queue's ring, a pipe, a socket) in one bulk copy. {@link #reset()} keeps the array, so a
 * sink kept per thread makes encoding allocation-free once it has grown to the largest item.
 *
 * <pre>{@code
 * BufferSink sink = new BufferSink(256);
 * codec.encode(item, sink);
 * MemorySegment.copy(sink.segment(), 0, ring, offset, sink.size());
 * sink.reset();
 * }</pre>
 *
 * <p>Not thread-safe: one sink per thread.
 */
public final class BufferSink implements ByteSink {
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** Arrays above this cannot be allocated by every JVM. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 16;

    private byte[] buf;
    private int size;

    public BufferSink(int initialCapacity) {
        if (initialCapacity < 0) {
            throw new IllegalArgumentException("initialCapacity=" + initialCapacity + " must be >= 0");
        }
        buf = new byte[Math.max(16, initialCapacity)];
    }

    private void ensure(long more) {
        long need = size + more;
        if (need > buf.length) {
            if (need > MAX_ARRAY) {
                throw new CodecException("encoded size=" + need + " bytes exceeds the largest array (" + MAX_ARRAY + ")");
            }
            buf = Arrays.copyOf(buf, (int) Math.min(MAX_ARRAY, Math.max(need, (long) buf.length * 2)));
        }
    }

    @Override
    public void writeByte(int value) {
        ensure(1);
        buf[size++] = (byte) value;
    }

    @Override
    public void writeInt(int value) {
        ensure(4);
        INT.set(buf, size, value);
        size += 4;
    }

    @Override
    public void writeLong(long value) {
        ensure(8);
        LONG.set(buf, size, value);
        size += 8;
    }

    @Override
    public void write(byte[] src, int offset, int length) {
        ensure(length);
        System.arraycopy(src, offset, buf, size, length);
        size += length;
    }

    @Override
    public void write(MemorySegment src, long offset, long length) {
        ensure(length);
        MemorySegment.copy(src, JAVA_BYTE, offset, buf, size, (int) length);
        size += (int) length;
    }

    @Override
    public long position() {
        return size;
    }

    /** Bytes written since the last {@link #reset()}. */
    public int size() {
        return size;
    }

    /** Forgets the bytes written, keeping the array. */
    public void reset() {
        size = 0;
    }

    /**
     * Forgets the bytes written after the first {@code size}: a codec whose encode fails part-way
     * returns the sink to where it was, so a reused sink never carries half an item.
     */
    public void truncate(int size) {
        if (size < 0 || size > this.size) {
            throw new IndexOutOfBoundsException("size=" + size + " outside 0.." + this.size);
        }
        this.size = size;
    }

    /** Counts the next {@code n} bytes as written and returns where they start in {@link #array()}. */
    int claim(int n) {
        ensure(n);
        int p = size;
        size = p + n;
        return p;
    }

    /** A view of the bytes written so far (valid until the next write or reset). */
    public MemorySegment segment() {
        return MemorySegment.ofArray(buf).asSlice(0, size);
    }

    /** The backing array; its first {@link #size()} bytes are the ones written. */
    public byte[] array() {
        return buf;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }
}
