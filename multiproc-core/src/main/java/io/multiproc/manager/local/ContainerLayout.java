package io.multiproc.manager.local;

/**
 * Layout of a container's header block payload (offsets from the payload, i.e. ref + 8). Every list,
 * dict, set, namespace and value has one; its lock guards everything reachable from {@code data}.
 *
 * <pre>
 *  0        4        8            16          24            32              64                  192
 *  +--------+--------+------------+-----------+-------------+---------------+-------------------+
 *  | magic  | kind   | references | data ref  | creator pid | creator start | lock region (128) |
 *  | int    | int    | long       | long      | long        | long          | EmbeddedLocks     |
 *  +--------+--------+------------+-----------+-------------+---------------+-------------------+
 * </pre>
 * magic, kind, creator: written once before the container's ref is published. references: how many
 * items and directory entries refer to it (atomic adds by any process; informational until nested
 * containers are freed). data: the list's array block, the dict's table block, the value's item (or the
 * value itself when it fits in 7 bytes, see {@link Items#INLINE_MAX}); written
 * by the lock holder with one store (release), the publication point of every structural change.
 */
final class ContainerLayout {
    static final int MAGIC = 0x4E4F_434D; // "MCON"
    static final long KIND = 4;
    static final long REFERENCES = 8;
    static final long DATA = 16;
    static final long CREATOR_PID = 24;
    static final long CREATOR_START = 32;
    static final long LOCK = 64;
    static final long SIZE = 192;

    private ContainerLayout() {
    }
}
