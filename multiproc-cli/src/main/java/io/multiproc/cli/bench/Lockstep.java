package io.multiproc.cli.bench;

import io.multiproc.process.ChildProcess;
import io.multiproc.process.SerializableRunnable;
import io.multiproc.shared.SharedLongArray;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Starts N children that wait, spinning, for one go signal, so the work phase is timed from the same
 * instant in all of them: {@code work = max(child end) - go}, all on CLOCK_MONOTONIC
 * ({@link System#nanoTime()} is comparable across processes on Linux).
 *
 * <pre>
 * control[0] = children ready     control[1] = go (0, then the parent's nanoTime)
 * control[2 + i] = child i's end nanoTime
 * </pre>
 */
final class Lockstep {
    private Lockstep() {
    }

    /** Seconds: {total from before the first start to after the last join, work phase}. */
    record Times(double total, double work) {
    }

    /**
     * Runs the children; {@code prepare.apply(i)} runs in child i before it reports ready (JIT warm-up,
     * touching its pages), {@code work.apply(i)} between go and its end mark.
     */
    static Times run(int children, IntFunction<SerializableRunnable> prepare, IntFunction<SerializableRunnable> work)
            throws InterruptedException {
        return run(children, List.of(), prepare, work);
    }

    /**
     * As {@link #run(int, IntFunction, IntFunction)}, the children started with {@code jvmOptions}: with any,
     * a child is a plain JVM of its own (no spare, no AOT cache), as {@link ChildProcess.Builder#jvmOptions} says.
     */
    static Times run(int children, List<String> jvmOptions, IntFunction<SerializableRunnable> prepare,
            IntFunction<SerializableRunnable> work) throws InterruptedException {
        List<ChildProcess> started = new ArrayList<>();
        // No spare JVMs here: taking one boots its replacement in the background, and on 2 cores that
        // boot would run during the timed phase. Children start cold; "total" includes that.
        int spares = ChildProcess.spareJvms();
        ChildProcess.setSpareJvms(0);
        try (SharedLongArray ctl = SharedLongArray.create(2 + children)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < children; i++) {
                int index = i;
                SerializableRunnable before = prepare.apply(i);
                SerializableRunnable body = work.apply(i);
                SerializableRunnable child = () -> {
                    before.run();
                    ctl.incrementAndGet(0);
                    // Yield rather than spin: on 2 cores the parent must get a CPU to say go.
                    while (ctl.get(1) == 0) {
                        Thread.yield();
                    }
                    body.run();
                    ctl.set(2 + index, System.nanoTime());
                };
                started.add(ChildProcess.builder().jvmOptions(jvmOptions).target(child).start());
            }
            while (ctl.get(0) < children) {
                for (ChildProcess c : started) {
                    if (!c.isAlive()) {
                        throw new IllegalStateException("benchmark child " + c.name() + " exited early: " + c.exitCode());
                    }
                }
                Thread.sleep(1);
            }
            long go = System.nanoTime();
            ctl.set(1, go);
            for (ChildProcess c : started) {
                joinSucceeded(c);
            }
            long end = System.nanoTime();
            long lastWorkEnd = 0;
            for (int i = 0; i < children; i++) {
                lastWorkEnd = Math.max(lastWorkEnd, ctl.get(2 + i));
            }
            return new Times((end - t0) / 1e9, (lastWorkEnd - go) / 1e9);
        } finally {
            for (ChildProcess c : started) {
                c.close();
            }
            ChildProcess.setSpareJvms(spares);
        }
    }

    /**
     * In a child's prepare step, after its JIT warm-up: returns once this JVM's JIT compilers have been idle
     * for {@value #JIT_QUIET_MILLIS} ms (5 s at most), as a spare's are by the time a task comes (its warm-up
     * runs while it waits). Without it the timed phase started while C2 still compiled what the warm-up
     * queued, on the same 2 cores.
     */
    static void awaitJitQuiet() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        long last = jit.getTotalCompilationTime();
        try {
            while (System.nanoTime() - deadline < 0) {
                Thread.sleep(JIT_QUIET_MILLIS);
                long now = jit.getTotalCompilationTime();
                if (now == last) {
                    return;
                }
                last = now;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final long JIT_QUIET_MILLIS = 100;

    /**
     * Joins {@code c}; IllegalStateException naming it, its exit code and its error unless it exited 0:
     * a benchmark child that failed did not do the work its numbers would claim.
     */
    static void joinSucceeded(ChildProcess c) throws InterruptedException {
        c.join();
        if (c.exitCode().orElse(-1) != 0) {
            Throwable failure = c.failure().orElse(null);
            throw new IllegalStateException("benchmark child " + c.name() + " failed: exit " + c.exitCode()
                    + (failure == null ? "" : ": " + failure), failure);
        }
    }
}
