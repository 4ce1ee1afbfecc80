package io.multiproc.wait;

import io.multiproc.internal.Native;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A default-strategy waiter whose peer goes quiet ends up asleep: its yields and spins (decisions 118,
 * 127) last microseconds to a millisecond per wait, so a wait on nothing costs next to no CPU, also
 * right after the peer answered fast (the learnt yield budget at its maximum).
 */
class IdleWaitCpuTest {
    private static final long WAIT_NANOS = 2_000_000_000L;

    @Test
    void aWaitOnAQuietPeerCostsUnderTwoPercentOfACpuEvenAfterFastAnswers() throws Exception {
        assumeTrue(Native.isAvailable(), "futex sleeps need native access");
        try (Arena arena = Arena.ofShared()) {
            MemorySegment words = arena.allocate(16, 8);
            WaitWord word = new WaitWord(words, 0, 4);
            // first, a short wait that sleeps: links the futex call (one-time CPU not part of waiting)
            Waiting.await(new WaitWord(words, 8, 12), IdleStrategy.blocking(), () -> false, Waiting.deadline(50_000_000L), true);
            for (int i = 0; i < 10; i++) {
                word.learn(WaitWord.MAX_YIELD_NANOS); // a peer that kept answering within 1 ms
            }
            AtomicLong cpu = new AtomicLong();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try {
                    long before = threadCpuNanos();
                    Waiting.await(word, IdleStrategy.blocking(), () -> false, Waiting.deadline(WAIT_NANOS), true);
                    cpu.set(threadCpuNanos() - before);
                } catch (InterruptedException | IOException e) {
                    cpu.set(-1);
                }
            });
            waiter.join(30_000);
            System.out.printf("IdleWaitCpuTest: a 2 s wait on a quiet peer used %.2f ms of CPU%n", cpu.get() / 1e6);
            assertThat(cpu.get()).as("CPU ns of a 2 s wait on a quiet peer").isPositive()
                    .isLessThan(WAIT_NANOS / 50);
        }
    }

    /** This thread's time on a CPU, ns (the first field of /proc/thread-self/schedstat). */
    private static long threadCpuNanos() throws IOException {
        return Long.parseLong(Files.readString(Path.of("/proc/thread-self/schedstat")).trim().split(" ")[0]);
    }
}
