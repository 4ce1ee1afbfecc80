package io.multiproc.process;

import io.multiproc.internal.SharedSegments;
import io.multiproc.queue.Pipe;
import io.multiproc.queue.SharedQueue;
import io.multiproc.shared.SharedDouble;
import io.multiproc.shared.SharedDoubleArray;
import io.multiproc.shared.SharedInt;
import io.multiproc.shared.SharedIntArray;
import io.multiproc.shared.SharedLong;
import io.multiproc.shared.SharedLongArray;
import io.multiproc.shm.ShareableList;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.BooleanSupplier;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_CHAR;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The library's hot paths, run on objects private to this JVM until the JIT has compiled them, so that a
 * user's first loop in a child calls compiled code from its first iteration (and the loop's own OSR
 * compilation inlines compiled callees). A spare JVM runs them on a low-priority thread while it waits
 * for a task; the AOT cache's training run runs them once so that their profiles are in the cache.
 *
 * <p>Each path is one {@link Path}; {@link #run} runs them in turn, {@link #ROUNDS} rounds of
 * {@link #BATCH} iterations each, and asks {@code stop} before every iteration, so a task that arrives
 * stops the warm-up within one iteration; the path then closes its objects. The objects are real
 * shared-memory objects (the same segment classes users' loops see), private to this JVM: their names
 * are never in /dev/shm (memfd), so a spare killed mid-way leaves nothing behind.
 *
 * <p>Iteration counts were checked with {@code -XX:+PrintCompilation}: 24,000 calls get every method
 * below compiled at tier 4 (C2) on JDK 25 (see BENCHMARKS.md, "Starts").
 */
final class HotPaths {
    /** Iterations per round of one path. */
    static final int BATCH = 2_000;
    /** Rounds per path: BATCH x ROUNDS calls get the callees C2-compiled. */
    static final int ROUNDS = 12;

    /** One library hot path: {@code iterations} calls on its own private objects. */
    enum Path {
        VALUES {
            @Override
            void run(int iterations, int rounds, BooleanSupplier stop) {
                try (SharedInt i = SharedInt.create(0); SharedLong l = SharedLong.create(0); SharedDouble d = SharedDouble.create(0)) {
                    for (int r = 0; r < rounds; r++) {
                        for (int k = 0; k < iterations; k++) {
                            if (stop.getAsBoolean()) {
                                return;
                            }
                            i.incrementAndGet();
                            i.compareAndSet(i.get(), k);
                            l.incrementAndGet();
                            l.addAndGet(k);
                            l.compareAndSet(l.get(), k);
                            d.addAndGet(1.0);
                            d.set(d.get());
                        }
                    }
                }
            }
        },
        ARRAYS {
            @Override
            void run(int iterations, int rounds, BooleanSupplier stop) {
                int n = 1024;
                try (SharedIntArray ia = SharedIntArray.create(n); SharedLongArray la = SharedLongArray.create(n);
                     SharedDoubleArray da = SharedDoubleArray.create(n)) {
                    for (int r = 0; r < rounds; r++) {
                        for (int k = 0; k < iterations; k++) {
                            if (stop.getAsBoolean()) {
                                return;
                            }
                            int at = k & (n - 1);
                            ia.set(at, ia.get(at) + 1);
                            ia.addAndGet(at, 1);
                            la.set(at, la.get(at) + 1);
                            la.addAndGet(at, 1);
                            da.set(at, da.get(at) * 0.5);
                        }
                        // MemorySegment element access of each primitive type, on a mapped segment
                        // (the segment class users' loops see), in int-counted loops over a slice.
                        segmentLoops(da.segment(), iterations);
                    }
                }
            }
        },
        SHAREABLE_LIST {
            @Override
            void run(int iterations, int rounds, BooleanSupplier stop) {
                ShareableList list;
                try {
                    list = ShareableList.create(null, List.of(0L, 0.5, "warm-up", true));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                try {
                    for (int r = 0; r < rounds; r++) {
                        for (int k = 0; k < iterations; k++) {
                            if (stop.getAsBoolean()) {
                                return;
                            }
                            list.set(0, (Long) list.get(0) + 1);
                            list.set(1, (Double) list.get(1) * 2);
                            list.set(2, k % 2 == 0 ? "warm-up" : "warm-on");
                            list.set(3, !(Boolean) list.get(3));
                        }
                    }
                } finally {
                    list.close();
                }
            }
        },
        QUEUE {
            @Override
            void run(int iterations, int rounds, BooleanSupplier stop) {
                try (SharedQueue<Object> q = SharedQueue.create(64)) {
                    for (int r = 0; r < rounds; r++) {
                        for (int k = 0; k < iterations; k++) {
                            if (stop.getAsBoolean()) {
                                return;
                            }
                            Object item = sample(k);
                            q.put(item);
                            blackhole(q.take());
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        },
        PIPE {
            @Override
            void run(int iterations, int rounds, BooleanSupplier stop) {
                try (Pipe pipe = Pipe.open(true)) {
                    for (int r = 0; r < rounds; r++) {
                        for (int k = 0; k < iterations; k++) {
                            if (stop.getAsBoolean()) {
                                return;
                            }
                            pipe.left().send(sample(k));
                            blackhole(pipe.right().recv());
                            pipe.right().send(sample(k + 1));
                            blackhole(pipe.left().recv());
                        }
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException("warm-up pipe failed", e);
                }
            }
        },
        LOCKS {
            @Override
            void run(int iterations, int rounds, BooleanSupplier stop) {
                try (SharedLock lock = SharedLock.create(); SharedRLock rlock = SharedRLock.create()) {
                    for (int r = 0; r < rounds; r++) {
                        for (int k = 0; k < iterations; k++) {
                            if (stop.getAsBoolean()) {
                                return;
                            }
                            lock.lock();
                            lock.unlock();
                            if (lock.tryLock()) {
                                lock.unlock();
                            }
                            rlock.lock();
                            rlock.lock();
                            rlock.unlock();
                            rlock.unlock();
                        }
                    }
                }
            }
        },
        /**
         * A pool worker's chunk decode, map loop and reply encode, and the parent's reply decode into the
         * results, on Integer lists (the commonest map), plus the decoding of a serializable
         * lambda (JDK serialization, every 64th iteration): a worker taken from the spares handles its
         * first 125k-item chunk compiled (decisions 072, 113). The map loop sees one function class, so
         * its call of the user's function is compiled for one receiver: the user's lambda costs one
         * deoptimization and recompilation on the first chunk, not a slower steady state.
         */
        POOL_FRAMES {
            @Override
            void run(int iterations, int rounds, BooleanSupplier stop) {
                io.multiproc.codec.Codec codec = TaskCodec.codec();
                List<Integer> items = new java.util.ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    items.add(i * 31);
                }
                byte[] fn = {};
                SerializableFunction<Object, Object> square = x -> (Integer) x * (Integer) x;
                byte[] lambda = PoolFrames.function(codec, square);
                MapResults results = new MapResults(items.size(), items.size());
                for (int r = 0; r < rounds; r++) {
                    for (int k = 0; k < iterations; k++) {
                        if (stop.getAsBoolean()) {
                            return;
                        }
                        PoolFrames.Task task = PoolFrames.decodeTask(codec, PoolFrames.task(k, PoolFrames.MAP, fn, codec, items));
                        byte[] reply = PoolFrames.reply(k, PoolFrames.OK, codec, PackedItems.applyPacked(codec, square, task.payload()));
                        results.put(0, PackedItems.unpack(PoolFrames.replyPayload(codec, reply)));
                        blackhole(PoolFrames.replyPayload(codec, PoolFrames.reply(k, PoolFrames.OK, codec, items)));
                        if ((k & 63) == 0) {
                            blackhole(codec.decode(io.multiproc.codec.SegmentSource.of(lambda)));
                        }
                    }
                }
                blackhole(results);
            }
        },
        /** A manager's list appends and reads, dict put/get/merge and batches, on a private heap (seed 000's loop). */
        MANAGER {
            @Override
            void run(int iterations, int rounds, BooleanSupplier stop) {
                io.multiproc.manager.local.ManagerWarmUp.run(iterations, rounds, stop);
            }
        };

        abstract void run(int iterations, int rounds, BooleanSupplier stop);
    }

    private HotPaths() {
    }

    /**
     * Runs every path in turn, each until compiled or until {@code stop} says so, on segments private to
     * this JVM ({@link SharedSegments#privately}): a spare killed mid-way leaves nothing in /dev/shm.
     */
    static void run(BooleanSupplier stop) {
        if (!io.multiproc.internal.Native.isAvailable()) {
            return; // private segments need memfd_create; child JVMs always have native access
        }
        SharedSegments.privately(() -> {
            for (Path p : Path.values()) {
                if (stop.getAsBoolean()) {
                    return;
                }
                runToEnd(p, stop);
            }
        });
    }

    /** Runs one path, as {@link #run} does, on the calling thread. */
    static void run(Path path, BooleanSupplier stop) {
        if (io.multiproc.internal.Native.isAvailable()) {
            SharedSegments.privately(() -> runToEnd(path, stop));
        }
    }

    private static void runToEnd(Path p, BooleanSupplier stop) {
        if (stop.getAsBoolean()) {
            return; // a task came since the caller's last look: the path's first steps would run beside it
        }
        STARTED.add(p);
        p.run(BATCH, ROUNDS, stop);
        if (!stop.getAsBoolean()) {
            COMPLETED.add(p);
        }
    }

    /** True once {@code path} ran all its rounds in this JVM (not stopped): compiled, as far as a warm-up can tell. */
    static boolean completed(Path path) {
        return COMPLETED.contains(path);
    }

    /** True once a warm-up began running {@code path} in this JVM (whether or not it ended). */
    static boolean started(Path path) {
        return STARTED.contains(path);
    }

    /** The paths a warm-up began; written by a warm-up thread, read by tests' tasks. */
    private static final java.util.Set<Path> STARTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The paths that ran to their end; written by a warm-up thread, read by a pool worker's runner. */
    private static final java.util.Set<Path> COMPLETED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * One iteration of every path, on the calling thread: loads and initializes every class the paths
     * use, so the warm-up thread never holds a class initialization lock a task could wait for.
     *
     * @return false if {@code stop} ended it early (the warm-up thread must then not run)
     */
    static boolean initializeClasses(BooleanSupplier stop) {
        if (!io.multiproc.internal.Native.isAvailable()) {
            return false;
        }
        boolean[] all = {true};
        SharedSegments.privately(() -> {
            for (Path p : Path.values()) {
                if (stop.getAsBoolean()) {
                    all[0] = false;
                    return;
                }
                p.run(1, 1, () -> false);
            }
        });
        return all[0];
    }

    /** Values of the types users send most: the built-in codec's common cases. */
    static Object sample(int k) {
        return switch (k & 7) {
            case 0 -> k;
            case 1 -> (long) k;
            case 2 -> k * 0.5;
            case 3 -> "item-" + (k & 15);
            case 4 -> new byte[] {1, 2, 3};
            case 5 -> List.of(k, "x");
            case 6 -> k % 3 == 0;
            default -> new long[] {k, k + 1};
        };
    }

    static void segmentLoops(MemorySegment segment, int iterations) {
        long bytes = segment.byteSize();
        double sum = 0;
        MemorySegment s = segment.asSlice(0, bytes);
        int doubles = (int) (bytes / Double.BYTES);
        for (int k = 0; k < iterations; k += doubles) {
            for (int i = 0; i < doubles; i++) {
                double x = s.getAtIndex(JAVA_DOUBLE, i);
                s.setAtIndex(JAVA_DOUBLE, i, x * x);
            }
            int floats = (int) (bytes / Float.BYTES);
            for (int i = 0; i < floats; i++) {
                s.setAtIndex(JAVA_FLOAT, i, s.getAtIndex(JAVA_FLOAT, i) + 1f);
            }
            for (int i = 0; i < doubles; i++) {
                s.setAtIndex(JAVA_LONG, i, s.getAtIndex(JAVA_LONG, i) + 1);
            }
            for (int i = 0; i < floats; i++) {
                s.setAtIndex(JAVA_INT, i, s.getAtIndex(JAVA_INT, i) + 1);
            }
            for (int i = 0; i < floats * 2; i++) {
                s.setAtIndex(JAVA_SHORT, i, (short) (s.getAtIndex(JAVA_SHORT, i) + 1));
                s.setAtIndex(JAVA_CHAR, i, (char) (s.getAtIndex(JAVA_CHAR, i) + 1));
            }
            for (long i = 0; i < bytes; i++) {
                s.set(JAVA_BYTE, i, (byte) (s.get(JAVA_BYTE, i) + 1));
            }
            sum += s.getAtIndex(JAVA_DOUBLE, 0);
        }
        blackhole(sum);
    }

    static void blackhole(Object o) {
        if (o == HotPaths.class) {
            System.out.println(o);
        }
    }
}
