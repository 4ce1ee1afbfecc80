package io.multiproc.manager.local;

/**
 * Layout of a container's header block payload (offsets from the payload, i.e. ref + 8). Every list,
 * dict, set, namespace and value has one; its lock guards everything reachable from {@code data}.
 *
 * <pre>
 *  0        4        8            16          24            32              40           44        48     64                  192
 *  +--------+--------+------------+-----------+-------------+---------------+------------+---------+------+-------------------+
 *  | magic  | kind   | life       | data ref  | creator pid | creator start | generation | adopted |      | lock region (128) |
 *  | int    | int    | long       | long      | long        | long          | int        | int     |      | EmbeddedLocks     |
 *  +--------+--------+------------+-----------+-------------+---------------+------------+---------+------+-------------------+
 * </pre>
 * magic, kind, creator, generation: written before the container's ref is handed out; magic becomes
 * {@link #FREED_MAGIC} and generation is raised when the container is freed (header blocks are reused
 * only as headers, see {@link HeapLayout#FREE_CONTAINERS}). life ({@link ContainerLife}): bits 32-63
 * count the items and directory entries that refer to the container, bits 0-31 the processes' holds
 * (one per proxy object, {@link Holds}); changed only by atomic adds and compare-and-set, by any
 * process; whoever brings it to 0 frees the container. adopted: set to 1 once, when the creator takes
 * its first hold (a header with 0 here and a dead allocator was never handed out). data: the list's
 * array block, the dict's table block, the value's item (or the value itself when it fits in 7 bytes,
 * see {@link Items#INLINE_MAX}); written by the lock holder with one store (release), the publication
 * point of every structural change.
 */
final class ContainerLayout {
    static final int MAGIC = 0x4E4F_434D; // "MCON"
    static final int FREED_MAGIC = 0x4552_4644; // "DFRE"
    static final long KIND = 4;
    static final long LIFE = 8;
    static final long DATA = 16;
    static final long CREATOR_PID = 24;
    static final long CREATOR_START = 32;
    static final long GENERATION = 40;
    static final long ADOPTED = 44;
    static final long LOCK = 64;
    static final long SIZE = 192;

    /** One reference in {@link #LIFE}; one hold is 1. */
    static final long ONE_REFERENCE = 1L << 32;

    private ContainerLayout() {
    }
}
