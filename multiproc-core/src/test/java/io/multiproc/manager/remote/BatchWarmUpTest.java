package io.multiproc.manager.remote;

import io.multiproc.internal.SharedSegments;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server compiles its batch path on a private heap when it starts (decision 133): nothing appears in
 * /dev/shm (the extension checks), the thread ends by itself, and it stops when asked.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class BatchWarmUpTest {
    private static final String THREAD = "multiproc-manager-batch-warm-up";

    @Test
    void aStartedServerWarmsItsBatchPathOnceOnAPrivateHeapThatLeavesNothingBehind() throws Exception {
        byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        try (var local = io.multiproc.manager.Manager.start();
             ManagerServer first = ManagerServer.start(local, new InetSocketAddress("127.0.0.1", 0), key);
             ManagerServer second = ManagerServer.start(local, new InetSocketAddress("127.0.0.1", 0), key)) {
            assertThat(BatchWarmUp.started()).as("a server start began the warm-up (in this JVM, maybe by an earlier test)").isTrue();
            assertThat(Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(THREAD)).count())
                    .as("warm-up threads").isLessThanOrEqualTo(1);
            Children.awaitUntil("the warm-up thread ends", () -> Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().equals(THREAD)));
        }
    }

    @Test
    void theWarmUpRunsItsRoundsAndStopsWhenAsked() {
        AtomicInteger asked = new AtomicInteger();
        SharedSegments.privately(() -> BatchWarmUp.run(3, () -> asked.incrementAndGet() > 2));
        assertThat(asked.get()).as("rounds asked before stopping").isEqualTo(3);
        asked.set(0);
        SharedSegments.privately(() -> BatchWarmUp.run(2, () -> asked.incrementAndGet() > 100));
        assertThat(asked.get()).as("all rounds ran").isEqualTo(2);
    }
}
