package io.multiproc.redis;

import org.redisson.api.RScript;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The receipts of a {@link RedisManager}'s pops from unbounded queues (decision 255): each pop's pending list
 * (decision 247) is emptied by one script for many pops, sent {@link #DELAY_MILLIS} after the first of them
 * or as soon as {@link #MOST} are waiting, instead of one script per pop. The marks of timed offers answered in
 * time (decision 263, either kind of queue) go the same way: the script deletes them. Any thread may add; the manager's
 * close, and the clients' shutdown (JVM exit, a child's task end) for managers nobody closed, send what
 * waits and wait for the answers.
 *
 * <p>Implementation overview. {@link #waiting} (queue key -> pending keys) and {@link #scheduled} are written
 * under this object's monitor by popping threads and by the flush (a delayed task on the common pool);
 * whoever takes the map sends it, outside the monitor. A receipt sent once Redis stopped answering is sent
 * again every second until answered ({@link RedisSync#untilAnswered}), as one per pop was. A bounded
 * queue's receipt stays one per pop, waited for by the popping thread: it gives the item's room back, and
 * the caller's next offer must find it.
 */
final class QueueReceipts {
    /** How long the first waiting receipt waits for others to go with it. */
    static final long DELAY_MILLIS = 2;
    /** The most pending lists in one script; that many waiting are sent at once. */
    static final int MOST = 64;
    private static final Executor LATER = CompletableFuture.delayedExecutor(DELAY_MILLIS, TimeUnit.MILLISECONDS);

    /** The instances that have receipts waiting: what {@link #flushAll} sends (any thread; concurrent set). */
    private static final java.util.Set<QueueReceipts> WAITING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final RedisManager m;
    /** Queue key -> pending lists of its pops still to be received, in pop order; guarded by this. */
    private Map<String, List<Object>> waiting = new HashMap<>();
    /** How many pending lists {@link #waiting} holds; guarded by this. */
    private int count;
    /** A flush is due ({@link #LATER}); guarded by this. */
    private boolean scheduled;

    QueueReceipts(RedisManager m) {
        this.m = m;
    }

    /**
     * The pop of {@code queueKey} into {@code pending} answered its caller: its pending list is to go (or a timed
     * offer's mark {@code pending}, whose try answered its caller, is to go).
     */
    void add(String queueKey, String pending) {
        Map<String, List<Object>> full = null;
        synchronized (this) {
            List<Object> keys = waiting.get(queueKey);
            if (keys == null) {
                keys = new ArrayList<>();
                keys.add(queueKey); // KEYS[1] of the script
                waiting.put(queueKey, keys);
            }
            keys.add(pending);
            if (count++ == 0) {
                WAITING.add(this);
            }
            if (count >= MOST) {
                full = takeAll();
            } else if (!scheduled) {
                scheduled = true;
                LATER.execute(this::flush);
            }
        }
        if (full != null) {
            sendUntilAnswered(full);
        }
    }

    /** What the delayed task does: sends every waiting receipt. */
    private void flush() {
        Map<String, List<Object>> all;
        synchronized (this) {
            scheduled = false;
            all = takeAll();
        }
        sendUntilAnswered(all);
    }

    /** Sends each queue's receipt of {@code all}, again every second until Redis answers; never waits. */
    private void sendUntilAnswered(Map<String, List<Object>> all) {
        for (List<Object> keys : all.values()) {
            RedisSync.untilAnswered(m, () -> send(keys), r -> { }, () -> { });
        }
    }

    /**
     * Sends every waiting receipt now and waits for the answers ({@link RedisSync#within}: a command's timeout
     * in all, plus the late-reply grace for each queue whose answer is late; interrupts kept set): the manager
     * (or its client) is about to go, and a receipt it has not sent would leave its pending list for ever.
     * Failures are ignored: the pending lists then stay, as when a JVM dies after a pop.
     */
    void flushNow() {
        Map<String, List<Object>> all;
        synchronized (this) {
            all = takeAll();
        }
        List<CompletableFuture<Long>> sent = new ArrayList<>(all.size());
        for (List<Object> keys : all.values()) {
            try {
                sent.add(send(keys));
            } catch (RuntimeException clientShutDown) {
                // nothing can be sent any more
            }
        }
        long deadline = RedisSync.deadline(RedisManager.COMMAND_TIMEOUT.toNanos());
        for (CompletableFuture<Long> f : sent) {
            RedisSync.within(f, deadline); // unanswered or failed: the pending lists stay (see above)
        }
    }

    /** {@link #flushNow} of every manager's receipts: the clients are about to shut down. */
    static void flushAll() {
        for (QueueReceipts r : List.copyOf(WAITING)) {
            r.flushNow();
        }
    }

    /** Empties {@link #waiting} and returns what it held; called under this object's monitor. */
    private Map<String, List<Object>> takeAll() {
        if (count == 0) {
            return Map.of(); // NOTE: never the live map: the caller reads it outside the monitor
        }
        Map<String, List<Object>> all = waiting;
        waiting = new HashMap<>();
        count = 0;
        WAITING.remove(this);
        return all;
    }

    /** One receipt script for {@code keys}: the queue's key, then pending lists of its pops (one hash slot). */
    private CompletableFuture<Long> send(List<Object> keys) {
        return m.redisson().getScript(RedisCodec.STORED_BYTES).<Long>evalAsync((String) keys.get(0), RScript.Mode.READ_WRITE,
                Lua.QUEUE_RECEIVED_ALL, RScript.ReturnType.LONG, keys).toCompletableFuture();
    }
}
