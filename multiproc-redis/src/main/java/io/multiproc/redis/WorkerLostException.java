package io.multiproc.redis;

import io.multiproc.process.WorkerDiedException;

import java.io.Serial;
import java.util.OptionalInt;

/**
 * A {@link RedisPool} worker stopped sending heartbeats while it held this task: its host died, lost
 * its network, or froze for longer than the workers' lease. Its exit code is unknown (no supervisor was
 * left to see it); the task is failed, never re-run (at most once, decision 110).
 *
 * <pre>{@code
 * try {
 *     pool.map(f, items);
 * } catch (WorkerDiedException e) {          // WorkerLostException is one
 *     System.out.println(e.getMessage());    // "... 4242@host-b#k3x9q1 stopped sending heartbeats ..."
 * }
 * }</pre>
 */
public final class WorkerLostException extends WorkerDiedException {
    @Serial
    private static final long serialVersionUID = 1L;
    /** What {@link #exitCode()} returns: nobody saw the worker exit. */
    public static final int UNKNOWN_EXIT_CODE = Integer.MIN_VALUE;

    private final String worker;
    private final String held;

    public WorkerLostException(String worker, long pid, String held) {
        super(pid, UNKNOWN_EXIT_CODE, held);
        this.worker = worker;
        this.held = held;
    }

    /** The worker's id, {@code pid@host#incarnation}. */
    public String worker() {
        return worker;
    }

    @Override
    public String getMessage() {
        return "Redis pool worker " + worker + " stopped sending heartbeats (its host died, lost its network or"
                + " froze longer than the lease) while it held " + held;
    }

    /** Always empty: the exit was not seen. */
    @Override
    public OptionalInt signal() {
        return OptionalInt.empty();
    }
}
