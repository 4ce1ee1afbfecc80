package io.multiproc.manager.local;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Layout of an item block payload: one list element, value, or dict entry (key and value), as codec
 * bytes. Written once before its ref is published; never changed afterwards (a new value is a new item).
 *
 * <pre>
 *  0          4          8              16                16 + keyLen            + valueLen
 *  +----------+----------+--------------+-----------------+---------------------+
 *  | key len  | val len  | nested ref   | key bytes       | value bytes         |
 *  | int      | int      | long, 0 none | (dict entries)  |                     |
 *  +----------+----------+--------------+-----------------+---------------------+
 * </pre>
 * nested ref: the container the value refers to (a nested list, dict... stored as its handle), so
 * that freeing the item can drop that container's reference count without decoding.
 * <p>val len's bit 30 ({@link #CARRIES}): the value carries handles of shared objects (queues, locks...),
 * whose segment names follow the value bytes (a trailer: u16 count, then per name a u8 length and its
 * UTF-8 bytes), so that freeing the item can drop the manager's hold of each without decoding (decision
 * 172). The length is {@code val len & LENGTH}.
 */
final class ItemLayout {
    static final long KEY_LEN = 0;
    static final long VALUE_LEN = 4;
    static final long NESTED = 8;
    static final long BYTES = 16;
    /** Largest value (and key) in bytes. */
    static final int MAX_BYTES = 16 << 20;
    /** Bit of the val len word: a trailer of shared object names follows the value. */
    static final int CARRIES = 1 << 30;
    /** Mask of the val len word's length. */
    static final int LENGTH = CARRIES - 1;

    /** Bytes of the trailer naming {@code names}. */
    static int trailerSize(List<String> names) {
        int size = 2;
        for (String n : names) {
            size += 1 + n.getBytes(StandardCharsets.UTF_8).length;
        }
        return size;
    }

    static void writeTrailer(MemorySegment seg, long at, List<String> names) {
        seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, (short) names.size());
        long p = at + 2;
        for (String n : names) {
            byte[] b = n.getBytes(StandardCharsets.UTF_8);
            seg.set(ValueLayout.JAVA_BYTE, p, (byte) b.length);
            MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, p + 1, b.length);
            p += 1 + b.length;
        }
    }

    static List<String> readTrailer(MemorySegment seg, long at) {
        int count = Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, at));
        List<String> names = new ArrayList<>(count);
        long p = at + 2;
        for (int i = 0; i < count; i++) {
            int len = Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, p));
            byte[] b = new byte[len];
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, p + 1, b, 0, len);
            names.add(new String(b, StandardCharsets.UTF_8));
            p += 1 + len;
        }
        return names;
    }

    private ItemLayout() {
    }
}
