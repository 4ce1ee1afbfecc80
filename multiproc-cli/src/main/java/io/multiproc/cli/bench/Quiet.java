package io.multiproc.cli.bench;

import io.multiproc.internal.ProcessIdentity;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Waits until this JVM and every process it started have stopped using the CPU, before a program that
 * the bench compares against starts (CPython's side of a scenario, a fresh JVM's first run).
 * <p>Why: after a scenario's Java side, the spare JVMs that replace its children boot and warm up for
 * several seconds (~0.5-1 core for up to 12 s on 2 busy cores, measured 2026-12-04); a warm-up paces
 * itself against this program and its siblings, not against other programs (decision 124). CPython's
 * side, started at once, shared the 2 cores with them: its Pool(2).map of 1,000,000 ints took 0.35-1.04 s
 * in the bench against 0.17-0.23 s alone, so every ratio after a Java side was too kind to Java
 * (decision 151).
 * <p>Example: {@code Quiet.await(Quiet.MAX_WAIT)} right before {@code new ProcessBuilder(...).start()}.
 */
final class Quiet {
    /** The longest wait; after it the program runs anyway and stderr says the machine was not quiet. */
    static final Duration MAX_WAIT = Duration.ofSeconds(30);
    /** One sample window. */
    private static final long WINDOW_MS = 250;
    /** At most this many clock ticks (10 ms each) of CPU in a window: under 8% of one core. */
    private static final long QUIET_TICKS = 2;
    /** Quiet windows in a row that count as quiet (a spare between two warm-up steps sleeps 50 ms). */
    private static final int QUIET_WINDOWS = 2;

    private Quiet() {
    }

    private static long ticks(long pid) {
        return ProcessIdentity.cpuTicks(Path.of("/proc", Long.toString(pid), "stat"));
    }

    /** Waits up to {@code max} for this process tree to be quiet; returns the seconds waited. */
    static double await(Duration max) {
        long start = System.nanoTime();
        long deadline = start + max.toNanos();
        java.util.Map<Long, Long> before = treeTicks();
        int quiet = 0;
        while (quiet < QUIET_WINDOWS) {
            if (System.nanoTime() - deadline > 0) {
                System.err.printf("multiproc bench: this program's own processes were still busy after %d s; "
                        + "the next comparison shares the CPU with them%n", max.toSeconds());
                break;
            }
            try {
                Thread.sleep(WINDOW_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            java.util.Map<Long, Long> now = treeTicks();
            long used = 0;
            for (java.util.Map.Entry<Long, Long> e : now.entrySet()) {
                // a process that ended is left out (or read 0 as it ended): never subtracted
                used += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
            }
            quiet = used <= QUIET_TICKS ? quiet + 1 : 0;
            before = now;
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** User and system clock ticks of this JVM and of each living descendant, by pid. */
    private static java.util.Map<Long, Long> treeTicks() {
        java.util.Map<Long, Long> ticks = new java.util.HashMap<>();
        ticks.put(ProcessHandle.current().pid(), ticks(ProcessHandle.current().pid()));
        for (ProcessHandle h : ProcessHandle.current().descendants().toList()) {
            ticks.put(h.pid(), ticks(h.pid()));
        }
        return ticks;
    }
}
