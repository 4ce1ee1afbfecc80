/**
 * The local manager: containers in a shared heap in /dev/shm, operated on directly by every process
 * under each container's lock (see {@link io.multiproc.manager.local.LocalManager}). Not public API.
 *
 * <h2>Implementation overview: lifetime and memory</h2>
 * Invariants, and who keeps them:
 * <ul>
 * <li><b>A container lives while its life word is above 0</b> (references from items and directory
 * entries in the high half, process holds in the low half; {@code ContainerLife}). The one change that
 * brings it to 0 frees the container, its array or table and items, and recursively the nested
 * containers only those items referred to. A word at 0 never rises again.</li>
 * <li><b>Every proxy object holds its container</b>: one hold per proxy per process, taken when the
 * proxy is made (cached weakly by ref, so a {@code get} that finds it cached writes nothing shared) and
 * dropped by a {@code Cleaner} when the proxy becomes unreachable. A process's holds are listed in its
 * row of the process table ({@code Holds}), so a sweep drops a dead process's holds.</li>
 * <li><b>A reference is counted before the item carrying it is published, and dropped after the item was
 * unpublished</b>; a decode that makes a proxy happens under the parent's lock, so it takes its hold
 * while the reference still counts. Containers made by {@code list()}, {@code dict()}... hold the
 * manager's own reference and the names directory the root's: they live until the manager closes.</li>
 * <li><b>A handle names a generation</b>: container header blocks are reused only as headers, their
 * generation raised when freed, so a handle that outlived its container throws IllegalStateException
 * naming it and never touches reused memory.</li>
 * <li><b>Every block says whose it is</b> ({@code BlockLayout}): the slot of the process that allocated
 * it or retired it (under the container's lock, before the store that unpublishes it), or the slot whose
 * cache or chunk rest it is. Blocks tile the segments, so the heap can be walked.</li>
 * <li><b>Only blocks of dead processes are reclaimed, and only if nothing reaches them</b>
 * ({@code Reclaimer}): a sweep traces live containers one lock at a time and claims each candidate with a
 * compare-and-set of its state, so a live writer's in-flight blocks are never touched and nothing is
 * freed twice. The owner sweeps about once a second when a process in the table died;
 * {@code LocalManager.reclaim()} sweeps on demand.</li>
 * <li>Every crash window leaks rather than frees early: a process killed between two steps leaves a
 * count too high or a block claimed, never a container or block freed while something reaches it.</li>
 * </ul>
 */
package io.multiproc.manager.local;
