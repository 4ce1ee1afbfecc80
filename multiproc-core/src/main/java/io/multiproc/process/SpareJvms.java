package io.multiproc.process;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A few child JVMs started ahead of time, each booted and blocked reading its control channel, so that
 * {@link ChildProcess#start()} only has to send the task. A spare that is taken is replaced in the
 * background. Spares are used only for children with default JVM options.
 *
 * <p>Spares die with this JVM like any child (their stdin closes and PR_SET_PDEATHSIG fires).
 */
final class SpareJvms {
    static final String PROPERTY = "multiproc.spareJvms";
    static final int DEFAULT = 1;
    /** Longest wait, after a spare is taken, before its replacement starts booting. */
    static final long REFILL_DELAY_MILLIS = 250;
    private static final ConcurrentLinkedQueue<Process> SPARES = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger LAUNCHING = new AtomicInteger();
    private static volatile int target = initialTarget();

    private SpareJvms() {
    }

    private static int initialTarget() {
        String v = System.getProperty(PROPERTY);
        if (v == null) {
            return DEFAULT;
        }
        try {
            return checkCount(Integer.parseInt(v.trim()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + v + " must be a whole number >= 0");
        }
    }

    static int checkCount(int count) {
        if (count < 0 || count > 64) {
            throw new IllegalArgumentException("spareJvms=" + count + " must be between 0 and 64");
        }
        return count;
    }

    static int target() {
        return target;
    }

    static void setTarget(int count) {
        target = checkCount(count);
        Process extra;
        while (SPARES.size() > count && (extra = SPARES.poll()) != null) {
            dismiss(extra);
        }
    }

    /**
     * A running spare, or null if none is ready. The replacement boots once the taken spare's task
     * ends, or after {@link #REFILL_DELAY_MILLIS}, whichever comes first (at once when none was ready).
     */
    static Process take() {
        Process p;
        while ((p = SPARES.poll()) != null && !p.isAlive()) {
            // a spare that died (killed from outside) is dropped
        }
        if (p == null) {
            refill();
        } else {
            // NOTE: a JVM boot takes ~1.5 cores for ~100 ms. Booting the replacement while the task
            // runs would slow a short task (and its exit) to a crawl on a 2-core machine.
            CompletableFuture.anyOf(p.onExit(), CompletableFuture.runAsync(() -> { },
                    CompletableFuture.delayedExecutor(REFILL_DELAY_MILLIS, TimeUnit.MILLISECONDS)))
                    .thenRun(SpareJvms::refill);
        }
        return p;
    }

    static void refill() {
        while (SPARES.size() + LAUNCHING.get() < target) {
            LAUNCHING.incrementAndGet();
            Launcher.launchAsync(List.of(), Launcher.Mode.SPARE).whenComplete((proc, err) -> {
                if (proc != null) {
                    if (SPARES.size() < target) {
                        SPARES.add(proc);
                    } else {
                        dismiss(proc);
                    }
                }
                LAUNCHING.decrementAndGet();
            });
        }
    }

    /** Closing its stdin makes a waiting spare exit quietly. */
    static void dismiss(Process spare) {
        try {
            spare.getOutputStream().close();
        } catch (java.io.IOException ignored) {
            spare.destroyForcibly();
        }
    }

    static void dismissAll() {
        Process p;
        while ((p = SPARES.poll()) != null) {
            dismiss(p);
        }
    }
}
