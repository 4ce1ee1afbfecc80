package io.multiproc.manager.local;

/**
 * Layout of a list's array block payload: capacity, size, then one item ref per element.
 *
 * <pre>
 *  0           8           16          24          ...   16 + 8 * capacity
 *  +-----------+-----------+-----------+-----------+---+
 *  | capacity  | size      | element   | element   |...|
 *  | long      | long      | [0]       | [1]       |   |
 *  +-----------+-----------+-----------+-----------+---+
 * </pre>
 * An element is an item ref, or the element itself when its codec bytes fit in 7 ({@link Items#INLINE_MAX}:
 * bit 63 set). Written only under the list's lock. An append writes the item ref past {@code size} (where no reader
 * looks), then publishes with one store of {@code size}. Any other structural change (insert, remove,
 * growth) writes a new array and publishes it with one store of the container's data ref; the old array
 * and removed items are freed after that.
 */
final class ListLayout {
    static final long CAPACITY = 0;
    static final long SIZE = 8;
    static final long ITEMS = 16;

    private ListLayout() {
    }

    static long bytesFor(long capacity) {
        return ITEMS + 8 * capacity;
    }
}
