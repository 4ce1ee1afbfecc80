package io.multiproc.wait;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two threads that bounce a message share one core (on a 2-core machine the scheduler often puts both
 * ends of a pipe there while the other core runs something else): a waiter of the default strategy
 * gives the core to its peer soon after it starts waiting, instead of spinning its whole fixed spin
 * (100 rounds: tens of microseconds, and hundreds while the code still runs interpreted) while the
 * peer that must answer cannot run (decision 127).
 */
class SharedCoreHandOffTest {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final int HANDOFFS = 4_000;

    @Test
    void aWaiterSharingItsCoreWithThePeerGivesItTheCoreWithinAFewChecks() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment words = arena.allocate(16, 8);
            WaitWord word = new WaitWord(words, 0, 4);
            // words[8]: the count of messages so far; each side waits for its turn (odd: ponger, even: pinger)
            int[][] checks = new int[2][HANDOFFS / 2];
            Thread[] sides = new Thread[2];
            String[] tids = new String[2];
            java.util.concurrent.CountDownLatch pinned = new java.util.concurrent.CountDownLatch(1);
            boolean[] pinnedOk = {false};
            java.util.concurrent.CountDownLatch named = new java.util.concurrent.CountDownLatch(2);
            for (int s = 0; s < 2; s++) {
                int side = s;
                sides[s] = Thread.ofPlatform().start(() -> {
                    try {
                        tids[side] = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
                        named.countDown();
                        pinned.await();
                        if (!pinnedOk[0]) {
                            return; // taskset failed: the test reports it
                        }
                        for (int k = 0; k < HANDOFFS / 2; k++) {
                            int want = 2 * k + side; // this side's turn: the count equals want
                            int[] n = {0};
                            boolean turn = Waiting.await(word, IdleStrategy.blocking(), () -> {
                                n[0]++;
                                return (int) INT.getVolatile(words, 8L) == want;
                            }, Waiting.deadline(TimeUnit.SECONDS.toNanos(30)), true);
                            if (!turn) {
                                return; // the peer never answered: the count below shows it
                            }
                            checks[side][k] = n[0];
                            INT.setVolatile(words, 8L, want + 1);
                            word.wakeAll();
                        }
                    } catch (InterruptedException | IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
            named.await();
            try {
                pin(tids[0]);
                pin(tids[1]);
                pinnedOk[0] = true;
            } finally {
                pinned.countDown(); // NOTE: the sides end either way (they are not daemons)
            }
            for (Thread t : sides) {
                t.join(60_000);
                assertThat(t.isAlive()).as("a side still waits").isFalse();
            }
            assertThat((int) INT.getVolatile(words, 8L)).isEqualTo(HANDOFFS);
            // the second half of each side's waits, once the loops are compiled
            int[] late = Arrays.stream(checks).flatMapToInt(c -> Arrays.stream(c, c.length / 2, c.length)).sorted().toArray();
            int median = late[late.length / 2];
            // A wait that finds the answer after handing over the core checks its condition a few times:
            // once before, once after the peer ran (more if a third thread took the core meanwhile).
            // Spinning until the peer is preempted by the scheduler's tick takes 100 checks or more.
            assertThat(median).as("median condition checks per wait, both threads on one core").isLessThan(50);
        }
    }

    /** Pins one thread to CPU 0 (taskset, util-linux). */
    private static void pin(String tid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("taskset", "-pc", "0", tid).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("taskset: " + out).isZero();
    }
}
