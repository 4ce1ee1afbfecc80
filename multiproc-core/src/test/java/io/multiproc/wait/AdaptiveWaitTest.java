package io.multiproc.wait;

import io.multiproc.internal.Native;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The default strategy stays awake for a peer that answers fast: a first run's interpreted peer answers a
 * pipe message or a lock hand-off in tens to hundreds of microseconds, and sleeping on the futex for each
 * answer cost both sides a system call and a wake-up latency.
 */
class AdaptiveWaitTest {
    private static final VarHandle INT = JAVA_INT.varHandle();

    @Test
    void yieldBudgetFollowsHowSoonRecentWaitsEnded() {
        // a peer that answered 150 us after the fixed spin: the next waits yield 300 us before sleeping
        assertThat(WaitWord.nextYieldNanos(0, 150_000)).isEqualTo(300_000);
        // a shorter answer keeps the budget; it never exceeds the maximum
        assertThat(WaitWord.nextYieldNanos(300_000, 10_000)).isEqualTo(300_000);
        assertThat(WaitWord.nextYieldNanos(300_000, WaitWord.MAX_YIELD_NANOS)).isEqualTo((int) WaitWord.MAX_YIELD_NANOS);
        // an idle peer (a long wait) or a timeout halves it, so idle waiters soon sleep at once again
        assertThat(WaitWord.nextYieldNanos(800_000, 50_000_000)).isEqualTo(400_000);
        assertThat(WaitWord.nextYieldNanos(800_000, -1)).isEqualTo(400_000);
        assertThat(WaitWord.nextYieldNanos(1, 50_000_000)).isZero();
    }

    @Test
    void afterFastAnswersAWaitYieldsForItsBudgetBeforeItSleepsAndAnIdleWordSleepsAtOnce() throws Exception {
        assumeTrue(Native.isAvailable(), "futex sleeps need native access");
        try (Arena arena = Arena.ofShared()) {
            MemorySegment words = arena.allocate(16, 8);
            AtomicInteger sleeps = new AtomicInteger();
            Waiting.BeforeSleep counting = () -> {
                sleeps.incrementAndGet();
                return true;
            };
            // no recent answer: past its fixed spin the waiter sleeps (a 200 ms wait on nothing)
            WaitWord idle = new WaitWord(words, 0, 4);
            assertThat(Waiting.await(idle, IdleStrategy.blocking(), () -> false, counting, Waiting.deadline(200_000_000L), true))
                    .isFalse();
            assertThat(sleeps.get()).as("sleeps of a wait on an idle word").isPositive();
            assertThat(idle.yieldNanos()).isZero();

            // a peer answered 500 us after the fixed spin: a wait shorter than the 1 ms budget does not
            // sleep, unless a yield found the core crowded (a loaded machine): of 5 such waits, one at least
            WaitWord active = new WaitWord(words, 8, 12);
            int awake = 0;
            for (int attempt = 0; attempt < 5; attempt++) {
                active.learn(500_000);
                sleeps.set(0);
                assertThat(Waiting.await(active, IdleStrategy.blocking(), () -> false, counting, Waiting.deadline(800_000L), true))
                        .isFalse();
                awake += sleeps.get() == 0 ? 1 : 0;
            }
            assertThat(awake).as("0.8 ms waits within a 1 ms budget that never slept, of 5").isPositive();
        }
    }

    @Test
    void aWaiterWhosePeerAnswersWithinMicrosecondsStaysAwakeSoThePeerNeedsNoFutexWake() throws Exception {
        assumeTrue(Native.isAvailable(), "futex sleeps need native access");
        try (Arena arena = Arena.ofShared()) {
            MemorySegment words = arena.allocate(16, 8);
            WaitWord word = new WaitWord(words, 0, 4);
            int handoffs = 400;
            AtomicInteger sleepersSeen = new AtomicInteger();
            Thread waiter = Thread.ofPlatform().start(() -> {
                for (int i = 1; i <= handoffs; i++) {
                    int want = i;
                    try {
                        Waiting.await(word, IdleStrategy.blocking(), () -> (int) INT.getVolatile(words, 12L) >= want,
                                Waiting.deadline(10_000_000_000L), true);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            for (int i = 1; i <= handoffs; i++) {
                long until = System.nanoTime() + 150_000; // the peer works 150 us per answer
                while (System.nanoTime() - until < 0) {
                    Thread.onSpinWait();
                }
                INT.setVolatile(words, 12L, i);
                // a registered sleeper means this answer costs a futex wake; count them after a warm-up
                if (i > handoffs / 2 && word.sleepers() > 0) {
                    sleepersSeen.incrementAndGet();
                }
                word.wakeAll();
            }
            waiter.join(30_000);
            assertThat(waiter.isAlive()).as("the waiter saw every answer").isFalse();
            // Without adaptation the waiter sleeps for nearly every answer (its fixed spin lasts a few us).
            // A waiter preempted past its budget may still sleep now and then on a loaded machine.
            assertThat(sleepersSeen.get()).as("answers that found the waiter asleep, of %d", handoffs / 2)
                    .isLessThan(handoffs / 4);
        }
    }
}
