package io.multiproc.codec;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Encoding and decoding helpers for the codec tests. */
final class CodecTesting {
    private CodecTesting() {
    }

    static byte[] encode(Codec codec, Object value) {
        BufferSink out = new BufferSink(16);
        codec.encode(value, out);
        return out.toByteArray();
    }

    static Object decode(Codec codec, byte[] bytes) {
        SegmentSource in = SegmentSource.of(bytes);
        Object v = codec.decode(in);
        if (in.remaining() != 0) {
            throw new AssertionError("decode left " + in.remaining() + " of " + bytes.length + " bytes");
        }
        return v;
    }

    static Object roundTrip(Codec codec, Object value) {
        return decode(codec, encode(codec, value));
    }

    /** Decodes from off-heap memory, the way a queue reads its ring. */
    static Object decodeOffHeap(Codec codec, byte[] bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(bytes.length + 16);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 8, bytes.length);
            return codec.decode(new SegmentSource().reset(seg, 8, bytes.length));
        }
    }

    /** A sink that is not a BufferSink: the codec's general paths. */
    static final class PlainSink implements ByteSink {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void writeByte(int value) {
            bytes.write(value);
        }

        @Override
        public void writeInt(int value) {
            write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
        }

        @Override
        public void writeLong(long value) {
            write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
        }

        @Override
        public void write(byte[] src, int offset, int length) {
            bytes.write(src, offset, length);
        }

        @Override
        public void write(MemorySegment src, long offset, long length) {
            write(src.asSlice(offset, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }

        @Override
        public long position() {
            return bytes.size();
        }
    }

    /** A source that is not a SegmentSource. */
    static final class PlainSource implements ByteSource {
        private final ByteBuffer buf;

        PlainSource(byte[] bytes) {
            buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        private void need(long n) {
            if (n > buf.remaining()) {
                throw new CodecException("truncated: need " + n + ", " + buf.remaining() + " left");
            }
        }

        @Override
        public byte readByte() {
            need(1);
            return buf.get();
        }

        @Override
        public int readInt() {
            need(4);
            return buf.getInt();
        }

        @Override
        public long readLong() {
            need(8);
            return buf.getLong();
        }

        @Override
        public void readFully(byte[] dst, int offset, int length) {
            need(length);
            buf.get(dst, offset, length);
        }

        @Override
        public void readFully(MemorySegment dst, long offset, long length) {
            need(length);
            byte[] tmp = new byte[(int) length];
            buf.get(tmp);
            MemorySegment.copy(MemorySegment.ofArray(tmp), 0, dst, offset, length);
        }

        @Override
        public long remaining() {
            return buf.remaining();
        }
    }
}
