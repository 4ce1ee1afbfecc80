package io.multiproc.sync;

import io.multiproc.internal.ProcessIdentity;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.shared.SharedLongArray;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.multiproc.sync.SharedLockTest.sleepQuietly;
import static io.multiproc.testing.Children.awaitUntil;
import static io.multiproc.testing.Children.inThreads;
import static io.multiproc.testing.Children.joinAllOk;
import static io.multiproc.testing.Children.joinOk;
import static io.multiproc.testing.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SharedBarrier (Python's Barrier) with parties in several processes and threads. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedBarrierTest {
    /** What a child party reports: 0 not yet, 1 passed, 2 broken, 3 timed out, 4 other failure. */
    static final long PASSED = 1;
    static final long BROKEN = 2;
    static final long TIMED_OUT = 3;
    static final long FAILED = 4;

    static long awaitReporting(SharedBarrier b, Duration timeout) {
        try {
            b.await(timeout);
            return PASSED;
        } catch (BrokenBarrierException e) {
            return BROKEN;
        } catch (TimeoutException e) {
            return TIMED_OUT;
        } catch (InterruptedException e) {
            return FAILED;
        }
    }

    /**
     * Five parties (this thread, and two threads in each of two children) pass the barrier together
     * ten times: after each pass, every party must see all five arrivals of that round.
     */
    @Test
    void fivePartiesInTwoProcessesAndThreadsMoveInLockstep() throws Exception {
        int rounds = 10;
        try (SharedBarrier b = SharedBarrier.create(5); SharedLongArray arrived = SharedLongArray.create(rounds + 1)) {
            ChildProcess[] cs = new ChildProcess[2];
            try {
                for (int i = 0; i < cs.length; i++) {
                    cs[i] = ChildProcess.start(() -> inThreads(2, () -> lockstep(b, arrived, rounds)));
                }
                lockstep(b, arrived, rounds);
                joinAllOk(cs);
            } finally {
                reap(cs);
            }
            assertThat(arrived.get(rounds)).as("parties that saw an incomplete round").isZero();
            for (int r = 0; r < rounds; r++) {
                assertThat(arrived.get(r)).isEqualTo(5);
            }
        }
    }

    static void lockstep(SharedBarrier b, SharedLongArray arrived, int rounds) {
        try {
            for (int r = 0; r < rounds; r++) {
                arrived.addAndGet(r, 1);
                b.await(Duration.ofSeconds(20));
                if (arrived.get(r) != 5) {
                    arrived.addAndGet(rounds, 1);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * 1,000 passes of three parties in three processes: the action runs once per pass, and the
     * arrival indexes of each pass are distinct with exactly one 0.
     */
    @Test
    void aThousandPassesRunTheActionOncePerPassWithDistinctIndexes() throws Exception {
        int passes = 1_000;
        try (SharedLong actions = SharedLong.create(0);
             SharedBarrier b = SharedBarrier.create(3, actions::incrementAndGet);
             SharedLongArray zeros = SharedLongArray.create(passes);
             SharedLongArray indexBits = SharedLongArray.create(passes)) {
            ChildProcess[] cs = new ChildProcess[2];
            try {
                for (int i = 0; i < cs.length; i++) {
                    cs[i] = ChildProcess.start(() -> pass(b, zeros, indexBits, passes));
                }
                pass(b, zeros, indexBits, passes);
                joinAllOk(cs);
            } finally {
                reap(cs);
            }
            assertThat(actions.get()).isEqualTo(passes);
            for (int p = 0; p < passes; p++) {
                assertThat(zeros.get(p)).as("parties with index 0 in pass %d", p).isEqualTo(1);
                assertThat(indexBits.get(p)).as("indexes seen in pass %d (bit set)", p).isEqualTo(0b111);
            }
        }
    }

    static void pass(SharedBarrier b, SharedLongArray zeros, SharedLongArray indexBits, int passes) {
        try {
            for (int p = 0; p < passes; p++) {
                int index = b.await(Duration.ofSeconds(20));
                if (index == 0) {
                    zeros.addAndGet(p, 1);
                }
                indexBits.addAndGet(p, 1L << index); // distinct indexes: each bit added once
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A round of a 2-party barrier: this thread and a child pass it together. */
    private static void passesWithAChild(SharedBarrier b, SharedLong result) throws Exception {
        ChildProcess d = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
        try {
            assertThat(b.await(Duration.ofSeconds(30))).isBetween(0, 1);
            joinOk(d);
        } finally {
            reap(d);
        }
        assertThat(result.get()).isEqualTo(PASSED);
    }

    @Test
    void abortBreaksItForWaitersAndLaterPartiesUntilReset() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2); SharedLong result = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
            try {
                awaitUntil("the child waits", () -> b.getNumberWaiting() == 1);
                b.abort();
                joinOk(c);
                assertThat(result.get()).isEqualTo(BROKEN);
                assertThat(b.isBroken()).isTrue();
                assertThatThrownBy(() -> b.await(Duration.ofSeconds(1))).isInstanceOf(BrokenBarrierException.class)
                        .hasMessageContaining(b.name());
                b.reset();
                assertThat(b.isBroken()).isFalse();
                passesWithAChild(b, result);
            } finally {
                reap(c);
            }
        }
    }

    @Test
    void aTimeoutBreaksItForTheOtherParties() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(3); SharedLong result = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
            try {
                awaitUntil("the child waits", () -> b.getNumberWaiting() == 1);
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> b.await(Duration.ofMillis(200))).isInstanceOf(TimeoutException.class);
                assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(190L, 5_000L);
                joinOk(c);
                assertThat(result.get()).isEqualTo(BROKEN);
                assertThat(b.isBroken()).isTrue();
            } finally {
                reap(c);
            }
        }
    }

    @Test
    void resetWhilePartiesWaitBreaksTheirGenerationOnly() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2); SharedLong result = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
            try {
                awaitUntil("the child waits", () -> b.getNumberWaiting() == 1);
                b.reset();
                joinOk(c);
                assertThat(result.get()).isEqualTo(BROKEN);
                assertThat(b.isBroken()).isFalse();
                assertThat(b.getNumberWaiting()).isZero();
            } finally {
                reap(c);
            }
        }
    }

    /**
     * A waiter whose timeout passed just as another process reset the barrier breaks only its own (old)
     * generation: the barrier after the reset is not broken, and the next round passes.
     */
    @Test
    void aWaiterTimingOutAcrossAResetLeavesTheNewGenerationWhole() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2); SharedLong state = SharedLong.create(0);
             SharedLong result = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.test.syncFaults=true")).target(() -> {
                SyncFaults.hook = point -> {
                    state.set(1);   // timed out, generation not broken yet: the parent resets now
                    long until = System.nanoTime() + 30_000_000_000L;
                    while (state.get() != 2 && System.nanoTime() < until) {
                        sleepQuietly(1);
                    }
                };
                result.set(awaitReporting(b, Duration.ofMillis(100)));
            }).start();
            try {
                awaitUntil("the child timed out", () -> state.get() == 1);
                b.reset();
                state.set(2);
                joinOk(c);
                assertThat(result.get()).isIn(TIMED_OUT, BROKEN);
                assertThat(b.isBroken()).as("broken after a reset").isFalse();
                passesWithAChild(b, result);
            } finally {
                reap(c);
            }
        }
    }

    @Test
    void aKilledPartyBreaksTheBarrierForTheOthersWithinASecond() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(3); SharedLong result = SharedLong.create(0);
             SharedLong attached = SharedLong.create(0)) {
            ChildProcess waiter = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
            ChildProcess doomed = ChildProcess.start(() -> {
                attached.set(b.getParties()); // uses the barrier, never arrives
                sleepQuietly(60_000);
            });
            try {
                awaitUntil("the doomed party attached", () -> attached.get() == 3);
                awaitUntil("the waiter waits", () -> b.getNumberWaiting() == 1);
                long[] brokenAt = new long[1];
                Thread me = new Thread(() -> {
                    if (awaitReporting(b, Duration.ofSeconds(20)) == BROKEN) {
                        brokenAt[0] = System.nanoTime();
                    }
                });
                me.start();
                Thread.sleep(100);
                long killedAt = System.nanoTime();
                doomed.kill();
                me.join(20_000);
                assertThat(brokenAt[0]).as("this process's party broke").isNotZero();
                assertThat((brokenAt[0] - killedAt) / 1_000_000).as("ms from kill to broken").isLessThan(1_000L);
                joinOk(waiter);
                assertThat(result.get()).isEqualTo(BROKEN);
            } finally {
                reap(waiter, doomed);
            }
        }
    }

    /**
     * A party is killed, and then another process that used the barrier exits (which tidies the dead
     * party's registry record away): the barrier must still break for the parties waiting for the dead one.
     */
    @Test
    void aKilledPartyBreaksTheBarrierEvenAfterAnotherUserCleanedUpAfterIt() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2); SharedLong attached = SharedLong.create(0)) {
            ChildProcess doomed = ChildProcess.start(() -> {
                attached.set(b.getParties()); // uses the barrier, never arrives
                sleepQuietly(60_000);
            });
            ChildProcess passer = null;
            try {
                awaitUntil("the doomed party attached", () -> attached.get() == 2);
                doomed.kill();
                assertThat(doomed.join(Duration.ofSeconds(10))).isTrue();
                passer = ChildProcess.start(() -> attached.set(b.getParties() + 1)); // uses the barrier, exits
                joinOk(passer);
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> b.await(Duration.ofSeconds(5))).isInstanceOf(BrokenBarrierException.class);
                assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until broken").isLessThan(1_000L);
            } finally {
                reap(doomed, passer);
            }
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor() == 0).as("kill -" + signal + " " + pid).isTrue();
    }

    static void actionThatNeverEnds() {
        sleepQuietly(120_000);
    }

    /**
     * The last party of a pass is killed while it runs the action, and the death is found by a party
     * already waiting in the next pass, while the earlier pass's party is stopped: that earlier party,
     * whose timeout has passed meanwhile, must still learn of the death and get BrokenBarrierException
     * (it used to wait for the dead party's outcome for ever, timed await or not).
     */
    @Test
    void aPartyOfAnEarlierPassLearnsOfADeathThatALaterPassFound() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2, SharedBarrierTest::actionThatNeverEnds);
             SharedLong result = SharedLong.create(0)) {
            ChildProcess early = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(3))));
            ChildProcess last = null;
            try {
                awaitUntil("the early party waits", () -> b.getNumberWaiting() == 1);
                signal("STOP", early.pid());
                last = ChildProcess.start(() -> awaitReporting(b, Duration.ofSeconds(60)));
                awaitUntil("the last party has arrived and runs the action", () -> b.getNumberWaiting() == 0);
                last.kill();
                assertThat(last.join(Duration.ofSeconds(10))).isTrue();
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> b.await(Duration.ofSeconds(10))).as("the next pass's party")
                        .isInstanceOf(BrokenBarrierException.class);
                assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until broken").isLessThan(2_000L);
                Thread.sleep(3_000); // the early party's timeout passes while it is stopped
                signal("CONT", early.pid());
                assertThat(early.join(Duration.ofSeconds(10))).as("the early party returned").isTrue();
                assertThat(result.get()).as("the early party: 1 passed, 2 broken, 3 timed out").isEqualTo(BROKEN);
            } finally {
                reap(early, last);
            }
        }
    }

    /**
     * Every party of a pass has arrived and the last one runs the action when another process using the
     * barrier is killed: the pass stands (both parties return normally); the death breaks the next pass.
     */
    @Test
    void aDeathWhileTheActionOfACompletePassRunsBreaksOnlyTheNextPass() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2, SharedBarrierTest::slowAction); SharedLong result = SharedLong.create(0);
             SharedLong attached = SharedLong.create(0)) {
            ChildProcess early = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
            ChildProcess bystander = ChildProcess.start(() -> {
                attached.set(b.getParties()); // uses the barrier, never arrives
                sleepQuietly(60_000);
            });
            try {
                awaitUntil("the bystander attached", () -> attached.get() == 2);
                awaitUntil("the early party waits", () -> b.getNumberWaiting() == 1);
                Thread killer = new Thread(() -> {
                    sleepQuietly(500); // the action runs for 2.5 s
                    bystander.kill();
                });
                killer.start();
                assertThat(b.await(Duration.ofSeconds(20))).as("the last party, after the action").isZero();
                killer.join();
                joinOk(early);
                assertThat(result.get()).as("the early party: 1 passed, 2 broken, 3 timed out").isEqualTo(PASSED);
                awaitUntil("the death is found", b::isBroken);
                assertThatThrownBy(() -> b.await(Duration.ofSeconds(5))).isInstanceOf(BrokenBarrierException.class);
            } finally {
                reap(early, bystander);
            }
        }
    }

    /** A process that used the barrier and exited normally, without closing it, is no dead party. */
    @Test
    void aUserThatExitsWithoutClosingDoesNotBreakIt() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2); SharedLong result = SharedLong.create(0)) {
            ChildProcess user = ChildProcess.start(() -> result.set(b.getParties()));
            try {
                joinOk(user);
                assertThat(result.get()).isEqualTo(2);
                assertThatThrownBy(() -> b.await(Duration.ofMillis(300))) // long enough for death checks
                        .isInstanceOf(TimeoutException.class);
                b.reset();
                passesWithAChild(b, result);
            } finally {
                reap(user);
            }
        }
    }

    /**
     * The table of user processes is full of live processes: one more process cannot attach, and is told
     * why; the barrier's users are unharmed.
     */
    @Test
    void aProcessBeyondTheUserTableIsRefusedNamingTheLimit() throws Exception {
        long live = ProcessIdentity.of(ProcessHandle.current().parent().orElseThrow().pid()).orElseThrow().token();
        try (SharedBarrier b = SharedBarrier.create(2); SharedLong result = SharedLong.create(0)) {
            VarHandle longs = ValueLayout.JAVA_LONG.varHandle();
            try (Arena arena = Arena.ofConfined();
                 FileChannel ch = FileChannel.open(Path.of("/dev/shm", b.name()), StandardOpenOption.READ,
                         StandardOpenOption.WRITE)) {
                MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, BarrierLayout.ACTION, arena);
                for (int i = 0; i < BarrierLayout.USERS; i++) {
                    longs.compareAndSet(seg, BarrierLayout.userSlot(i), 0L, live); // every entry but this process's
                }
            }
            ChildProcess refused = ChildProcess.start(() -> result.set(b.getParties()));
            try {
                assertThat(refused.join(Children.TIMEOUT)).isTrue();
                assertThat(refused.exitCode()).isNotEqualTo(java.util.OptionalInt.of(0));
                assertThat(refused.failure()).hasValueSatisfying(f -> assertThat(f).hasStackTraceContaining(
                        "is already used by " + BarrierLayout.USERS + " processes"));
                assertThat(result.get()).isZero();
                assertThat(b.isBroken()).isFalse();
            } finally {
                reap(refused);
            }
        }
    }

    static void slowAction() {
        sleepQuietly(2_500);
    }

    /**
     * Every party has arrived and the last one runs a slow action, during which an earlier party's
     * timeout passes: the pass stands (as CyclicBarrier and CPython's Barrier), both parties return
     * normally, and the barrier is whole for the next round.
     */
    @Test
    void aTimeoutDuringTheLastPartysActionDoesNotBreakAPassThatHadEveryParty() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2, SharedBarrierTest::slowAction); SharedLong result = SharedLong.create(0)) {
            ChildProcess early = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofMillis(1_000))));
            try {
                awaitUntil("the early party waits", () -> b.getNumberWaiting() == 1);
                assertThat(b.await(Duration.ofSeconds(20))).isZero(); // runs the action, 2.5 s
                joinOk(early);
                assertThat(result.get()).as("the early party: 1 passed, 2 broken, 3 timed out").isEqualTo(PASSED);
                assertThat(b.isBroken()).isFalse();
                assertThat(b.getNumberWaiting()).isZero();
            } finally {
                reap(early);
            }
        }
    }

    /** Likewise an interrupt during the last party's action: the pass stands, the interrupt is kept. */
    @Test
    void anInterruptDuringTheLastPartysActionDoesNotBreakAPassThatHadEveryParty() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2, SharedBarrierTest::slowAction); SharedLong result = SharedLong.create(0)) {
            AtomicReference<String> outcome = new AtomicReference<>();
            Thread early = new Thread(() -> {
                try {
                    int index = b.await(Duration.ofSeconds(20));
                    outcome.set("index " + index + ", interrupted=" + Thread.currentThread().isInterrupted());
                } catch (Exception e) {
                    outcome.set(e.toString());
                }
            });
            early.start();
            ChildProcess last = null;
            try {
                awaitUntil("the early party waits", () -> b.getNumberWaiting() == 1);
                last = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
                awaitUntil("the last party has arrived", () -> b.getNumberWaiting() == 0);
                early.interrupt(); // the action runs for 2.5 s
                early.join(20_000);
                assertThat(outcome.get()).isEqualTo("index 1, interrupted=true");
                joinOk(last);
                assertThat(result.get()).as("the last party: 1 passed, 2 broken").isEqualTo(PASSED);
                assertThat(b.isBroken()).isFalse();
            } finally {
                early.interrupt();
                early.join(10_000);
                reap(last);
            }
        }
    }

    @Test
    void getNumberWaitingIsZeroOnceTheWaitersOfABrokenPassHaveLeft() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(3); SharedLong result = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
            try {
                awaitUntil("the child waits", () -> b.getNumberWaiting() == 1);
                b.abort();
                joinOk(c);
                assertThat(result.get()).isEqualTo(BROKEN);
                assertThat(b.getNumberWaiting()).as("waiting after abort, as CyclicBarrier and Python's n_waiting").isZero();
                b.reset();
                assertThatThrownBy(() -> b.await(Duration.ZERO)).isInstanceOf(TimeoutException.class);
                assertThat(b.getNumberWaiting()).as("waiting after a timeout broke the pass").isZero();
            } finally {
                reap(c);
            }
        }
    }

    @Test
    void anInterruptedArrivalAtABrokenBarrierGetsBrokenBarrierException() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2)) {
            b.abort();
            Thread.currentThread().interrupt();
            try {
                assertThatThrownBy(b::await).as("CyclicBarrier checks broken first").isInstanceOf(BrokenBarrierException.class);
            } finally {
                Thread.interrupted();
            }
        }
    }

    /**
     * A process that closes its barrier while one of its threads waits there: that waiter fails naming
     * the barrier, and the parties in other processes are not left waiting for a party that left.
     */
    @Test
    void closingABarrierWhileAThreadWaitsBreaksThePassForTheOtherProcesses() throws Exception {
        SharedBarrier b = SharedBarrier.create(3);
        try (SharedLong result = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(20))));
            try {
                awaitUntil("the child waits", () -> b.getNumberWaiting() == 1);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread local = new Thread(() -> {
                    try {
                        b.await();
                        failure.set(new AssertionError("await returned"));
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                local.start();
                awaitUntil("two parties wait", () -> b.getNumberWaiting() == 2);
                long t0 = System.nanoTime();
                b.close();
                local.join(10_000);
                assertThat(failure.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining(b.name());
                assertThat(c.join(Duration.ofSeconds(30))).isTrue();
                assertThat(result.get()).as("the child's outcome").isEqualTo(BROKEN);
                assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until the child knew").isLessThan(5_000L);
            } finally {
                reap(c);
                b.close();
            }
        }
    }

    @Test
    void badPartiesAreRejectedNamingTheValue() {
        assertThatThrownBy(() -> SharedBarrier.create(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("parties=0");
        try (SharedBarrier b = SharedBarrier.create(1)) {
            assertThatThrownBy(() -> b.await(Duration.ofSeconds(-1))).hasMessageContaining("timeout=PT-1S");
            assertThat(b.isBroken()).isFalse();
        }
    }

    @Test
    void aSinglePartyBarrierPassesAtOnceAndRunsItsAction() throws Exception {
        try (SharedLong actions = SharedLong.create(0); SharedBarrier b = SharedBarrier.create(1, actions::incrementAndGet)) {
            assertThat(b.await()).isZero();
            assertThat(b.await()).isZero();
            assertThat(actions.get()).isEqualTo(2);
        }
    }

    /** As CyclicBarrier: an action that throws breaks the barrier for its round and for later parties, until reset. */
    @Test
    void anActionThatThrowsBreaksTheBarrierUntilReset() throws Exception {
        try (SharedLong calls = SharedLong.create(0);
             SharedBarrier b = SharedBarrier.create(1, () -> {
                 if (calls.incrementAndGet() == 1) {
                     throw new IllegalStateException("action failed");
                 }
             })) {
            assertThatThrownBy(b::await).isInstanceOf(IllegalStateException.class).hasMessage("action failed");
            assertThat(b.isBroken()).isTrue();
            assertThatThrownBy(() -> b.await(Duration.ofSeconds(1))).isInstanceOf(BrokenBarrierException.class);
            b.reset();
            assertThat(b.isBroken()).isFalse();
            assertThat(b.await(Duration.ofSeconds(10))).isZero();
            assertThat(calls.get()).isEqualTo(2);
        }
    }

    /** Holds the first run of {@link #actionHeldOnFirstRun()} in this JVM until counted down. */
    static volatile CountDownLatch firstActionHeld = new CountDownLatch(0);
    static final AtomicInteger actionRuns = new AtomicInteger();

    static void actionHeldOnFirstRun() {
        if (actionRuns.getAndIncrement() == 0) {
            try {
                firstActionHeld.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Starts a daemon thread running {@code body}. */
    private static Thread started(Runnable body) {
        Thread t = new Thread(body);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** {@code rounds} awaits that must pass, counted in {@code passes}. */
    private static void passes(SharedBarrier b, int rounds, AtomicInteger passes) {
        for (int i = 0; i < rounds; i++) {
            if (awaitReporting(b, Duration.ofSeconds(60)) != PASSED) {
                throw new AssertionError("round " + i + " did not pass");
            }
            passes.incrementAndGet();
        }
    }

    /**
     * Two parties, four threads: while the first pass's action runs long, the other two threads loop on
     * await(). No later pass trips before that action has ended (as CyclicBarrier and CPython's Barrier),
     * so its outcome, when it ends, cannot land on the pass 64 generations later (the outcome ring's
     * size) and undo an abort() of that pass: the barrier stays broken until reset().
     */
    @Test
    void aSlowActionLetsNoLaterPassTripAndCannotUndoAnAbortOfAPass64GenerationsLater() throws Exception {
        firstActionHeld = new CountDownLatch(1);
        actionRuns.set(0);
        try (SharedBarrier b = SharedBarrier.create(2, SharedBarrierTest::actionHeldOnFirstRun)) {
            AtomicLong first = new AtomicLong();
            AtomicLong last = new AtomicLong();
            AtomicLong lastOfP = new AtomicLong();
            AtomicInteger passes = new AtomicInteger();
            AtomicBoolean pArrivesAt64 = new AtomicBoolean();
            List<Thread> threads = new java.util.ArrayList<>();
            try {
                threads.add(started(() -> first.set(awaitReporting(b, Duration.ofSeconds(60)))));
                awaitUntil("the first party waits", () -> b.getNumberWaiting() == 1);
                threads.add(started(() -> last.set(awaitReporting(b, Duration.ofSeconds(60)))));
                awaitUntil("the last party runs the action", () -> actionRuns.get() == 1);
                threads.add(started(() -> {
                    passes(b, 63, passes);
                    pArrivesAt64.set(true);
                    lastOfP.set(awaitReporting(b, Duration.ofSeconds(60)));
                }));
                threads.add(started(() -> passes(b, 63, passes)));
                long until = System.nanoTime() + 2_000_000_000L;
                boolean lapped = false;
                while (!lapped && System.nanoTime() < until) {
                    lapped = pArrivesAt64.get() && b.getNumberWaiting() == 1;
                    Thread.sleep(1);
                }
                if (lapped) {
                    b.abort(); // pass 64 (the first pass's ring entry) is broken while the first action runs
                }
                int passesDuringTheAction = passes.get();
                firstActionHeld.countDown();
                if (!lapped) {
                    awaitUntil("the pass 64 generations on waits", () -> pArrivesAt64.get() && b.getNumberWaiting() == 1);
                    b.abort();
                }
                for (Thread t : threads) {
                    t.join(60_000);
                    assertThat(t.isAlive()).as(t + " ended").isFalse();
                }
                assertThat(first.get()).as("the first pass: 1 passed, 2 broken").isEqualTo(PASSED);
                assertThat(last.get()).as("the first pass's last party").isEqualTo(PASSED);
                assertThat(lastOfP.get()).as("the aborted pass: 1 passed, 2 broken").isEqualTo(BROKEN);
                assertThat(b.isBroken()).as("broken after abort(), until reset()").isTrue();
                assertThatThrownBy(() -> b.await(Duration.ofSeconds(1))).isInstanceOf(BrokenBarrierException.class);
                assertThat(passesDuringTheAction).as("passes that tripped while the first pass's action ran").isZero();
            } finally {
                firstActionHeld.countDown();
                b.abort();
                for (Thread t : threads) {
                    t.join(10_000);
                }
            }
        }
    }

    /**
     * The user-visible side, across processes: two children pass once, the last one running an action that
     * takes 3 s the first time; this process's two threads then pass 63 times and one of them waits in the
     * 64th pass, which this process aborts. Once the children are done, the barrier must still be broken:
     * no single party may pass a two-party barrier that was aborted (the first action's outcome, written
     * late, took the place of the abort).
     */
    @Test
    void anAbortStaysInForceAfterASlowActionOfAPass64GenerationsEarlierEnds() throws Exception {
        try (SharedLong ran = SharedLong.create(0); SharedLong first = SharedLong.create(0);
             SharedLong last = SharedLong.create(0);
             SharedBarrier b = SharedBarrier.create(2, () -> {
                 if (ran.getAndAdd(1) == 0) {
                     sleepQuietly(3_000);
                 }
             })) {
            ChildProcess a = ChildProcess.start(() -> first.set(awaitReporting(b, Duration.ofSeconds(60))));
            ChildProcess z = null;
            List<Thread> threads = new java.util.ArrayList<>();
            try {
                awaitUntil("the first child waits", () -> b.getNumberWaiting() == 1);
                z = ChildProcess.start(() -> last.set(awaitReporting(b, Duration.ofSeconds(60))));
                awaitUntil("the second child runs the action", () -> ran.get() == 1);
                AtomicInteger passes = new AtomicInteger();
                AtomicBoolean pArrivesAt64 = new AtomicBoolean();
                AtomicLong lastOfP = new AtomicLong();
                threads.add(started(() -> {
                    passes(b, 63, passes);
                    pArrivesAt64.set(true);
                    lastOfP.set(awaitReporting(b, Duration.ofSeconds(60)));
                }));
                threads.add(started(() -> passes(b, 63, passes)));
                awaitUntil("the pass 64 generations on waits", () -> pArrivesAt64.get() && b.getNumberWaiting() == 1);
                b.abort();
                joinAllOk(a, z);
                for (Thread t : threads) {
                    t.join(60_000);
                }
                assertThat(first.get()).as("the children's pass: 1 passed, 2 broken").isEqualTo(PASSED);
                assertThat(last.get()).isEqualTo(PASSED);
                assertThat(lastOfP.get()).as("the aborted pass: 1 passed, 2 broken").isEqualTo(BROKEN);
                assertThat(b.isBroken()).as("broken after abort(), until reset()").isTrue();
                assertThatThrownBy(() -> b.await(Duration.ofSeconds(1))).as("one party of two after abort()")
                        .isInstanceOf(BrokenBarrierException.class);
            } finally {
                b.abort();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                reap(a, z);
            }
        }
    }

    /**
     * A party of the next pass that arrives while the last party of a pass runs a slow action waits for
     * the action; its timeout still counts: it gets TimeoutException at its deadline and breaks the next
     * pass, while the pass whose action ran stands.
     */
    @Test
    void anArrivalDuringTheActionTimesOutOnTimeAndBreaksOnlyTheNextPass() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2, SharedBarrierTest::slowAction); SharedLong first = SharedLong.create(0);
             SharedLong last = SharedLong.create(0)) {
            ChildProcess a = ChildProcess.start(() -> first.set(awaitReporting(b, Duration.ofSeconds(20))));
            ChildProcess z = null;
            try {
                awaitUntil("the first party waits", () -> b.getNumberWaiting() == 1);
                z = ChildProcess.start(() -> last.set(awaitReporting(b, Duration.ofSeconds(20))));
                awaitUntil("the last party runs the action", () -> b.getNumberWaiting() == 0);
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> b.await(Duration.ofMillis(500))).isInstanceOf(TimeoutException.class);
                assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until the timeout").isBetween(490L, 2_000L);
                joinAllOk(a, z);
                assertThat(first.get()).as("the pass with the action: 1 passed, 2 broken").isEqualTo(PASSED);
                assertThat(last.get()).isEqualTo(PASSED);
                assertThat(b.isBroken()).as("the next pass, broken by the timeout").isTrue();
            } finally {
                reap(a, z);
            }
        }
    }

    /**
     * abort() and reset() while the last party runs the action act as if they came after it (as with
     * CyclicBarrier, whose action holds the lock they take): the pass stands, and the barrier afterwards
     * is as the last of them left it.
     */
    @Test
    void abortAndResetDuringTheActionTakeEffectAfterThePass() throws Exception {
        firstActionHeld = new CountDownLatch(1);
        actionRuns.set(0);
        try (SharedBarrier b = SharedBarrier.create(2, SharedBarrierTest::actionHeldOnFirstRun)) {
            AtomicLong first = new AtomicLong();
            AtomicLong last = new AtomicLong();
            Thread x = started(() -> first.set(awaitReporting(b, Duration.ofSeconds(60))));
            Thread y = null;
            try {
                awaitUntil("the first party waits", () -> b.getNumberWaiting() == 1);
                y = started(() -> last.set(awaitReporting(b, Duration.ofSeconds(60))));
                awaitUntil("the last party runs the action", () -> actionRuns.get() == 1);
                b.abort();
                assertThat(b.isBroken()).as("after abort()").isTrue();
                b.reset();
                assertThat(b.isBroken()).as("after abort(), reset()").isFalse();
                b.abort();
                b.reset();
                b.abort();
                firstActionHeld.countDown();
                x.join(20_000);
                y.join(20_000);
                assertThat(first.get()).as("the pass: 1 passed, 2 broken").isEqualTo(PASSED);
                assertThat(last.get()).isEqualTo(PASSED);
                assertThat(b.isBroken()).as("after abort(), reset(), abort(), reset(), abort()").isTrue();
                b.reset();
                AtomicLong next = new AtomicLong();
                Thread n = started(() -> next.set(awaitReporting(b, Duration.ofSeconds(20))));
                assertThat(b.await(Duration.ofSeconds(20))).isIn(0, 1);
                n.join(20_000);
                assertThat(next.get()).isEqualTo(PASSED);
            } finally {
                firstActionHeld.countDown();
                b.abort();
                x.join(10_000);
                if (y != null) {
                    y.join(10_000);
                }
            }
        }
    }

    /**
     * A party whose process is stopped (SIGSTOP here; on a loaded machine, not scheduled) right after its
     * pass tripped, while 64 more passes go by, finds its ring entry taken by a later pass when it runs
     * again: it must still return from its pass, which tripped (nothing was ever broken), rather than
     * wait for ever, timed await or not.
     */
    @Test
    void aPartyStoppedWhile64LaterPassesGoByStillReturnsFromItsPass() throws Exception {
        try (SharedBarrier b = SharedBarrier.create(2); SharedLong result = SharedLong.create(0)) {
            ChildProcess early = ChildProcess.start(() -> result.set(awaitReporting(b, Duration.ofSeconds(5))));
            try {
                awaitUntil("the early party waits", () -> b.getNumberWaiting() == 1);
                signal("STOP", early.pid());
                awaitUntil("the early party is stopped", () -> Children.stateOf(early.pid()) == 'T');
                assertThat(b.await(Duration.ofSeconds(10))).as("the last party of the early party's pass").isZero();
                AtomicInteger passes = new AtomicInteger();
                Thread p = started(() -> passes(b, 64, passes));
                Thread q = started(() -> passes(b, 64, passes));
                p.join(60_000);
                q.join(60_000);
                assertThat(passes.get()).as("passes after the early party's").isEqualTo(128);
                signal("CONT", early.pid());
                assertThat(early.join(Duration.ofSeconds(15))).as("the early party returned").isTrue();
                assertThat(result.get()).as("the early party: 1 passed, 2 broken, 3 timed out").isEqualTo(PASSED);
            } finally {
                if (early.isAlive()) {
                    signal("CONT", early.pid());
                }
                reap(early);
            }
        }
    }

    @Test
    void theObjectsABarriersActionCapturesGoOnceEveryHandleIsClosedEvenWhereTheActionWasDecoded() throws Exception {
        List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            SharedLong trips = SharedLong.create(0);
            names.add(trips.name());
            try (SharedBarrier b = SharedBarrier.create(1, () -> trips.incrementAndGet());
                 SharedBarrier attached = SharedBarrier.attach(b.name())) {
                attached.await(); // the one party: runs the stored action, decoded in this handle
                assertThat(trips.get()).isEqualTo(1);
            }
            trips.close();
        }
        awaitUntil("the captured objects' segments are gone", () -> {
            System.gc();
            return names.stream().noneMatch(n -> java.nio.file.Files.exists(Path.of("/dev/shm", n)));
        });
    }
}
