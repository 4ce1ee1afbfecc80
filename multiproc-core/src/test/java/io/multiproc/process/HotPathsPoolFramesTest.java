package io.multiproc.process;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spares' warm-up includes a pool worker's chunk paths (decode a task of Integers, encode and decode
 * its reply), and, like every path, stops within one iteration when a task arrives.
 */
@Timeout(60)
class HotPathsPoolFramesTest {
    @Test
    void sparesWarmThePoolChunkPaths() {
        assertThat(HotPaths.Path.values()).contains(HotPaths.Path.POOL_FRAMES);
        AtomicInteger asked = new AtomicInteger();
        HotPaths.Path.POOL_FRAMES.run(50, 2, () -> asked.incrementAndGet() < 0);
        assertThat(asked.get()).as("iterations run, each asking stop first").isEqualTo(100);
    }

    @Test
    void aTaskArrivingStopsThePoolFramesWarmUpWithinOneIteration() {
        AtomicInteger asked = new AtomicInteger();
        HotPaths.Path.POOL_FRAMES.run(2_000, 12, () -> asked.incrementAndGet() > 3);
        assertThat(asked.get()).isEqualTo(4);
    }
}
