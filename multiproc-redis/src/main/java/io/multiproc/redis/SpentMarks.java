package io.multiproc.redis;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The marks of one lock's or semaphore's tries that Redis granted and answered in time (decisions 257, 261):
 * no give-back looks for them any more, so the object's next try or release deletes one inside its own
 * script instead of a DEL command per grant (one more command for Redis per acquire/release pair, about
 * 40 us of a pair here). Each is also a key derived from the object ({@link RedisSync#derived}), so one
 * left when the object's last proxy becomes garbage goes with the object, and any left at close goes with
 * the connection; otherwise a spent mark lapses with its expiry.
 *
 * <p>Offered by the granting thread, taken by any thread of this JVM using the object (a concurrent queue):
 * as many as tries in flight at most.
 */
final class SpentMarks {
    private final RedisSync sync;
    /** The object's key: what the marks are derived from. */
    private final String base;
    private final Queue<String> marks = new ConcurrentLinkedQueue<>();

    SpentMarks(RedisSync sync, String base) {
        this.sync = sync;
        this.base = base;
    }

    /** A granted try's {@code mark}, answered in time: to be deleted by a later script. */
    void offer(String mark) {
        sync.derived(base, mark);
        marks.offer(mark);
    }

    /** {@code keys} with a spent mark appended for the script to delete, or {@code keys} if there is none. */
    List<Object> with(List<Object> keys) {
        String mark = marks.poll();
        if (mark == null) {
            return keys;
        }
        sync.underived(base, mark);
        Object[] all = keys.toArray(new Object[keys.size() + 1]);
        all[keys.size()] = mark;
        return List.of(all);
    }
}
