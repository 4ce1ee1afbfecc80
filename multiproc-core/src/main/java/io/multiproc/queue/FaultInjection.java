package io.multiproc.queue;

import java.util.function.Consumer;

/**
 * Test hooks: points inside the ring's write and read paths where a test can stop a thread (and then
 * SIGKILL its process) in the middle of a record. Package-private; set only by tests, in the child JVM
 * under test, before the first operation. A plain static read per record when unset.
 */
final class FaultInjection {
    enum Point {
        /** A producer holds the producer lock and has written half of a record's payload, not the tail. */
        PRODUCER_MID_RECORD,
        /** A consumer holds the consumer lock and has copied a record, not yet moved the head. */
        CONSUMER_MID_RECORD,
        /** A consumer has copied a spilled item and unlinked its segment, not yet moved the head. */
        CONSUMER_AFTER_SPILL_UNLINK
    }

    static Consumer<Point> hook;

    private FaultInjection() {
    }

    static void at(Point point) {
        Consumer<Point> h = hook;
        if (h != null) {
            h.accept(point);
        }
    }
}
