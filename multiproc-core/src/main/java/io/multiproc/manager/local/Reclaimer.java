package io.multiproc.manager.local;

import io.multiproc.internal.ProcessIdentity;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static io.multiproc.manager.local.BlockLayout.CLASS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Gives back what dead processes left in a manager's heap: their holds on containers, the blocks they
 * allocated and never published (or unpublished and never freed), their cached blocks and the rest of
 * their chunk. The owner runs it every {@link #PERIOD_MS} ms when a process in the table died, and
 * {@code LocalManager.reclaim()} runs it on demand.
 *
 * <h2>Implementation overview</h2>
 * A sweep claims each dead process's row in the process table ({@link Holds}) by a compare-and-set of
 * its token to the sweeper's, so one sweeper works on a row at a time, and a sweeper that dies leaves a
 * row with a dead token that the next sweep takes over. Then, per claimed row:
 * <ol>
 * <li>its holds: each entry is cleared, then its hold dropped (a container it alone kept is freed);
 * a header never adopted is left to step 3;</li>
 * <li>a walk of every segment block by block ({@link BlockLayout}: blocks and chunk rests tile the
 * segments) lists the row's blocks: USED ones are candidates, CACHED and TAIL ones are free space;</li>
 * <li>a trace takes each live (adopted) container's lock in turn and marks its array or table and
 * items; the process table's holds arrays are marked too. An unmarked USED block of a dead row is
 * unreachable for good: live processes publish only blocks they allocated, move item refs only within
 * a container (which the trace reads whole under its lock), and retag a block with their own slot
 * under the lock before unpublishing it. Such a block is claimed by a compare-and-set of its state
 * (so a racing free by its retirer, or another sweep, wins or loses cleanly) and freed; an item's
 * nested reference and its trailer's holds are dropped. A never-adopted container header of the row is
 * freed the same way (nobody ever had its handle). Containers themselves live by their life words, never by the trace.</li>
 * <li>the row's holds array is freed and its token cleared (release): the row is free again.</li>
 * </ol>
 * Live processes never wait for a sweep beyond one container's lock at a time. A sweeper killed midway
 * may leak what it had claimed (a block in state RECLAIMING, a dropped count) but never frees twice.
 */
final class Reclaimer {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();
    static final long PERIOD_MS = 1000;
    private static final ScheduledExecutorService TIMER = io.multiproc.internal.DaemonScheduler.create("multiproc-manager-reclaim");
    private static final System.Logger LOG = System.getLogger(Reclaimer.class.getName());

    /** Test hook: false stops the owners' periodic sweeps in this JVM (so a test sees the leaks first). */
    static volatile boolean watching = true;
    /** Test hook: run inside a sweep, after the dead rows were claimed (a test makes a sweep fail there). */
    static volatile Runnable duringSweep;

    private Reclaimer() {
    }

    /** The owner's periodic check: a sweep whenever a process in the table has died; stops when the heap closes. */
    static void watch(Heap heap) {
        ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
        task[0] = TIMER.scheduleWithFixedDelay(() -> {
            if (heap.isDetached()) {
                task[0].cancel(false);
                return;
            }
            try {
                if (watching) {
                    sweepDeadProcesses(heap);
                }
            } catch (RuntimeException e) {
                if (!heap.isDetached()) {
                    LOG.log(System.Logger.Level.WARNING, "manager '" + heap.name + "': reclaiming failed", e);
                }
            }
        }, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
    }

    /** Sweeps every row whose process died; returns the number of rows swept. */
    static int sweepDeadProcesses(Heap heap) {
        synchronized (heap.reclaimLock) {
            MemorySegment s = heap.segment(heap.processTable());
            long me = ProcessIdentity.current().token();
            List<Integer> rows = new ArrayList<>();
            List<Long> deadTokens = new ArrayList<>();
            for (int row = 1; row <= Holds.ROWS; row++) {
                long at = Holds.rowAt(heap, row) + Holds.TOKEN;
                long token = (long) LONG.getVolatile(s, at);
                if (token != 0 && token != me && !ProcessIdentity.isAlive(token) && LONG.compareAndSet(s, at, token, me)) {
                    rows.add(row);
                    deadTokens.add(token);
                }
            }
            if (!rows.isEmpty()) {
                boolean swept = false;
                try {
                    sweep(heap, rows);
                    swept = true;
                } finally {
                    if (!swept) {
                        // NOTE: a claimed row carries this live process's token: left so, every later sweep
                        // would skip it and its holds and blocks would leak. Rows the sweep finished are 0
                        // already; the others go back to their dead owner, for the next sweep (a step
                        // never frees twice when run again: cleared entries and claimed blocks are skipped).
                        for (int i = 0; i < rows.size(); i++) {
                            LONG.compareAndSet(s, Holds.rowAt(heap, rows.get(i)) + Holds.TOKEN, me, deadTokens.get(i));
                        }
                    }
                }
            }
            return rows.size();
        }
    }

    private static void sweep(Heap heap, List<Integer> rows) {
        Runnable hook = duringSweep;
        if (hook != null) {
            hook.run();
        }
        Set<Integer> dead = new HashSet<>(rows);
        for (int row : rows) {
            dropHolds(heap, row);
        }
        Map<Long, Integer> candidates = new HashMap<>();
        List<Long> free = new ArrayList<>();
        walk(heap, (ref, cls, state, size) -> {
            int tag = BlockLayout.tag(state);
            if (!dead.contains(BlockLayout.slot(state))) {
                return;
            }
            if (tag == BlockLayout.TAG_USED) {
                candidates.put(ref, state);
            } else if (tag == BlockLayout.TAG_CACHED || tag == BlockLayout.TAG_TAIL) {
                free.add(ref);
            }
        });
        Set<Long> reachable = trace(heap);
        for (Map.Entry<Long, Integer> e : candidates.entrySet()) {
            long ref = e.getKey();
            if (!reachable.contains(ref)) {
                reclaimUnreachable(heap, ref, e.getValue());
            }
        }
        for (long ref : free) {
            reclaimFreeSpace(heap, ref);
        }
        MemorySegment table = heap.segment(heap.processTable());
        for (int row : rows) {
            long at = Holds.rowAt(heap, row);
            long array = (long) LONG.getAcquire(table, at + Holds.ARRAY);
            LONG.setRelease(table, at + Holds.ARRAY, 0L);
            if (array != 0 && claim(heap, array, stateAt(heap, array))) {
                heap.freeShared(array, classAt(heap, array));
            }
            // NOTE: release: everything above is done before the row can be claimed again
            LONG.setRelease(table, at + Holds.TOKEN, 0L);
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "manager '" + heap.name + "': swept rows " + rows);
    }

    /** Step 1: clears each hold entry of a dead row, then drops the hold (see {@link ContainerLife}). */
    private static void dropHolds(Heap heap, int row) {
        MemorySegment table = heap.segment(heap.processTable());
        long array = (long) LONG.getAcquire(table, Holds.rowAt(heap, row) + Holds.ARRAY);
        if (array == 0) {
            return;
        }
        MemorySegment s = heap.segment(array);
        long p = ContainerLife.header(array);
        long capacity = s.get(JAVA_LONG, p);
        for (long i = 0; i < capacity; i++) {
            long at = p + 8 + 8 * i;
            long ref = (long) LONG.getAcquire(s, at);
            if (ref == 0) {
                continue;
            }
            LONG.setRelease(s, at, 0L);
            if (ContainerLife.isAdopted(heap.segment(ref), ContainerLife.header(ref))) {
                ContainerLife.dropHold(heap, ref);
            }
        }
    }

    /**
     * Frees an unreachable block of a dead row if this sweep claims it first; an item drops its nested
     * reference and gives back the holds of the shared objects its trailer names (decision 172).
     */
    private static void reclaimUnreachable(Heap heap, long ref, int state) {
        MemorySegment s = heap.segment(ref);
        long h = ContainerLife.header(ref);
        boolean header = classAt(heap, ref) == BlockLayout.classFor(ContainerLayout.SIZE)
                && s.get(JAVA_INT, h) == ContainerLayout.MAGIC;
        if (header && ContainerLife.isAdopted(s, h)) {
            return; // a container lives by its life word, never by the trace
        }
        if (!header && s.get(JAVA_INT, h) == ContainerLayout.FREED_MAGIC
                && classAt(heap, ref) == BlockLayout.classFor(ContainerLayout.SIZE)) {
            return; // a header its freer is still pushing (or died pushing): not ours
        }
        boolean item = BlockLayout.kind(state) == BlockLayout.KIND_ITEM;
        long nested = item ? Items.nestedOf(heap, ref) : 0;
        List<String> carried = item ? Items.carriedOf(heap, ref) : null; // read before the block can be reused
        if (!claim(heap, ref, state)) {
            return;
        }
        if (header) {
            heap.freeContainerHeader(ref);
            return;
        }
        heap.freeShared(ref, classAt(heap, ref));
        if (nested != 0) {
            ContainerLife.dropReference(heap, nested);
        }
        if (carried != null) {
            Items.dropHolds(heap, carried); // its writer died before publishing it: nothing names them through it
        }
    }

    /** A dead row's cached block goes to the shared lists; its chunk's rest is cut into blocks for them. */
    private static void reclaimFreeSpace(Heap heap, long ref) {
        int state = stateAt(heap, ref);
        if (!claim(heap, ref, state)) {
            return;
        }
        int cls = classAt(heap, ref);
        if (cls >= 0) {
            heap.freeShared(ref, cls);
            return;
        }
        freeRest(heap, ref, (long) -cls << 4);
    }

    /**
     * Frees a chunk rest of {@code length} bytes at {@code ref} (claimed, or this live process's own) to
     * the shared free lists, as power-of-two blocks.
     */
    static void freeRest(Heap heap, long ref, long length) {
        List<long[]> pieces = new ArrayList<>();
        long at = ref;
        while (length > 0) {
            int c = 63 - Long.numberOfLeadingZeros(length) - BlockLayout.MIN_SHIFT;
            pieces.add(new long[] {at, c});
            at += BlockLayout.blockSize(c);
            length -= BlockLayout.blockSize(c);
        }
        // NOTE: back to front, so the header at the front covers the rest until every piece has its own
        for (int i = pieces.size() - 1; i >= 0; i--) {
            heap.freeShared(pieces.get(i)[0], (int) pieces.get(i)[1]);
        }
    }

    private static boolean claim(Heap heap, long ref, int state) {
        MemorySegment s = heap.segment(ref);
        long off = HeapLayout.offset(ref);
        int cls = s.get(JAVA_INT, off + CLASS);
        return LONG.compareAndSet(s, off + CLASS, BlockLayout.header(cls, state),
                BlockLayout.header(cls, BlockLayout.state(BlockLayout.TAG_RECLAIMING, 0, 0)));
    }

    private static int stateAt(Heap heap, long ref) {
        return (int) INT.getAcquire(heap.segment(ref), HeapLayout.offset(ref) + BlockLayout.STATE);
    }

    private static int classAt(Heap heap, long ref) {
        return (int) INT.getAcquire(heap.segment(ref), HeapLayout.offset(ref) + CLASS);
    }

    // ---- walking and tracing -------------------------------------------------------------------------

    interface BlockVisitor {
        void visit(long ref, int sizeClass, int state, long size);
    }

    /** Calls {@code visitor} for every block of every segment, in address order. */
    static void walk(Heap heap, BlockVisitor visitor) {
        MemorySegment root = heap.root();
        int count = (int) INT.getAcquire(root, HeapLayout.SEGMENT_COUNT);
        for (int i = 0; i < count; i++) {
            MemorySegment s = heap.segment(HeapLayout.ref(i, 0));
            long top = (long) LONG.getAcquire(s, HeapLayout.TOP);
            long at = i == 0 ? HeapLayout.ROOT_FIRST_BLOCK : HeapLayout.FIRST_BLOCK;
            while (at < top) {
                long header = (long) LONG.getAcquire(s, at + CLASS);
                int cls = BlockLayout.classOf(header);
                long size = cls < 0 ? (long) -cls << 4 : BlockLayout.blockSize(cls);
                if (cls >= HeapLayout.SIZE_CLASSES || cls == 0 && BlockLayout.stateOf(header) == 0 || at + size > top) {
                    LOG.log(System.Logger.Level.WARNING, "manager '" + heap.name + "': segment " + i
                            + " has no block header at offset " + at + ": the rest of it is not walked");
                    break;
                }
                visitor.visit(HeapLayout.ref(i, at), cls, BlockLayout.stateOf(header), size);
                at += size;
            }
        }
    }

    /**
     * The blocks reachable from live containers (each read whole under its lock), the process table and
     * its holds arrays. Container headers are not included: they live by their life words.
     */
    static Set<Long> trace(Heap heap) {
        List<Long> containers = new ArrayList<>();
        walk(heap, (ref, cls, state, size) -> {
            if (BlockLayout.tag(state) == BlockLayout.TAG_USED && cls == BlockLayout.classFor(ContainerLayout.SIZE)) {
                MemorySegment s = heap.segment(ref);
                long h = ContainerLife.header(ref);
                if (s.get(JAVA_INT, h) == ContainerLayout.MAGIC && ContainerLife.isAdopted(s, h)) {
                    containers.add(ref);
                }
            }
        });
        Set<Long> reachable = new HashSet<>();
        for (long ref : containers) {
            traceContainer(heap, ref, reachable);
        }
        reachable.addAll(bookkeeping(heap));
        return reachable;
    }

    private static void traceContainer(Heap heap, long ref, Set<Long> reachable) {
        MemorySegment s = heap.segment(ref);
        long h = ContainerLife.header(ref);
        ContainerKind kind;
        try {
            kind = ContainerKind.of(s.get(JAVA_INT, h + ContainerLayout.KIND));
        } catch (IllegalStateException freedMeanwhile) {
            return;
        }
        Container c = new Container(heap, ref, kind, s.get(JAVA_INT, h + ContainerLayout.GENERATION));
        c.lock();
        try {
            if (s.get(JAVA_INT, h) != ContainerLayout.MAGIC) {
                return; // freed before we got the lock (marked freed under it): its blocks are gone
            }
            long data = c.data();
            if (kind == ContainerKind.VALUE || valid(heap, data)) {
                if (kind != ContainerKind.VALUE) {
                    reachable.add(data);
                }
                ContainerLife.forEachItem(heap, kind, data, reachable::add);
            }
        } finally {
            c.unlock();
            c.lock.close();
        }
    }

    private static boolean valid(Heap heap, long ref) {
        return ref > 0 && HeapLayout.segment(ref) < (int) INT.getAcquire(heap.root(), HeapLayout.SEGMENT_COUNT)
                && HeapLayout.offset(ref) + BlockLayout.PAYLOAD + 16 <= heap.segment(ref).byteSize();
    }

    // ---- accounting ------------------------------------------------------------------------------------

    /**
     * Bytes of blocks in use (allocated, whatever reaches them), without the process table and its holds
     * arrays (bookkeeping of the attached processes, which grows with the proxies a process holds at once).
     */
    static long bytesInUse(Heap heap) {
        Set<Long> bookkeeping = bookkeeping(heap);
        long[] total = {0};
        walk(heap, (ref, cls, state, size) -> {
            if (BlockLayout.tag(state) == BlockLayout.TAG_USED && !bookkeeping.contains(ref)) {
                total[0] += size;
            }
        });
        return total[0];
    }

    /**
     * Bytes of blocks that live data needs: live container headers and what they reach. Equal to
     * {@link #bytesInUse} when nothing leaked (and no operation runs).
     */
    static long bytesReachable(Heap heap) {
        Set<Long> reachable = trace(heap);
        Set<Long> bookkeeping = bookkeeping(heap);
        long[] total = {0};
        walk(heap, (ref, cls, state, size) -> {
            if (BlockLayout.tag(state) != BlockLayout.TAG_USED || bookkeeping.contains(ref)) {
                return;
            }
            MemorySegment s = heap.segment(ref);
            long h = ContainerLife.header(ref);
            boolean liveHeader = cls == BlockLayout.classFor(ContainerLayout.SIZE) && s.get(JAVA_INT, h) == ContainerLayout.MAGIC
                    && (long) LONG.getVolatile(s, h + ContainerLayout.LIFE) != 0;
            if (liveHeader || reachable.contains(ref)) {
                total[0] += size;
            }
        });
        return total[0];
    }

    /** The process table and its rows' holds arrays. */
    private static Set<Long> bookkeeping(Heap heap) {
        Set<Long> refs = new HashSet<>();
        refs.add(heap.processTable());
        MemorySegment table = heap.segment(heap.processTable());
        for (int row = 1; row <= Holds.ROWS; row++) {
            long array = (long) LONG.getAcquire(table, Holds.rowAt(heap, row) + Holds.ARRAY);
            if (array != 0) {
                refs.add(array);
            }
        }
        return refs;
    }
}
