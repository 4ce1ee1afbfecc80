package io.multiproc.manager.local;

/**
 * Test hooks: points inside container and heap operations where a test stops a writer (and then
 * SIGKILLs its process). Off unless the JVM starts with {@code -Dmultiproc.manager.faults=true}; the
 * flag is a {@code static final}, so the JIT folds every {@link #at} away in production and tests run
 * the same code. Set {@link #hook} only in the child JVM under test.
 */
public final class FaultPoints {
    static final boolean ENABLED = Boolean.getBoolean("multiproc.manager.faults");

    /** Where a writer can be stopped; each lies between two stores of an operation. */
    public enum Point {
        /** Manager start: the root segment is visible by name and sized, its header not yet written. */
        START_BEFORE_HEADER,
        /** Manager start: the root segment is visible by name, its process table not yet published. */
        START_BEFORE_PROCESS_TABLE,
        /** Allocator: a free block's next pointer was read, the list head not yet moved. */
        ALLOC_POPPING,
        /** Allocator: a new segment exists and is mapped here, the segment count not yet raised. */
        GROW_BEFORE_PUBLISH,
        /** list add: the item is written and its ref stored past the end, the size not yet raised. */
        LIST_ADD_BEFORE_PUBLISH,
        /** list add: the size is raised, the grown array's old copy not yet freed. */
        LIST_AFTER_PUBLISH,
        /** list set/remove: the new array or item is written, not yet published. */
        LIST_REWRITE_BEFORE_PUBLISH,
        /** dict put of a new key: the entry is written, the free slot not yet filled. */
        DICT_PUT_BEFORE_PUBLISH,
        /** dict put of a new key: the slot is filled, the counts not yet updated (the next holder recounts). */
        DICT_PUT_AFTER_PUBLISH,
        /** dict put of an existing key: the new entry is written, the slot not yet switched. */
        DICT_REPLACE_BEFORE_PUBLISH,
        /** dict put of an existing key: the slot is switched, the old entry not yet freed (it leaks). */
        DICT_REPLACE_AFTER_PUBLISH,
        /** dict resize: the new table is written, not yet published. */
        DICT_RESIZE_BEFORE_PUBLISH,
        /** item write: the item's block is allocated (maybe a reused one, holding an old item's bytes), nothing written yet. */
        ITEM_ALLOCATED,
        /** item write: the item's bytes are written, its nested container's reference not yet counted. */
        ITEM_WRITTEN_BEFORE_REFERENCE
    }

    /** Called at each point when {@link #ENABLED}; a test blocks or exits there. */
    public static volatile java.util.function.Consumer<Point> hook;

    private FaultPoints() {
    }

    static void at(Point point) {
        if (ENABLED) {
            java.util.function.Consumer<Point> h = hook;
            if (h != null) {
                h.accept(point);
            }
        }
    }
}
