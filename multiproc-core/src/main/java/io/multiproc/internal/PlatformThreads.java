package io.multiproc.internal;

import java.util.Arrays;
import java.util.List;

/**
 * This JVM's live platform threads, listed through the thread groups rather than
 * {@code Thread.getAllStackTraces()}: no safepoint and no stack walks, which matters on paths every
 * exit takes (a child's wait for its task's threads, a parent's exit hook). Virtual threads are not
 * listed; they are daemons.
 *
 * <pre>{@code
 * boolean stopping = PlatformThreads.live().stream().anyMatch(t -> t.getName().equals("SIGTERM handler"));
 * }</pre>
 */
public final class PlatformThreads {
    private PlatformThreads() {
    }

    /** A snapshot of the live platform threads of every thread group. */
    public static List<Thread> live() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        // NOTE: a few spare places: threads started between the count and the listing are seen next time
        Thread[] threads = new Thread[root.activeCount() + 16];
        int n = root.enumerate(threads, true);
        return Arrays.stream(threads, 0, n).filter(Thread::isAlive).toList();
    }
}
