package io.multiproc.queue;

import java.nio.charset.StandardCharsets;

/**
 * Layout of a spill segment, which carries one item too large for its ring, and of the
 * {@link RecordLayout#SPILL} record payload that refers to it. Static only.
 *
 * <pre>
 *  spill segment:
 *  0               64                 72         128                      128 + length
 *  +---------------+------------------+----------+------------------------+
 *  | SegmentHeader | length           | (pad)    | the item's codec bytes |
 *  | magic MPSPILL1| long             |          |                        |
 *  +---------------+------------------+----------+------------------------+
 *
 *  SPILL record payload:
 *  +0                 +8
 *  +------------------+------------------------------+
 *  | length (long)    | segment name, UTF-8          |
 *  +------------------+------------------------------+
 * </pre>
 * Written once by the producer before the segment is referenced from a ring; read-only afterwards.
 * The segment is held by its ring's segment (a registry parent hold), so it outlives the producer;
 * the consumer that takes the item unlinks it.
 */
final class SpillLayout {
    static final long MAGIC = 0x314C_4C49_5053_504DL; // "MPSPILL1" read little-endian
    static final int VERSION = 1;
    static final int KIND = 1;
    static final long LENGTH = 64;
    static final long DATA = 128;
    static final String PREFIX = "mps_";

    private SpillLayout() {
    }

    static long segmentSize(long length) {
        return DATA + length;
    }

    /** The SPILL record payload naming {@code name}, which holds {@code length} bytes. */
    static byte[] reference(String name, long length) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] ref = new byte[8 + n.length];
        for (int i = 0; i < 8; i++) {
            ref[i] = (byte) (length >>> (8 * i));
        }
        System.arraycopy(n, 0, ref, 8, n.length);
        return ref;
    }

    static long referencedLength(byte[] ref, int offset) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | (ref[offset + i] & 0xff);
        }
        return v;
    }

    static String referencedName(byte[] ref, int offset, int refLength) {
        return new String(ref, offset + 8, refLength - 8, StandardCharsets.UTF_8);
    }
}
