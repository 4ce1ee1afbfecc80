package io.multiproc.queue;

/**
 * The records of a ring (a {@link SharedQueue}'s, or one direction of a {@link Pipe}) and the two
 * position words that bound them. Static only.
 *
 * <h2>Position words</h2>
 * A ring has a tail word (written by the one producer holding the right to write) and a head word
 * (written by the one consumer holding the right to read). Each packs a count and a byte position into
 * one long, so that both change in a single write and a process killed between two writes cannot
 * leave them inconsistent:
 * <pre>
 *  bit 63                              32 31                               0
 *  +-------------------------------------+----------------------------------+
 *  | count: items written (tail) or      | position: bytes written (tail)   |
 *  | taken (head), modulo 2^32           | or freed (head), modulo 2^32     |
 *  +-------------------------------------+----------------------------------+
 * </pre>
 * Both wrap: only differences are used ({@code tail - head}), which stay below 2^31 because a ring
 * holds at most {@link #MAX_CAPACITY} bytes and at most {@code Integer.MAX_VALUE} items. The ring
 * offset of a position is {@code position & (capacity - 1)}; capacities are powers of two.
 *
 * <h2>Full positions</h2>
 * {@link #FULL_POSITION} bytes after each position word sits the side's <em>full position</em>: the
 * same byte position as a 64-bit count that never wraps (2^64 bytes). The writer of the side stores
 * it (plain) right before the position word's release store, so it is never behind that word; after a
 * writer died between the two stores it is ahead by that one unpublished record, and
 * {@link #fullPosition(long, int)} recovers the exact value from the two (the low 32 bits must match
 * the word). It exists for the views (a side's cached copy of the other side's word): a view is
 * trusted only while the side's own full position moved less than one ring since the view was read,
 * which no amount of traffic through other handles can fake (with 32-bit positions, 2^32 bytes of
 * other handles' traffic looked like none).
 *
 * <h2>Records</h2>
 * 8-aligned; a record never wraps: when it would not fit before the end of the ring, a padding
 * record fills the rest and the record starts at offset 0.
 * <pre>
 *  +0                  +4                 +8                          +8 + length   (next 8-aligned)
 *  +-------------------+------------------+---------------------------+--------+
 *  | kind:2 | length:30| seq: the tail    | payload                   | (pad)  |
 *  | (int, see below)  | count when put   | length bytes              |        |
 *  +-------------------+------------------+---------------------------+--------+
 * </pre>
 * Kinds: {@link #ITEM} (the payload is the item's codec bytes), {@link #PADDING} (skip to the end of
 * the ring), {@link #SPILL} (the item lives in a spill segment: {@link SpillLayout#reference}),
 * {@link #REMOVED} (an item taken out of the middle of a queue: skipped). A record is complete before
 * the tail word covers it, so readers never see a half-written record.
 */
final class RecordLayout {
    static final int HEADER = 8;
    static final int ALIGNMENT = 8;
    /** Ring capacities are powers of two in [MIN_CAPACITY, MAX_CAPACITY]. */
    static final int MIN_CAPACITY = 1 << 10;
    static final int MAX_CAPACITY = 1 << 30;

    static final int ITEM = 0;
    static final int PADDING = 1;
    static final int SPILL = 2;
    static final int REMOVED = 3;
    private static final int LENGTH_MASK = (1 << 30) - 1;

    /** Offset of a side's 64-bit full position from its position word (see "Full positions"). */
    static final int FULL_POSITION = 8;

    /** Offsets inside a record. */
    static final int KIND_LENGTH = 0;
    static final int SEQ = 4;
    static final int PAYLOAD = 8;

    private RecordLayout() {
    }

    static long word(int count, int position) {
        return (long) count << 32 | (position & 0xffff_ffffL);
    }

    static int count(long word) {
        return (int) (word >>> 32);
    }

    static int position(long word) {
        return (int) word;
    }

    /**
     * The exact 64-bit position of a side whose position word holds {@code position} and whose full
     * position word holds {@code hint} (equal, or ahead by less than 2^31 bytes: a writer died between
     * its two stores, or more records were published between reading the word and the hint).
     */
    static long fullPosition(long hint, int position) {
        return hint - Integer.toUnsignedLong((int) hint - position);
    }

    /** The first int of a record. */
    static int kindLength(int kind, int length) {
        return kind << 30 | length;
    }

    static int kind(int kindLength) {
        return kindLength >>> 30;
    }

    static int length(int kindLength) {
        return kindLength & LENGTH_MASK;
    }

    /** Bytes a record with {@code length} payload bytes takes, header and alignment included. */
    static int recordSize(int length) {
        return (HEADER + length + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /**
     * The largest payload kept in a ring of {@code capacity} bytes; larger items spill. Half the ring
     * minus a header, so that an empty ring always has room for one (padding included).
     */
    static int maxInlinePayload(int capacity) {
        return capacity / 2 - HEADER;
    }

    /**
     * The ring capacity for {@code capacityBytes}: rounded up to a power of two.
     *
     * @throws IllegalArgumentException naming {@code what} if outside [MIN_CAPACITY, MAX_CAPACITY]
     */
    static int checkCapacity(String what, long capacityBytes) {
        if (capacityBytes < MIN_CAPACITY || capacityBytes > MAX_CAPACITY) {
            throw new IllegalArgumentException(what + "=" + capacityBytes + " must be between " + MIN_CAPACITY
                    + " and " + MAX_CAPACITY + " bytes");
        }
        int c = (int) capacityBytes;
        return Integer.bitCount(c) == 1 ? c : Integer.highestOneBit(c) << 1;
    }
}
