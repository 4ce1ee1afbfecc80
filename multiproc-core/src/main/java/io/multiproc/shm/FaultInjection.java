package io.multiproc.shm;

import java.util.function.Consumer;

/**
 * Test hooks: points inside a ShareableList write where a test can stop a thread (and then SIGKILL its
 * process) at an exact step. Package-private.
 *
 * <p>The points are compiled in only where {@link #ENABLED} is true, a {@code static final} read once
 * from the system property {@value #PROPERTY} (tests start the child JVM under test with
 * {@code -Dmultiproc.test.faultInjection=true}, then set {@link #hook} there). Everywhere else the JIT
 * folds every {@code if (FaultInjection.ENABLED)} away, and hooked and unhooked runs execute the same
 * code (STYLE.md 14).
 */
final class FaultInjection {
    static final String PROPERTY = "multiproc.test.faultInjection";
    /** True only in JVMs started for fault-injection tests. */
    static final boolean ENABLED = Boolean.getBoolean(PROPERTY);
    /** The JVM option that turns the points on in a child. */
    static final String JVM_OPTION = "-D" + PROPERTY + "=true";

    enum Point {
        /** A write changing a slot's type has stored the value and one of its format and code, not the other. */
        BETWEEN_FORMAT_AND_CODE
    }

    /** Set by a test in the JVM under test (volatile: the test's thread and the writer's may differ). */
    static volatile Consumer<Point> hook;

    private FaultInjection() {
    }

    static void at(Point point) {
        Consumer<Point> h = hook;
        if (h != null) {
            h.accept(point);
        }
    }
}
