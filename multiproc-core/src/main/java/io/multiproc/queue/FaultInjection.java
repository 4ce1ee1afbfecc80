package io.multiproc.queue;

import java.util.function.Consumer;

/**
 * Test hooks: points inside the ring's write, read and remove paths, and before the ring locks, where
 * a test can stop a thread (and then SIGKILL or SIGSTOP its process) at an exact step. Package-private.
 *
 * <p>The points are compiled in only where {@link #ENABLED} is true, a {@code static final} read once
 * from the system property {@value #PROPERTY} (tests start the child JVM under test with
 * {@code -Dmultiproc.test.faultInjection=true}, then set {@link #hook} there). Everywhere else the JIT
 * folds every {@code if (FaultInjection.ENABLED)} away, and the hooked and unhooked runs execute the
 * same copy code (STYLE.md 14): the flag only adds the call, never another path.
 */
final class FaultInjection {
    static final String PROPERTY = "multiproc.test.faultInjection";
    /** True only in JVMs started for fault-injection tests. */
    static final boolean ENABLED = Boolean.getBoolean(PROPERTY);
    /** The JVM option that turns the points on in a child. */
    static final String JVM_OPTION = "-D" + PROPERTY + "=true";

    enum Point {
        /** A producer holds the producer lock and has written part of a record's payload, not the tail. */
        PRODUCER_MID_RECORD,
        /** A consumer holds the consumer lock and has copied a record, not yet moved the head. */
        CONSUMER_MID_RECORD,
        /** A consumer has copied a spilled item and unlinked its segment, not yet moved the head. */
        CONSUMER_AFTER_SPILL_UNLINK,
        /** A consumer removing an item from the middle has marked its record removed, not yet counted it. */
        CONSUMER_MID_REMOVE,
        /** A producer holds the producer lock, before it writes anything. */
        PRODUCER_LOCKED,
        /** A consumer holds the consumer lock, before it reads anything. */
        CONSUMER_LOCKED
    }

    /** Set by a test in the JVM under test (volatile: the test's thread and the queue's may differ). */
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
