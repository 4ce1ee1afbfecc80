package io.multiproc.process;

import java.time.Duration;
import java.util.List;

/**
 * A parent JVM for {@link PoolLifetimeTest}: the test starts this class as its own JVM and watches its
 * output, its exit and its workers. Not a test itself.
 *
 * <ul>
 *   <li>{@code unclosed}: a pool of 2 maps a task that prints {@code out-from-worker-N} to stdout and
 *       {@code err-from-worker-N} to stderr, prints {@code mapped=[...]}, and returns from main
 *       without closing the pool.</li>
 *   <li>{@code orphan}: a pool of 2 prints {@code worker-pids=P1,P2} and sleeps until killed.</li>
 * </ul>
 */
public final class PoolScenario {
    static final String MAIN_CLASS = PoolScenario.class.getName();

    private PoolScenario() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "unclosed" -> unclosed();
            case "orphan" -> orphan();
            default -> throw new IllegalArgumentException("scenario=" + args[0] + " is not known");
        }
    }

    private static void unclosed() {
        Pool pool = Pool.create(2);
        List<Integer> out = pool.map(x -> {
            System.out.println("out-from-worker-" + x);
            System.err.println("err-from-worker-" + x);
            return x * 10;
        }, List.of(1, 2, 3), 1);
        System.out.println("mapped=" + out);
    }

    private static void orphan() throws InterruptedException {
        Pool pool = Pool.create(2);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (pool.workerPids().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        pool.map(x -> x, List.of(1, 2), 1); // both workers booted and running their loop
        List<Long> pids = pool.workerPids();
        System.out.println("worker-pids=" + pids.get(0) + "," + pids.get(1));
        System.out.flush();
        Thread.sleep(Duration.ofSeconds(60));
    }
}
