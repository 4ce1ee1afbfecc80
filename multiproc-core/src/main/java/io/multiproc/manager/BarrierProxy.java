package io.multiproc.manager;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeoutException;

/**
 * A manager's barrier ({@link Manager#barrier(int)}); locally a {@code io.multiproc.sync.SharedBarrier}.
 *
 * <pre>{@code
 * BarrierProxy start = manager.barrier(3);
 * int arrival = start.await(Duration.ofSeconds(10));   // one party gets 0
 * }</pre>
 */
public interface BarrierProxy {
    int await() throws InterruptedException, BrokenBarrierException;

    int await(Duration timeout) throws InterruptedException, BrokenBarrierException, TimeoutException;

    int getParties();

    int getNumberWaiting();

    boolean isBroken();

    void reset();

    void abort();
}
