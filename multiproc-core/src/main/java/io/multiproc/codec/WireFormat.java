package io.multiproc.codec;

/**
 * The built-in codec's binary format: one tag byte per value, then its payload. Little-endian;
 * "varint" is unsigned LEB128 (7 bits a byte, low bits first), "zigzag" maps signed to unsigned first
 * ({@code 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...}) so that small negative numbers stay short.
 *
 * <pre>
 * tag   value            payload
 * 0x00  null             -
 * 0x01  false            -
 * 0x02  true             -
 * 0x03  Byte             1 byte
 * 0x04  Short            2 bytes
 * 0x05  Character        2 bytes (UTF-16 unit)
 * 0x06  Integer          zigzag varint (1 to 4 bytes)
 * 0x07  Integer          4 bytes (when the varint would take 5)
 * 0x08  Long             zigzag varint (1 to 7 bytes)
 * 0x09  Long             8 bytes (when the varint would take 8 or more)
 * 0x0A  Float            4 bytes (raw IEEE bits)
 * 0x0B  Double           8 bytes (raw IEEE bits)
 * 0x0C  String           varint n, n bytes of UTF-8
 * 0x0D  String           varint n, n UTF-16 units of 2 bytes (only a string with an unpaired
 *                        surrogate, which UTF-8 cannot carry)
 * 0x10  byte[]           varint n, n bytes
 * 0x11  short[]          varint n, 2n bytes        0x12 char[]    varint n, 2n bytes
 * 0x13  int[]            varint n, 4n bytes        0x14 long[]    varint n, 8n bytes
 * 0x15  float[]          varint n, 4n bytes        0x16 double[]  varint n, 8n bytes
 * 0x17  boolean[]        varint n, n bytes of 0 or 1
 * 0x20  List             varint n, n values                   decodes as ArrayList
 * 0x21  Set              varint n, n values                   decodes as LinkedHashSet
 * 0x22  Map              varint n, n (key value) pairs        decodes as LinkedHashMap
 * 0x28  enum constant    class ref, then the constant's name: varint n, n bytes of UTF-8
 * 0x29  record           class ref, then the components in declaration order: a component of
 *                        primitive type untagged (boolean and byte 1 byte, short and char 2, int and
 *                        long zigzag varint, float 4, double 8), any other one a tagged value
 * 0x2A  shared handle    class ref of a {@link SharedHandle} record, components as for 0x29; the
 *                        decoder calls the record's readResolve(), which attaches
 * 0x2B  Path             a String value (0x0C or 0x0D): the path's string form; only a path of the
 *                        default file system is written, and it decodes with Path.of
 * 0x2C  Optional         one value: the content, or null (0x00) for an empty Optional
 * 0x2D  Map.Entry        two values, key and value: a JDK entry that is not Serializable (Map.entry,
 *                        a HashMap's entry); decodes as AbstractMap.SimpleImmutableEntry
 * 0x2E  OptionalInt,     1 byte of kind (0 OptionalInt, 1 OptionalLong, 2 OptionalDouble), then one value:
 *       ...Long, ...Double  null (0x00) when empty, else an Integer, a Long or a Double
 * 0x30  other object     varint n, n bytes of one JDK serialization stream (decoded through the
 *                        ObjectInputFilter allow-list)
 *
 * class ref: varint k
 *   k = 0   a class new to this value follows: varint n, n bytes of UTF-8 of its binary name, and for a
 *           record (0x29, 0x2A) varint c, its component count (checked against the local class).
 *           It takes the next index.
 *   k >= 1  the class of index k - 1: indexes 0 to {@link KnownClasses#COUNT} - 1 are multiproc's
 *           well-known classes (never renumbered), the next ones the classes this value introduced,
 *           in order.
 * </pre>
 *
 * <p>The format writes trees: an object referenced twice is written twice, and a cycle fails at the
 * depth limit. Lengths and counts are checked against the bytes left before anything is allocated.
 *
 * <p>Static-only.
 */
final class WireFormat {
    static final int NULL = 0x00;
    static final int FALSE = 0x01;
    static final int TRUE = 0x02;
    static final int BYTE = 0x03;
    static final int SHORT = 0x04;
    static final int CHAR = 0x05;
    static final int INT = 0x06;
    static final int INT_FIXED = 0x07;
    static final int LONG = 0x08;
    static final int LONG_FIXED = 0x09;
    static final int FLOAT = 0x0A;
    static final int DOUBLE = 0x0B;
    static final int STRING = 0x0C;
    static final int STRING_UTF16 = 0x0D;
    static final int BYTES = 0x10;
    static final int SHORTS = 0x11;
    static final int CHARS = 0x12;
    static final int INTS = 0x13;
    static final int LONGS = 0x14;
    static final int FLOATS = 0x15;
    static final int DOUBLES = 0x16;
    static final int BOOLEANS = 0x17;
    /**
     * What a list, set, map or record counts as against maxBytes at least, on top of its bytes, when
     * encoding and decoding alike: a collection object is tens of bytes however few the input spent on it.
     */
    static final int CONTAINER_COST = 32;

    static final int LIST = 0x20;
    static final int SET = 0x21;
    static final int MAP = 0x22;
    static final int ENUM = 0x28;
    static final int RECORD = 0x29;
    static final int HANDLE = 0x2A;
    static final int PATH = 0x2B;
    static final int OPTIONAL = 0x2C;
    static final int ENTRY = 0x2D;
    static final int OPTIONAL_PRIMITIVE = 0x2E;
    static final int SERIALIZED = 0x30;

    /** Class ref 0: a new class name follows. */
    static final int NEW_CLASS = 0;

    /** Zigzag values below this take at most 4 varint bytes; larger ints are written fixed. */
    static final int INT_VARINT_LIMIT = 1 << 28;
    /** Zigzag values below this take at most 7 varint bytes; larger longs are written fixed. */
    static final long LONG_VARINT_LIMIT = 1L << 49;
    /** The JVM's limit on a class name's length. */
    static final int MAX_CLASS_NAME = 65_535;

    private WireFormat() {
    }
}
