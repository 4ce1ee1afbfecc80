package io.multiproc.sync;

import java.util.function.Consumer;

/**
 * Test hooks: points inside the locks' algorithms where a test stops a thread, to open a race window
 * on purpose. Off unless the JVM starts with {@code -Dmultiproc.test.syncFaults=true}: {@link #ENABLED}
 * is a static final the JIT folds, so production and tests run the same code and an unset hook costs
 * nothing. Set {@link #hook} only in a child JVM started with that flag, before the first operation.
 * Package-private.
 */
final class SyncFaults {
    /** True only in JVMs started with {@code -Dmultiproc.test.syncFaults=true} (tests). */
    static final boolean ENABLED = Boolean.getBoolean("multiproc.test.syncFaults");

    enum Point {
        /** A waiter has CASed a dead holder's token to its own and has not yet recorded its thread. */
        TAKEOVER_CLAIMED,
        /** A condition waiter (lock held) has claimed a slot and not yet marked it WAITING. */
        CONDITION_SLOT_CLAIMED,
        /** A barrier waiter's timeout has passed and it has not yet broken its generation. */
        BARRIER_TIMED_OUT
    }

    static volatile Consumer<Point> hook;

    private SyncFaults() {
    }

    static void at(Point point) {
        Consumer<Point> h = hook;
        if (h != null) {
            h.accept(point);
        }
    }
}
