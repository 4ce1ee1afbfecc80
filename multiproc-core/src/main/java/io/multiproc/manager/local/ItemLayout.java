package io.multiproc.manager.local;

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
 */
final class ItemLayout {
    static final long KEY_LEN = 0;
    static final long VALUE_LEN = 4;
    static final long NESTED = 8;
    static final long BYTES = 16;
    /** Largest value (and key) in bytes. */
    static final int MAX_BYTES = 16 << 20;

    private ItemLayout() {
    }
}
