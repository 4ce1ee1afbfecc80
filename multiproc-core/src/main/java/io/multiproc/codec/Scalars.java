package io.multiproc.codec;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static io.multiproc.codec.WireFormat.*;

/**
 * Values that hold no other values: null, boxes, strings and primitive arrays. Encoding and decoding
 * them needs no per-call state, so the codec handles them without allocating anything but the
 * decoded value. Primitive arrays are copied in bulk: the format is little-endian like every
 * platform multiproc supports (x86_64, aarch64), so an array's memory is its encoding.
 *
 * <p>Static-only.
 */
final class Scalars {
    /** What {@link #read} returns for a tag that is not a scalar's. */
    static final Object NOT_SCALAR = new Object();
    /** Strings up to this length are checked for ASCII while copied char by char; longer ones in bulk. */
    private static final int SHORT_STRING = 64;

    private Scalars() {
    }

    /** Writes {@code v} if it is a scalar; false (nothing written) if it is not. */
    static boolean write(ByteSink out, Object v) {
        // NOTE: instanceof chains here, in writeArray and in fill, not pattern switches: each pattern
        // switch's first run spins a class (SwitchBootstraps.typeSwitch) in every JVM, and a pool
        // worker's first map chunk ran two of them on its way in and out (decision 251)
        if (v == null) {
            out.writeByte(NULL);
        } else if (v instanceof Integer i) {
            writeInt(out, i);
        } else if (v instanceof String s) {
            writeString(out, s);
        } else if (v instanceof Long l) {
            writeLong(out, l);
        } else if (v instanceof Double d) {
            out.writeByte(DOUBLE);
            out.writeDouble(d);
        } else if (v instanceof Boolean b) {
            out.writeByte(b ? TRUE : FALSE);
        } else if (v instanceof Float f) {
            out.writeByte(FLOAT);
            out.writeFloat(f);
        } else if (v instanceof Byte b) {
            out.writeByte(BYTE);
            out.writeByte(b);
        } else if (v instanceof Short s) {
            out.writeByte(SHORT);
            out.writeShort(s);
        } else if (v instanceof Character c) {
            out.writeByte(CHAR);
            out.writeShort(c);
        } else {
            return v.getClass().isArray() && writeArray(out, v);
        }
        return true;
    }

    /**
     * The Integer whose {@link WireFormat#INT} encoding is exactly the {@code len} low bytes of
     * {@code word} (little-endian), or null if they are anything else (then the caller decodes them the
     * usual way, which also reports malformed input). At most 5 bytes: the longest INT the writer makes.
     */
    static Integer inlineInt(long word, int len) {
        if (len < 2 || len > 5 || (word & 0xFF) != INT) {
            return null;
        }
        int u = 0;
        for (int i = 1; i < len; i++) {
            int b = (int) (word >>> (8 * i)) & 0xFF;
            u |= (b & 0x7F) << (7 * (i - 1));
            if ((b & 0x80) == 0) {
                return i == len - 1 ? (u >>> 1) ^ -(u & 1) : null;
            }
        }
        return null;
    }

    static void writeInt(ByteSink out, int v) {
        int zz = Varints.zigzag(v);
        if (Integer.compareUnsigned(zz, INT_VARINT_LIMIT) < 0) {
            out.writeByte(INT);
            Varints.writeUnsigned(out, zz);
        } else {
            out.writeByte(INT_FIXED);
            out.writeInt(v);
        }
    }

    static void writeLong(ByteSink out, long v) {
        long zz = Varints.zigzag(v);
        if (Long.compareUnsigned(zz, LONG_VARINT_LIMIT) < 0) {
            out.writeByte(LONG);
            Varints.writeUnsigned(out, zz);
        } else {
            out.writeByte(LONG_FIXED);
            out.writeLong(v);
        }
    }

    static void writeString(ByteSink out, String s) {
        if (!(out instanceof BufferSink b && s.length() <= SHORT_STRING && writeShortAscii(b, s))) {
            writeStringSlow(out, s);
        }
    }

    /** The string's payload alone (length and bytes), for names inside other values. */
    static void writeStringBody(ByteSink out, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        Varints.writeUnsigned(out, utf8.length);
        out.write(utf8);
    }

    /** One pass checks and copies; the first non-ASCII char undoes it and returns false. */
    private static boolean writeShortAscii(BufferSink b, String s) {
        int start = b.size();
        int n = s.length();
        b.writeByte(STRING);
        b.writeByte(n); // NOTE: n <= 64, so its varint is this one byte
        int p = b.claim(n);
        byte[] a = b.array();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                b.truncate(start);
                return false;
            }
            a[p + i] = (byte) c;
        }
        return true;
    }

    private static void writeStringSlow(ByteSink out, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        // NOTE: as many bytes as chars and no '?' means pure ASCII: UTF-8 turns a lone surrogate into '?'
        if ((utf8.length != s.length() || contains(utf8, (byte) '?')) && hasUnpairedSurrogate(s)) {
            // UTF-16 units keep such a string exact
            out.writeByte(STRING_UTF16);
            Varints.writeUnsigned(out, s.length());
            out.write(MemorySegment.ofArray(s.toCharArray()), 0, 2L * s.length());
            return;
        }
        out.writeByte(STRING);
        Varints.writeUnsigned(out, utf8.length);
        out.write(utf8);
    }

    private static boolean contains(byte[] bytes, byte b) {
        for (byte x : bytes) {
            if (x == b) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasUnpairedSurrogate(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean writeArray(ByteSink out, Object v) {
        if (v instanceof byte[] a) {
            bulk(out, BYTES, a.length, MemorySegment.ofArray(a), 1);
        } else if (v instanceof int[] a) {
            bulk(out, INTS, a.length, MemorySegment.ofArray(a), 4);
        } else if (v instanceof long[] a) {
            bulk(out, LONGS, a.length, MemorySegment.ofArray(a), 8);
        } else if (v instanceof double[] a) {
            bulk(out, DOUBLES, a.length, MemorySegment.ofArray(a), 8);
        } else if (v instanceof float[] a) {
            bulk(out, FLOATS, a.length, MemorySegment.ofArray(a), 4);
        } else if (v instanceof short[] a) {
            bulk(out, SHORTS, a.length, MemorySegment.ofArray(a), 2);
        } else if (v instanceof char[] a) {
            bulk(out, CHARS, a.length, MemorySegment.ofArray(a), 2);
        } else if (v instanceof boolean[] a) {
            out.writeByte(BOOLEANS);
            Varints.writeUnsigned(out, a.length);
            for (boolean x : a) {
                out.writeByte(x ? 1 : 0);
            }
        } else {
            return false;
        }
        return true;
    }

    private static void bulk(ByteSink out, int tag, int length, MemorySegment data, int unit) {
        out.writeByte(tag);
        Varints.writeUnsigned(out, length);
        out.write(data, 0, (long) length * unit);
    }

    /**
     * Reads the scalar of {@code tag} (already read), or returns {@link #NOT_SCALAR}. Lengths are
     * checked against the bytes above {@code floor}: {@code in.remaining() - floor} is what this value
     * may still use.
     */
    static Object read(ByteSource in, int tag, long floor) {
        return switch (tag) {
            case NULL -> null;
            case FALSE -> Boolean.FALSE;
            case TRUE -> Boolean.TRUE;
            case BYTE -> in.readByte();
            case SHORT -> in.readShort();
            case CHAR -> (char) in.readShort();
            case INT -> Varints.readZigzagInt(in);
            case INT_FIXED -> in.readInt();
            case LONG -> Varints.readZigzagLong(in);
            case LONG_FIXED -> in.readLong();
            case FLOAT -> in.readFloat();
            case DOUBLE -> in.readDouble();
            case STRING -> readStringBody(in, floor);
            case STRING_UTF16 -> {
                char[] cs = new char[Varints.readLength(in, in.remaining() - floor, 2)];
                in.readFully(MemorySegment.ofArray(cs), 0, 2L * cs.length);
                yield new String(cs);
            }
            default -> readArray(in, tag, floor);
        };
    }

    /** A string's payload (length and UTF-8 bytes); malformed UTF-8 decodes to U+FFFD, as in the JDK. */
    static String readStringBody(ByteSource in, long floor) {
        return readUtf8(in, Varints.readLength(in, in.remaining() - floor, 1));
    }

    /** {@code n} bytes of UTF-8 ({@code n} already checked against the input). */
    static String readUtf8(ByteSource in, int n) {
        if (in instanceof SegmentSource s) {
            return s.readUtf8(n);
        }
        byte[] b = new byte[n];
        in.readFully(b, 0, n);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static Object readArray(ByteSource in, int tag, long floor) {
        return switch (tag) {
            case BYTES -> {
                byte[] a = new byte[Varints.readLength(in, in.remaining() - floor, 1)];
                in.readFully(a, 0, a.length);
                yield a;
            }
            case INTS -> fill(in, new int[Varints.readLength(in, in.remaining() - floor, 4)]);
            case LONGS -> fill(in, new long[Varints.readLength(in, in.remaining() - floor, 8)]);
            case DOUBLES -> fill(in, new double[Varints.readLength(in, in.remaining() - floor, 8)]);
            case FLOATS -> fill(in, new float[Varints.readLength(in, in.remaining() - floor, 4)]);
            case SHORTS -> fill(in, new short[Varints.readLength(in, in.remaining() - floor, 2)]);
            case CHARS -> fill(in, new char[Varints.readLength(in, in.remaining() - floor, 2)]);
            case BOOLEANS -> readBooleans(in, Varints.readLength(in, in.remaining() - floor, 1));
            default -> NOT_SCALAR;
        };
    }

    private static Object fill(ByteSource in, Object array) {
        MemorySegment seg;
        if (array instanceof int[] a) {
            seg = MemorySegment.ofArray(a);
        } else if (array instanceof long[] a) {
            seg = MemorySegment.ofArray(a);
        } else if (array instanceof double[] a) {
            seg = MemorySegment.ofArray(a);
        } else if (array instanceof float[] a) {
            seg = MemorySegment.ofArray(a);
        } else if (array instanceof short[] a) {
            seg = MemorySegment.ofArray(a);
        } else if (array instanceof char[] a) {
            seg = MemorySegment.ofArray(a);
        } else {
            throw new AssertionError(array.getClass());
        }
        in.readFully(seg, 0, seg.byteSize());
        return array;
    }

    private static boolean[] readBooleans(ByteSource in, int n) {
        boolean[] a = new boolean[n];
        for (int i = 0; i < n; i++) {
            int b = in.readByte();
            if ((b & ~1) != 0) {
                throw Failures.malformed("boolean[] element=" + b + " is neither 0 nor 1");
            }
            a[i] = b == 1;
        }
        return a;
    }
}
