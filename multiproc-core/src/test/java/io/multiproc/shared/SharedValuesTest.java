package io.multiproc.shared;

import io.multiproc.internal.SegmentRegistry;
import io.multiproc.process.ChildProcess;
import io.multiproc.shm.SharedMemory;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static io.multiproc.testing.Children.joinAllOk;
import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

/** SharedInt, SharedLong, SharedDouble and Value: semantics, cross-process visibility, atomicity, lifetime. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedValuesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final int INCREMENTS = 20_000;

    // ---------------------------------------------------------------- across processes

    /** Port of CPython's {@code _TestValue.test_value}: the child sets every value, the parent sees it. */
    @Test
    void childWritesAreSeenByParentForEachType() throws Exception {
        try (SharedInt i = SharedInt.create(-232);
             SharedLong l = SharedLong.create(1L << 33);
             SharedDouble d = SharedDouble.create(4.25)) {
            assertThat(i.get()).isEqualTo(-232);
            assertThat(l.get()).isEqualTo(1L << 33);
            assertThat(d.get()).isEqualTo(4.25);
            ChildProcess child = ChildProcess.start(() -> {
                i.set(234);
                l.set(1L << 34);
                d.set(-1.5);
            });
            try {
                joinOk(child);
            } finally {
                child.close();
            }
            assertThat(i.get()).isEqualTo(234);
            assertThat(l.get()).isEqualTo(1L << 34);
            assertThat(d.get()).isEqualTo(-1.5);
        }
    }

    @Test
    void childSeesTheParentsValuesWhenItStarts() throws Exception {
        try (SharedLong seen = SharedLong.create(0);
             SharedNumber i = Value.of("i", 11);
             SharedNumber d = Value.of("d", 2.5)) {
            i.setValue(12);
            ChildProcess child = ChildProcess.start(
                    () -> seen.set(((SharedInt) i).get() * 1000L + (long) (((SharedDouble) d).get() * 10)));
            try {
                joinOk(child);
            } finally {
                child.close();
            }
            assertThat(seen.get()).isEqualTo(12_025L);
        }
    }

    @Test
    void twoChildrenIncrementingConcurrentlyLoseNoUpdate() throws Exception {
        try (SharedInt ready = SharedInt.create(0);
             SharedInt i = SharedInt.create(0);
             SharedLong l = SharedLong.create(0);
             SharedDouble d = SharedDouble.create(0.0)) {
            ChildProcess a = ChildProcess.start(() -> SharedValuesTest.incrementAll(ready, i, l, d));
            ChildProcess b = ChildProcess.start(() -> SharedValuesTest.incrementAll(ready, i, l, d));
            try {
                joinAllOk(a, b);
            } finally {
                a.close();
                b.close();
            }
            assertSoftly(soft -> {
                soft.assertThat(i.get()).as("SharedInt.incrementAndGet").isEqualTo(2 * INCREMENTS);
                soft.assertThat(l.get()).as("SharedLong.incrementAndGet").isEqualTo(2L * INCREMENTS);
                soft.assertThat(d.get()).as("SharedDouble.addAndGet(1.0)").isEqualTo(2.0 * INCREMENTS);
            });
        }
    }

    /** Runs in each child: waits until both children are ready, then increments all three together. */
    static void incrementAll(SharedInt ready, SharedInt i, SharedLong l, SharedDouble d) {
        awaitBoth(ready);
        for (int n = 0; n < INCREMENTS; n++) {
            i.incrementAndGet();
            l.incrementAndGet();
            d.addAndGet(1.0);
        }
    }

    /** A two-party start line, so that the children's loops really overlap. */
    static void awaitBoth(SharedInt ready) {
        ready.incrementAndGet();
        long deadline = System.nanoTime() + TIMEOUT.toNanos() / 2;
        while (ready.get() < 2) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the other child never became ready");
            }
            Thread.onSpinWait();
        }
    }

    // ---------------------------------------------------------------- Value.of

    @Test
    void valueOfTypecodeGivesTheMatchingType() {
        try (SharedNumber i = Value.of("i", 7);
             SharedNumber l = Value.of("l", 1L << 40);
             SharedNumber q = Value.of("q", -3);
             SharedNumber d = Value.of("d", 2)) {
            assertThat(i).isInstanceOf(SharedInt.class);
            assertThat(i.getValue()).isEqualTo(7);
            assertThat(l).isInstanceOf(SharedLong.class);
            assertThat(l.getValue()).isEqualTo(1L << 40);
            assertThat(q).isInstanceOf(SharedLong.class);
            assertThat(q.getValue()).isEqualTo(-3L);
            assertThat(d).isInstanceOf(SharedDouble.class);
            assertThat(d.getValue()).isEqualTo(2.0);
        }
        // Like CPython's Value('i', 3.9) (TypeError): an integer typecode takes integers, not a silent cast.
        assertThatThrownBy(() -> Value.of("i", 3.9)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("initial=3.9 is not an integer");
        try (SharedNumber integral = Value.of("i", 3.0)) {
            assertThat(integral.getValue()).isEqualTo(3);
        }
    }

    @Test
    void unsupportedTypecodeIsRejectedNamingIt() {
        for (String code : new String[] {"x", "u", "w", "P", "", "dd"}) {
            assertThatThrownBy(() -> Value.of(code, 1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("typecode='" + code + "'");
        }
    }

    // ---------------------------------------------------------------- semantics

    @Test
    void sharedIntBehavesLikeAtomicInteger() {
        try (SharedInt v = SharedInt.create(5)) {
            assertThat(v.get()).isEqualTo(5);
            v.set(10);
            assertThat(v.get()).isEqualTo(10);
            assertThat(v.incrementAndGet()).isEqualTo(11);
            assertThat(v.decrementAndGet()).isEqualTo(10);
            assertThat(v.addAndGet(-15)).isEqualTo(-5);
            assertThat(v.getAndAdd(3)).isEqualTo(-5);
            assertThat(v.get()).isEqualTo(-2);
            assertThat(v.getAndSet(100)).isEqualTo(-2);
            assertThat(v.get()).isEqualTo(100);
            assertThat(v.compareAndSet(99, 1)).isFalse();
            assertThat(v.get()).isEqualTo(100);
            assertThat(v.compareAndSet(100, 1)).isTrue();
            assertThat(v.get()).isEqualTo(1);
            v.setRelease(8);
            assertThat(v.getAcquire()).isEqualTo(8);
            v.set(Integer.MAX_VALUE);
            assertThat(v.incrementAndGet()).isEqualTo(Integer.MIN_VALUE);
            v.setValue(42L);
            assertThat(v.getValue()).isEqualTo(42);
            assertThat(v.toString()).contains(v.name(), "42");
        }
    }

    @Test
    void sharedLongBehavesLikeAtomicLong() {
        try (SharedLong v = SharedLong.create(-1)) {
            assertThat(v.get()).isEqualTo(-1L);
            v.set(1L << 40);
            assertThat(v.get()).isEqualTo(1L << 40);
            assertThat(v.incrementAndGet()).isEqualTo((1L << 40) + 1);
            assertThat(v.decrementAndGet()).isEqualTo(1L << 40);
            assertThat(v.addAndGet(-(1L << 41))).isEqualTo(-(1L << 40));
            assertThat(v.getAndAdd(1)).isEqualTo(-(1L << 40));
            assertThat(v.getAndSet(7)).isEqualTo(-(1L << 40) + 1);
            assertThat(v.compareAndSet(8, 9)).isFalse();
            assertThat(v.get()).isEqualTo(7L);
            assertThat(v.compareAndSet(7, 9)).isTrue();
            assertThat(v.get()).isEqualTo(9L);
            v.setRelease(Long.MIN_VALUE);
            assertThat(v.getAcquire()).isEqualTo(Long.MIN_VALUE);
            assertThat(v.decrementAndGet()).isEqualTo(Long.MAX_VALUE);
            v.setValue(3.7);
            assertThat(v.getValue()).isEqualTo(3L);
        }
    }

    @Test
    void sharedDoubleBehavesLikeADoubleWithAtomicAdd() {
        try (SharedDouble v = SharedDouble.create(0.5)) {
            assertThat(v.get()).isEqualTo(0.5);
            v.set(1.25);
            assertThat(v.addAndGet(2.5)).isEqualTo(3.75);
            assertThat(v.addAndGet(-0.75)).isEqualTo(3.0);
            assertThat(v.getAndSet(-2.0)).isEqualTo(3.0);
            assertThat(v.compareAndSet(2.0, 9.0)).isFalse();
            assertThat(v.get()).isEqualTo(-2.0);
            assertThat(v.compareAndSet(-2.0, 9.0)).isTrue();
            assertThat(v.get()).isEqualTo(9.0);
            // compareAndSet compares bit patterns: NaN matches NaN, 0.0 does not match -0.0
            v.set(Double.NaN);
            assertThat(v.compareAndSet(Double.NaN, 1.0)).isTrue();
            assertThat(v.get()).isEqualTo(1.0);
            v.set(-0.0);
            assertThat(v.compareAndSet(0.0, 5.0)).isFalse();
            assertThat(v.compareAndSet(-0.0, 5.0)).isTrue();
            v.setRelease(Double.MAX_VALUE);
            assertThat(v.getAcquire()).isEqualTo(Double.MAX_VALUE);
            v.setValue(7);
            assertThat(v.getValue()).isEqualTo(7.0);
        }
    }

    @Test
    void segmentIsTheValuesOwnBytes() {
        try (SharedInt i = SharedInt.create(1);
             SharedLong l = SharedLong.create(2);
             SharedDouble d = SharedDouble.create(3.0)) {
            assertThat(i.segment().byteSize()).isEqualTo(4);
            assertThat(l.segment().byteSize()).isEqualTo(8);
            assertThat(d.segment().byteSize()).isEqualTo(8);
            assertThat(i.segment().get(JAVA_INT, 0)).isEqualTo(1);
            i.segment().set(JAVA_INT, 0, 41);
            l.segment().set(JAVA_LONG, 0, 42L);
            d.segment().set(JAVA_DOUBLE, 0, 43.5);
            assertThat(i.get()).isEqualTo(41);
            assertThat(l.get()).isEqualTo(42L);
            assertThat(d.get()).isEqualTo(43.5);
        }
    }

    // ---------------------------------------------------------------- attach

    @Test
    void attachByNameSharesTheValueInOneProcess() {
        try (SharedLong a = SharedLong.create(5);
             SharedLong b = SharedLong.attach(a.name())) {
            assertThat(b.name()).isEqualTo(a.name());
            b.addAndGet(10);
            assertThat(a.get()).isEqualTo(15L);
        }
    }

    @Test
    void attachingAValueAsAnotherTypeFailsNamingTheSegment() {
        try (SharedLong l = SharedLong.create(99)) {
            String name = l.name();
            assertThatThrownBy(() -> SharedInt.attach(name))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining(name).hasMessageContaining("SharedInt");
            assertThatThrownBy(() -> SharedDouble.attach(name))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining(name).hasMessageContaining("SharedDouble");
            assertThatThrownBy(() -> SharedLongArray.attach(name))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining(name);
            assertThat(l.get()).isEqualTo(99L);
        }
    }

    @Test
    void failedAttachInAnotherProcessLeavesTheValueIntact() throws Exception {
        try (SharedLong l = SharedLong.create(99)) {
            String name = l.name();
            ChildProcess child = ChildProcess.start(() -> SharedInt.attach(name));
            try {
                assertThat(child.join(TIMEOUT)).isTrue();
                assertThat(child.exitCode()).hasValue(1);
            } finally {
                child.close();
            }
            assertThat(shm(name)).exists();
            assertThat(l.get()).isEqualTo(99L);
            assertThat(holderPids(name)).containsExactly(ProcessHandle.current().pid());
        }
    }

    @Test
    void attachingASegmentThatIsNotAValueFailsAndLeavesItIntact() throws IOException {
        // an untracked segment (as Python makes them) and one this process owns
        for (boolean track : new boolean[] {false, true}) {
            try (SharedMemory raw = SharedMemory.create(null, 16, track)) {
                try {
                    raw.segment().set(JAVA_LONG, 0, 1234L);
                    assertThatThrownBy(() -> SharedLong.attach(raw.name()))
                            .isInstanceOf(IllegalStateException.class).hasMessageContaining(raw.name());
                    assertThat(shm(raw.name())).as("a failed attach must not remove the segment").exists();
                    assertThat(raw.segment().get(JAVA_LONG, 0)).isEqualTo(1234L);
                    assertThat(holderPids(raw.name())).as("holders of %s segment", track ? "an owned" : "an untracked")
                            .isEqualTo(track ? java.util.List.of(ProcessHandle.current().pid()) : java.util.List.of());
                } finally {
                    if (Files.exists(shm(raw.name()))) {
                        raw.unlink();
                    }
                }
            }
        }
    }

    @Test
    void attachingAMissingNameFails() {
        assertThatThrownBy(() -> SharedLong.attach("mpt_no_such_value"))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("mpt_no_such_value");
        assertThat(shm("mpt_no_such_value")).doesNotExist();
    }

    // ---------------------------------------------------------------- lifetime

    @Test
    void closingTheOnlyHandleRemovesTheSegment() {
        SharedLong v = SharedLong.create(1);
        String name = v.name();
        assertThat(shm(name)).exists();
        v.close();
        assertThat(shm(name)).doesNotExist();
        v.close(); // idempotent
        assertThatThrownBy(v::get).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void segmentStaysWhileAnotherHandleInThisProcessIsOpen() {
        SharedInt a = SharedInt.create(3);
        String name = a.name();
        SharedInt b = SharedInt.attach(name);
        a.close();
        assertThat(shm(name)).exists();
        assertThat(b.incrementAndGet()).isEqualTo(4);
        b.close();
        assertThat(shm(name)).doesNotExist();
    }

    @Test
    void segmentLivesUntilAChildThatStillHoldsItExits() throws Exception {
        try (SharedInt signal = SharedInt.create(0)) {
            SharedLong v = SharedLong.create(5);
            String name = v.name();
            ChildProcess child = ChildProcess.start(() -> SharedValuesTest.holdUntilSignalled(signal, v));
            try {
                awaitSignal(signal, 1, child);
                v.close();
                assertThat(shm(name)).as("the child still uses it").exists();
                signal.set(2);
                joinOk(child);
            } finally {
                child.close();
                v.close();
            }
            assertThat(shm(name)).as("removed when its last user exited").doesNotExist();
        }
    }

    /** Runs in a child: says it holds {@code v}, waits to be told to go, adds 1 and exits. */
    static void holdUntilSignalled(SharedInt signal, SharedLong v) {
        v.incrementAndGet();
        signal.set(1);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (signal.get() != 2 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    @Test
    void killedChildsHoldIsClearedBySweepAndCloseThenRemovesTheSegment() throws Exception {
        SegmentRegistry.dir(); // this JVM's first registry use sweeps: get it done first
        try (SharedInt signal = SharedInt.create(0)) {
            SharedLong v = SharedLong.create(5);
            String name = v.name();
            ChildProcess child = ChildProcess.start(() -> SharedValuesTest.holdUntilSignalled(signal, v));
            try {
                awaitSignal(signal, 1, child);
                long childPid = child.pid();
                assertThat(holderPids(name)).containsExactlyInAnyOrder(ProcessHandle.current().pid(), childPid);
                child.kill();
                assertThat(child.join(TIMEOUT)).isTrue();

                assertThat(SegmentRegistry.sweep()).doesNotContain(name);
                assertThat(shm(name)).as("this process still holds it").exists();
                assertThat(holderPids(name)).containsExactly(ProcessHandle.current().pid());
                assertThat(v.get()).isEqualTo(6L);
            } finally {
                child.close();
                v.close();
            }
            assertThat(shm(name)).doesNotExist();
        }
    }

    /**
     * getLock() in one thread while another closes the object: either the lock is made before the close
     * (which closes it too) or getLock fails as closed; no lock outlives the close, holding the segment.
     * Many rounds with a varying head start for the closing thread: the race is between two threads of
     * this process. Each round's object is a cheap second handle on one segment.
     */
    @Test
    void getLockRacingCloseLeavesNoLockOpen() throws Exception {
        int rounds = 20_000;
        AtomicReference<SharedLong> handOut = new AtomicReference<>();
        AtomicInteger done = new AtomicInteger();
        io.multiproc.sync.SharedRLock[] made = new io.multiproc.sync.SharedRLock[rounds];
        Thread getter = new Thread(() -> {
            for (int r = 0; r < rounds; r++) {
                SharedLong v;
                while ((v = handOut.getAndSet(null)) == null) {
                    Thread.onSpinWait();
                }
                try {
                    made[r] = v.getLock();
                } catch (IllegalStateException closed) {
                    // lost the race: fine
                }
                done.set(r + 1);
            }
        }, "getLock");
        getter.setDaemon(true);
        getter.start();
        String name;
        int leftOpen = 0;
        try (SharedLong base = SharedLong.create(0)) {
            name = base.name();
            for (int r = 0; r < rounds; r++) {
                SharedLong v = SharedLong.attach(name);
                handOut.set(v);
                for (int spin = r % 61; spin > 0; spin--) {
                    Thread.onSpinWait();
                }
                v.close();
                while (done.get() <= r) {
                    Thread.onSpinWait();
                }
                if (made[r] != null && !made[r].toString().endsWith(", closed]")) {
                    leftOpen++;
                    made[r].close(); // tidy up for the shm check
                }
            }
        } finally {
            getter.join(TIMEOUT.toMillis());
        }
        assertThat(leftOpen).as("locks left open by close() racing getLock(), of %s rounds", rounds).isZero();
        assertThat(shm(name)).doesNotExist();
    }

    // ---------------------------------------------------------------- helpers

    private static Path shm(String name) {
        return Path.of("/dev/shm", name);
    }

    private static java.util.List<Long> holderPids(String name) throws IOException {
        Optional<SegmentRegistry.SegmentInfo> info = SegmentRegistry.list().stream()
                .filter(s -> s.name().equals(name)).findFirst();
        return info.map(s -> s.holders().stream().map(h -> h.process().pid()).toList()).orElse(java.util.List.of());
    }

    private static void awaitSignal(SharedInt signal, int expected, ChildProcess child) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (signal.get() != expected) {
            assertThat(child.isAlive()).as("child %s still running", child).isTrue();
            assertThat(System.nanoTime()).as("child signalled %s in time", expected).isLessThan(deadline);
            Thread.sleep(5);
        }
    }


}
