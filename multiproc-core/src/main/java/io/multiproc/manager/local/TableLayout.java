package io.multiproc.manager.local;

/**
 * Layout of a dict's (set's, namespace's) open-addressing table block payload.
 *
 * <pre>
 *  0           8           16          24          32          40
 *  +-----------+-----------+-----------+-----------+-----------+-----------+---
 *  | capacity  | count     | used      | (pad)     | slot [0]  | slot [1]  |...
 *  | long, 2^k | long      | long      |           | long      | long      |
 *  +-----------+-----------+-----------+-----------+-----------+-----------+---
 * </pre>
 * A slot is 0 (never used), 1 (removed: a tombstone) or {@code hash24 << 40 | item ref} (the top 24
 * bits of the key's hash beside a 40-bit ref). Linear probing. Written only under the lock: a put writes
 * the entry's item first and publishes it with one store of the slot; a resize writes a new table and
 * publishes it with one store of the container's data ref. {@code count} (live entries) and {@code used}
 * (live plus tombstones) are derived: a holder that finds the previous one dead recounts them.
 */
final class TableLayout {
    static final long CAPACITY = 0;
    static final long COUNT = 8;
    static final long USED = 16;
    static final long SLOTS = 32;
    static final long EMPTY = 0;
    static final long TOMBSTONE = 1;
    static final int HASH_SHIFT = 40;

    private TableLayout() {
    }

    static long bytesFor(long capacity) {
        return SLOTS + 8 * capacity;
    }
}
