package io.multiproc.process;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static io.multiproc.testing.Children.TIMEOUT;
import static io.multiproc.testing.Children.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a pool does with its settings and its reporting: worker counts, the console bar, a failing idle strategy. */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class PoolInputTest {
    private static final long SECONDS = TIMEOUT.toSeconds();

    @Test
    void aWorkerCountNoKernelCanRunIsRefusedNamingItBeforeAnythingStarts() {
        // it threw OutOfMemoryError: the pool made room for every worker up front
        assertThatThrownBy(() -> Pool.builder().workers(Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workers=" + Integer.MAX_VALUE).hasMessageContaining("must be <= " + Pool.MAX_WORKERS);
        assertThatThrownBy(() -> Pool.create(Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workers=" + Integer.MAX_VALUE);
        assertThatThrownBy(() -> Pool.create(Pool.MAX_WORKERS + 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workers=" + (Pool.MAX_WORKERS + 1));
        assertThat(Pool.builder().workers(Pool.MAX_WORKERS)).isNotNull(); // the bound itself is a count (not built)
    }

    /** A console bar on a buffer, and what it printed. */
    private static final class Captured {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        final Progress bar = Progress.consoleBar("work", out);

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        void assertDrewThenEndedItsLine(String how) {
            assertThat(text()).as("what the bar printed when the map ended by %s", how).contains("work [").endsWith("\n");
        }
    }

    @Test
    void theConsoleBarEndsItsLineHoweverTheMapEnds() throws Exception {
        List<Integer> items = IntStream.range(0, 8).boxed().toList();
        Pool pool = Pool.create(2);
        try {
            Captured thrown = new Captured();
            assertThatThrownBy(() -> pool.map(x -> {
                if (x == 5) {
                    PoolTest.sleep(300); // the others are drawn first
                    throw new IllegalStateException("item 5");
                }
                return x;
            }, items, 1, thrown.bar)).hasMessageContaining("item 5");
            thrown.assertDrewThenEndedItsLine("a task that threw");

            Captured died = new Captured();
            assertThatThrownBy(() -> pool.map(x -> {
                if (x == 5) {
                    PoolTest.sleep(300);
                    Runtime.getRuntime().halt(9);
                }
                return x;
            }, items, 1, died.bar)).isInstanceOf(WorkerDiedException.class);
            died.assertDrewThenEndedItsLine("a worker that died");

            Captured cancelled = new Captured();
            CompletableFuture<List<Integer>> map = pool.mapAsync(x -> {
                if (x == 5) {
                    PoolTest.sleep(60_000);
                }
                return x;
            }, items, 1, cancelled.bar);
            awaitUntil("the bar drew", () -> cancelled.text().contains("work ["));
            map.cancel(true);
            cancelled.assertDrewThenEndedItsLine("cancel");

            Captured terminated = new Captured();
            CompletableFuture<List<Integer>> last = pool.mapAsync(x -> {
                if (x == 5) {
                    PoolTest.sleep(60_000);
                }
                return x;
            }, items, 1, terminated.bar);
            awaitUntil("the bar drew", () -> terminated.text().contains("work ["));
            pool.terminate();
            assertThatThrownBy(() -> last.get(SECONDS, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
            terminated.assertDrewThenEndedItsLine("terminate");
        } finally {
            pool.terminate();
        }
        Captured done = new Captured();
        try (Pool ok = Pool.create(1)) {
            assertThat(ok.map(x -> x, List.of(1, 2, 3), 1, done.bar)).containsExactly(1, 2, 3);
        }
        assertThat(done.text()).endsWith("3/3\n").doesNotContain("\n\n"); // a success ends it once, as before
    }

    /** Throws in worker JVMs only, where the pool's pipes wait with it (this JVM waits as usual). */
    static final class BrokenInWorkers implements io.multiproc.wait.IdleStrategy, java.io.Serializable {
        @Override
        public void pause(int round) {
            if (PoolIdle.inWorker) {
                throw new IllegalStateException("my strategy broke at round " + round);
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void anIdleStrategyThatThrowsInAWorkerBreaksThePoolWithItsOwnException() throws Exception {
        // it was taken for the end of the pipe: the worker exited 0, was replaced after every task, and a task
        // it held failed with "died (exit code 0)"
        Pool pool = Pool.builder().workers(1).idle(new BrokenInWorkers()).build();
        try {
            CompletableFuture<Integer> f = pool.applyAsync(() -> 1);
            try {
                assertThat(f.get(SECONDS, TimeUnit.SECONDS)).isEqualTo(1); // it may have come before the worker first waited
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessageContaining("my strategy broke");
            }
            awaitUntil("the pool is broken", pool::isShutdown);
            assertThatThrownBy(() -> pool.applyAsync(() -> 2)).isInstanceOf(RejectedExecutionException.class)
                    .hasMessageContaining("idle strategy threw")
                    .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("my strategy broke");
            assertThat(pool.join(TIMEOUT)).isTrue();
        } finally {
            pool.terminate();
        }
    }
}
