package io.multiproc.internal;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The library's background timers: one daemon thread each (a timer never keeps the program alive), and
 * cancelled tasks leave the queue at once (periodic watches are cancelled when what they watch closes).
 *
 * <pre>{@code
 * private static final ScheduledExecutorService TICKER = DaemonScheduler.create("multiproc-spares");
 * }</pre>
 */
public final class DaemonScheduler {
    private DaemonScheduler() {
    }

    /** A single-threaded scheduler whose thread is a daemon named {@code threadName}. */
    public static ScheduledExecutorService create(String threadName) {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, threadName);
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        return t;
    }
}
