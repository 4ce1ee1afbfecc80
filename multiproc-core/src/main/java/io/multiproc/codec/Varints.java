package io.multiproc.codec;

/** Unsigned LEB128 and zigzag, as {@link WireFormat} describes them. Static-only. */
final class Varints {
    private Varints() {
    }

    static void writeUnsigned(ByteSink out, int value) {
        while ((value & ~0x7F) != 0) {
            out.writeByte((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.writeByte(value);
    }

    static void writeUnsigned(ByteSink out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.writeByte((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.writeByte((int) value);
    }

    static int zigzag(int v) {
        return (v << 1) ^ (v >> 31);
    }

    static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    static void writeZigzag(ByteSink out, int v) {
        writeUnsigned(out, zigzag(v));
    }

    static void writeZigzag(ByteSink out, long v) {
        writeUnsigned(out, zigzag(v));
    }

    /** Reads up to 5 bytes; more, or bits beyond 32, is malformed input. */
    static int readUnsignedInt(ByteSource in) {
        int result = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.readByte();
            if (shift == 28 && (b & 0xF0) != 0) {
                throw Failures.malformed("varint longer than 32 bits");
            }
            result |= (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw Failures.malformed("varint longer than 32 bits");
    }

    /** Reads up to 10 bytes; more, or bits beyond 64, is malformed input. */
    static long readUnsignedLong(ByteSource in) {
        long result = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            int b = in.readByte();
            if (shift == 63 && (b & 0xFE) != 0) {
                throw Failures.malformed("varint longer than 64 bits");
            }
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw Failures.malformed("varint longer than 64 bits");
    }

    static int readZigzagInt(ByteSource in) {
        int u = readUnsignedInt(in);
        return (u >>> 1) ^ -(u & 1);
    }

    static long readZigzagLong(ByteSource in) {
        long u = readUnsignedLong(in);
        return (u >>> 1) ^ -(u & 1);
    }

    /**
     * Reads a count of items of {@code unitBytes} bytes each and checks that they fit in the
     * {@code budget} bytes this value may still use: nothing is allocated from an unchecked length.
     */
    static int readLength(ByteSource in, long budget, int unitBytes) {
        int n = readUnsignedInt(in);
        if (n < 0) {
            throw Failures.malformed("length=" + Integer.toUnsignedString(n) + " is negative as an int");
        }
        long bytes = (long) n * unitBytes;
        if (bytes > budget) {
            throw Failures.lengthBeyondInput(n, bytes, in.remaining(), budget);
        }
        return n;
    }
}
