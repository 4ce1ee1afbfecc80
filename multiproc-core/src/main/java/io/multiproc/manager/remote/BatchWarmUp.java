package io.multiproc.manager.remote;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.SharedSegments;
import io.multiproc.manager.Manager;
import io.multiproc.manager.local.LocalManager;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Compiles a server's batch path before its first batch arrives: once per JVM, when the first
 * {@link ManagerServer} starts, a daemon thread paced to the JVM's idle moments runs what a remote
 * {@code putAll}/{@code getAll} of plain entries costs the server (decoding the map through the wire
 * codec, the wire walk, the local dict's {@code putAll}, {@code size} and {@code getAll}) and what the
 * client costs (encoding the map) on a manager whose heap is private to that thread (memfd segments,
 * never in /dev/shm). Without it a fresh server ran the first batch of 10,000 entries interpreted: ~30 ms
 * against ~2 ms compiled (decision 133). Stops early when the server closes.
 * <p>Paced, not niced: before each round it sleeps while the rest of this JVM used more than
 * {@link #BUSY_TICKS} clock ticks in the last {@link #WINDOW_MILLIS} ms. A runnable nice-19 thread gets a
 * core only after every other runnable thread of the machine, and each safepoint of the server (GC,
 * deoptimization) waits for it: under load that held the server's requests (decision 124 found the same
 * for spares). A sleeping thread holds nothing.
 *
 * <p>Any thread may call {@link #startOnce}; the warm-up never fails the server (errors are dropped:
 * it is only a warm-up).
 */
final class BatchWarmUp {
    /** Rounds of {@link #ENTRIES} entries: enough for the per-entry methods to reach the optimizing compiler. */
    static final int ROUNDS = 30;
    static final int ENTRIES = 1_000;
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    static final long WINDOW_MILLIS = 50;
    /** Ticks of the rest of the JVM in one window above which it counts as busy: 20% of a core at 100 Hz. */
    static final long BUSY_TICKS = 1;
    private static final Path PROCESS_STAT = Path.of("/proc/self/stat");
    private static final Path THREAD_STAT = Path.of("/proc/thread-self/stat");

    private BatchWarmUp() {
    }

    /** Starts the warm-up thread, once per JVM; it stops early once {@code closed} says so. */
    static void startOnce(java.util.function.BooleanSupplier closed) {
        if (!STARTED.compareAndSet(false, true)) {
            return;
        }
        Thread.ofPlatform().name("multiproc-manager-batch-warm-up").daemon(true).start(() -> {
            try {
                SharedSegments.privately(() -> run(ROUNDS, () -> closed.getAsBoolean() || pausedUntilIdle(closed)));
            } catch (RuntimeException | Error e) {
                // only a warm-up: the server reports its own problems
            }
        });
    }

    /** Whether a server of this JVM has started the warm-up. */
    static boolean started() {
        return STARTED.get();
    }

    /**
     * Sleeps a window at a time while the rest of this JVM (its ticks minus this thread's) is busy;
     * true if {@code closed} said stop meanwhile.
     */
    private static boolean pausedUntilIdle(java.util.function.BooleanSupplier closed) {
        while (!closed.getAsBoolean()) {
            long others = ProcessIdentity.cpuTicks(PROCESS_STAT) - ProcessIdentity.cpuTicks(THREAD_STAT);
            try {
                Thread.sleep(WINDOW_MILLIS);
            } catch (InterruptedException e) {
                return true;
            }
            if (ProcessIdentity.cpuTicks(PROCESS_STAT) - ProcessIdentity.cpuTicks(THREAD_STAT) - others <= BUSY_TICKS) {
                return false;
            }
        }
        return true;
    }

    /** {@code rounds} batches into new dicts of a private manager (the caller is inside {@link SharedSegments#privately}). */
    static void run(int rounds, java.util.function.BooleanSupplier stop) {
        Map<Integer, Integer> ints = new HashMap<>();
        Map<String, String> strings = new HashMap<>();
        List<Integer> keys = new ArrayList<>();
        for (int i = 0; i < ENTRIES; i++) {
            ints.put(i, i);
            strings.put("key-" + i, "value-" + i);
            keys.add(i);
        }
        BufferSink out = new BufferSink(64 * ENTRIES);
        SegmentSource in = new SegmentSource();
        try (Manager m = Manager.start()) {
            for (int r = 0; r < rounds && !stop.getAsBoolean(); r++) {
                Map<?, ?> batch = roundTrip((r & 1) == 0 ? ints : strings, out, in);
                ConcurrentMap<Object, Object> d = m.dict();
                d.putAll((Map<?, ?>) PlainValues.map(batch, x -> x));
                if (d.size() != ENTRIES || LocalManager.getAll(d, keys).size() != ENTRIES) {
                    return;
                }
                d.clear(); // the private heap stays small: the next dict reuses these blocks
            }
        }
    }

    /** The map as the server decodes it after the client encoded it, through the wire codec. */
    private static Map<?, ?> roundTrip(Map<?, ?> map, BufferSink out, SegmentSource in) {
        out.reset();
        ManagerServer.CODEC.encode(map, out);
        byte[] frame = out.toByteArray();
        return (Map<?, ?>) ManagerServer.CODEC.decode(in.reset(MemorySegment.ofArray(frame), 0, frame.length));
    }
}
