package io.multiproc.shm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Layout of a {@link ShareableList}: exactly CPython 3.11's {@code multiprocessing.shared_memory.ShareableList}
 * (checked byte for byte against CPython 3.11.7 by ShareableListPythonTest; other versions are not
 * tested), so that either language can create a list and the other read and write it. One deliberate
 * difference: a str slot is sized by its value's UTF-8 bytes, not its characters (equal for ASCII; see
 * {@link ShareableList}). For a list of
 * {@code n} items whose slots take {@code D} data bytes in all:
 *
 * <pre>
 *  0        8                       8(n+2)                     F = 8(n+2) + D        F + 8n         F + 9n
 *  +--------+-----------------------+--------------------------+---------------------+--------------+
 *  | n      | offsets[0..n]         | data: slot i is the      | formats: 8 bytes    | codes: 1     |
 *  | int64  | int64 each, relative  | bytes [8(n+2)+offsets[i],| per slot, a struct  | byte per     |
 *  |        | to the data start;    |  8(n+2)+offsets[i+1])    | format, NUL-padded: | slot: 0 num/ |
 *  |        | offsets[0] = 0,       | (8 bytes, or a multiple  | "q" "d" "xxxxxxx?"  | bool, 1 str, |
 *  |        | offsets[n] = D        |  of 8 for str/bytes)     | "xxxxxx?x" "16s"... | 2 bytes,     |
 *  |        |                       |                          |                     | 3 None       |
 *  +--------+-----------------------+--------------------------+---------------------+--------------+
 * </pre>
 * The segment is exactly {@code F + 9n} bytes (CPython's {@code struct.calcsize} of the whole format).
 *
 * <p><b>Byte order.</b> CPython packs with {@code struct}'s default format (no prefix: native byte order,
 * native alignment), so every int64 and double is in the machine's byte order: little-endian on x86_64
 * and aarch64 Linux, the platforms multiproc supports. (Not {@code "!"}, big-endian: that was checked
 * against CPython 3.11 byte by byte.) Every slot and every format word starts on an 8-byte boundary.
 *
 * <p><b>Slots by type</b> (the struct format CPython writes for each):
 * <ul>
 *   <li>int {@code "q"}: an int64; float {@code "d"}: a double.</li>
 *   <li>bool {@code "xxxxxxx?"}: seven zero bytes, then 0 or 1 in byte 7 (any non-zero byte 7 reads true).</li>
 *   <li>None {@code "xxxxxx?x"}: eight zero bytes; code 3 alone makes it None.</li>
 *   <li>str {@code "Ns"} (UTF-8) and bytes {@code "Ns"}: N bytes, the value padded with NUL bytes, where
 *       N = {@link #stringCapacity(int)} of the value first stored there and never changes (the slot
 *       cannot grow). The reader strips every trailing NUL byte.</li>
 * </ul>
 * Setting a value of another type rewrites the slot's format and code; an int, float, bool or None
 * fits any slot, a str or bytes value fits if it is no longer than the slot.
 *
 * <p>There is no magic number, version or creator in this layout (it is CPython's, not ours), so
 * {@link #validate} checks its structure instead when a list is attached.
 */
final class ShareableListLayout {
    /** The item count {@code n}: int64 at offset 0. */
    static final long LENGTH_OFFSET = 0;
    /** {@code offsets[0]}; {@code offsets[i]} is at {@code OFFSETS_OFFSET + 8 * i}. */
    static final long OFFSETS_OFFSET = 8;
    /** Every slot size, and every format entry, is a multiple of this. */
    static final int ALIGNMENT = 8;
    /** Bytes of one format entry. */
    static final int FORMAT_BYTES = 8;
    /** Where a bool's byte sits in its 8-byte slot ({@code "xxxxxxx?"}). */
    static final int BOOLEAN_BYTE = 7;
    /**
     * Longest str/bytes value (bytes) a list can be created with: its slot format must fit in 8
     * characters ({@code "9999992s"}), CPython asserts so.
     */
    static final int MAX_STRING_BYTES = 9_999_991;

    static final String FORMAT_LONG = "q";
    static final String FORMAT_DOUBLE = "d";
    static final String FORMAT_BOOLEAN = "xxxxxxx?";
    static final String FORMAT_NULL = "xxxxxx?x";

    /** The format words as read by {@code seg.get(JAVA_LONG, formatOffset(...))}: compared, never parsed. */
    static final long FORMAT_LONG_WORD = formatWord(FORMAT_LONG);
    static final long FORMAT_DOUBLE_WORD = formatWord(FORMAT_DOUBLE);
    static final long FORMAT_BOOLEAN_WORD = formatWord(FORMAT_BOOLEAN);
    static final long FORMAT_NULL_WORD = formatWord(FORMAT_NULL);

    /** Back-transform codes (CPython's {@code _back_transforms_mapping}). */
    static final byte CODE_VALUE = 0;
    static final byte CODE_STRING = 1;
    static final byte CODE_BYTES = 2;
    static final byte CODE_NULL = 3;

    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    /** A bool slot holding true, as one native-order word: byte {@link #BOOLEAN_BYTE} is 1, the rest 0. */
    static final long BOOLEAN_TRUE_WORD = LITTLE_ENDIAN ? 1L << (8 * BOOLEAN_BYTE) : 1L;

    private ShareableListLayout() {
    }

    /** Offset of {@code offsets[i]}, {@code 0 <= i <= n}. */
    static long offsetEntry(int i) {
        return OFFSETS_OFFSET + (long) ALIGNMENT * i;
    }

    /** Where the data area starts: after n and the n + 1 offsets. */
    static long dataStart(int n) {
        return (long) ALIGNMENT * (n + 2L);
    }

    /** Where the format entries start, for {@code dataBytes} = offsets[n]. */
    static long formatsStart(int n, long dataBytes) {
        return dataStart(n) + dataBytes;
    }

    /** Where the one-byte codes start. */
    static long codesStart(int n, long dataBytes) {
        return formatsStart(n, dataBytes) + (long) FORMAT_BYTES * n;
    }

    /** The whole segment's size. */
    static long totalSize(int n, long dataBytes) {
        return codesStart(n, dataBytes) + n;
    }

    /**
     * Slot size for a str/bytes value of {@code byteLength} bytes: the next multiple of 8 strictly above
     * it, as CPython computes it ({@code 8 * (len // 8 + 1)}), so an empty value still gets 8 bytes.
     */
    static int stringCapacity(int byteLength) {
        return ALIGNMENT * (byteLength / ALIGNMENT + 1);
    }

    /** The format CPython writes for a str/bytes slot of {@code capacity} bytes: {@code "16s"}. */
    static String stringFormat(long capacity) {
        return capacity + "s";
    }

    /**
     * A format string as its 8-byte word: the ASCII characters, NUL-padded, read in native order
     * (what {@code struct.pack_into("8s", ...)} leaves in the segment).
     */
    static long formatWord(String format) {
        byte[] ascii = format.getBytes(StandardCharsets.US_ASCII);
        if (ascii.length > FORMAT_BYTES) {
            throw new IllegalArgumentException("format='" + format + "' is longer than " + FORMAT_BYTES + " bytes");
        }
        byte[] word = new byte[FORMAT_BYTES];
        System.arraycopy(ascii, 0, word, 0, ascii.length);
        return MemorySegment.ofArray(word).get(JAVA_LONG.withByteAlignment(1), 0);
    }

    /** The format word back as a string (trailing NULs stripped, as CPython's reader does). */
    static String formatString(long word) {
        byte[] bytes = new byte[FORMAT_BYTES];
        MemorySegment.ofArray(bytes).set(JAVA_LONG.withByteAlignment(1), 0, word);
        int len = FORMAT_BYTES;
        while (len > 0 && bytes[len - 1] == 0) {
            len--;
        }
        return new String(bytes, 0, len, StandardCharsets.US_ASCII);
    }

    /**
     * The byte count N of a str/bytes format word ({@code "Ns"}, N decimal digits, NUL-padded), or -1
     * if the word is not one. Allocation-free: it runs on every read of a str or bytes slot.
     */
    static long stringFormatLength(long word) {
        long n = 0;
        int k = 0;
        for (; k < FORMAT_BYTES; k++) {
            int c = byteAt(word, k);
            if (c < '0' || c > '9') {
                break;
            }
            n = n * 10 + (c - '0');
        }
        if (k == 0 || k == FORMAT_BYTES || byteAt(word, k) != 's') {
            return -1;
        }
        for (k++; k < FORMAT_BYTES; k++) {
            if (byteAt(word, k) != 0) {
                return -1;
            }
        }
        return n;
    }

    /** Byte {@code k} (0 = lowest address) of an 8-byte word read in native order. */
    private static int byteAt(long word, int k) {
        int shift = LITTLE_ENDIAN ? 8 * k : 8 * (FORMAT_BYTES - 1 - k);
        return (int) (word >>> shift) & 0xFF;
    }

    /**
     * Whether a slot whose format word is {@code format} and code is {@code code} reads safely on both
     * sides, so that a writer may leave it between its two stores of a type change: CPython reads it
     * without raising, and Java either reads what CPython reads or reports the slot as inconsistent
     * (which its next set() repairs). Unsafe are a number format ("q", "d") with a code other than 0,
     * since Java reads those formats without looking at the code while CPython applies it (code 3
     * reads None, codes 1 and 2 raise AttributeError), and codes 1 and 2 under a format that is not
     * "Ns" (CPython strips and decodes what it unpacked as bytes; a bool or None unpacks otherwise).
     * For every change between two consistent states, one of the two orders leaves a safe pair.
     */
    static boolean readableTogether(long format, byte code) {
        if (format == FORMAT_LONG_WORD || format == FORMAT_DOUBLE_WORD) {
            return code == CODE_VALUE;
        }
        if (code == CODE_STRING || code == CODE_BYTES) {
            return stringFormatLength(format) >= 0;
        }
        return true;
    }

    /**
     * Reads and checks the structure of a list in {@code seg} and returns the absolute offset of every
     * slot, plus one past the last ({@code result[n]} is where the formats start).
     *
     * @throws IllegalStateException naming the segment and what is wrong, if it is not a ShareableList
     */
    static long[] validate(MemorySegment seg, String name) {
        long size = seg.byteSize();
        if (size < dataStart(0)) {
            throw notAList(name, "size=" + size + " is smaller than an empty list (16 bytes)");
        }
        long n = seg.get(JAVA_LONG, LENGTH_OFFSET);
        // every item takes at least 25 bytes: its offset entry, an 8-byte slot, its format and its code
        if (n < 0 || n > (size - dataStart(0)) / (3L * ALIGNMENT + 1)) {
            throw notAList(name, "item count n=" + n + " does not fit in size=" + size);
        }
        // a huge sparse segment can pass the check above; slots[] and List.size() are int-indexed
        if (n >= Integer.MAX_VALUE) {
            throw notAList(name, "item count n=" + n + " is more than a Java list holds (at most "
                    + (Integer.MAX_VALUE - 1) + ")");
        }
        int count = (int) n;
        long[] slots = new long[count + 1];
        long dataStart = dataStart(count);
        long previous = seg.get(JAVA_LONG, offsetEntry(0));
        if (previous != 0) {
            throw notAList(name, "offsets[0]=" + previous + " must be 0");
        }
        slots[0] = dataStart;
        for (int i = 1; i <= count; i++) {
            long off = seg.get(JAVA_LONG, offsetEntry(i));
            // NOTE: compared, never subtracted first: a garbled offset (negative, or far below previous)
            // makes off - previous wrap around to a positive multiple of 8 that would pass. previous is
            // in [0, size] here, so once off is too, the difference cannot overflow.
            if (off < 0 || off > size || off - previous < ALIGNMENT || (off - previous) % ALIGNMENT != 0) {
                throw notAList(name, "slot " + (i - 1) + " spans offsets " + previous + " to " + off
                        + ": slots are positive multiples of " + ALIGNMENT + " bytes inside size=" + size);
            }
            slots[i] = dataStart + off;
            previous = off;
        }
        long total = totalSize(count, previous);
        if (total > size) {
            throw notAList(name, "n=" + count + " items with " + previous + " data bytes need size=" + total
                    + " but the segment has size=" + size);
        }
        return slots;
    }

    private static IllegalStateException notAList(String name, String why) {
        return new IllegalStateException("segment '" + name + "' is not a ShareableList: " + why);
    }
}
