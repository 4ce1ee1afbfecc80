package io.multiproc;

/**
 * Module-level helpers, like the functions at the top of Python's {@code multiprocessing}.
 *
 * <pre>{@code
 * int n = Multiproc.cpuCount();        // how many workers a Pool gets by default
 * }</pre>
 */
public final class Multiproc {
    private Multiproc() {
    }

    /** The number of CPUs this JVM may use (honours cgroup limits and affinity, unlike os.cpu_count()). */
    public static int cpuCount() {
        return Runtime.getRuntime().availableProcessors();
    }
}
