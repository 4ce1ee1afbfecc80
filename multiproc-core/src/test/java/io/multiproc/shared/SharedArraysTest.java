package io.multiproc.shared;

import io.multiproc.process.ChildProcess;
import io.multiproc.shm.SharedMemory;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static io.multiproc.testing.Children.joinAllOk;
import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

/** SharedIntArray, SharedLongArray, SharedDoubleArray and Array: semantics, cross-process visibility, atomicity. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedArraysTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final int INCREMENTS = 20_000;
    /** The sequence CPython's {@code _TestArray.test_array} uses. */
    private static final int[] SEQ = {680, 626, 934, 821, 150, 233, 548, 982, 714, 831};

    // ---------------------------------------------------------------- across processes

    /** Port of CPython's {@code _TestArray.test_array}: the child turns each array into running sums. */
    @Test
    void childWritesAreSeenByParentForEachType() throws Exception {
        long[] longs = new long[SEQ.length];
        double[] doubles = new double[SEQ.length];
        for (int k = 0; k < SEQ.length; k++) {
            longs[k] = SEQ[k] * 1_000_000_000L;
            doubles[k] = SEQ[k] + 0.5;
        }
        try (SharedIntArray ia = SharedIntArray.of(SEQ);
             SharedLongArray la = SharedLongArray.of(longs);
             SharedDoubleArray da = SharedDoubleArray.of(doubles)) {
            ChildProcess child = ChildProcess.start(() -> SharedArraysTest.runningSums(ia, la, da));
            try {
                joinOk(child);
            } finally {
                child.close();
            }
            int[] expectInts = SEQ.clone();
            long[] expectLongs = longs.clone();
            double[] expectDoubles = doubles.clone();
            for (int k = 1; k < SEQ.length; k++) {
                expectInts[k] += expectInts[k - 1];
                expectLongs[k] += expectLongs[k - 1];
                expectDoubles[k] += expectDoubles[k - 1];
            }
            assertThat(ia.toArray()).containsExactly(expectInts);
            assertThat(la.toArray()).containsExactly(expectLongs);
            assertThat(da.toArray()).containsExactly(expectDoubles);
        }
    }

    static void runningSums(SharedIntArray ia, SharedLongArray la, SharedDoubleArray da) {
        for (int k = 1; k < ia.length(); k++) {
            ia.set(k, ia.get(k) + ia.get(k - 1));
            la.set(k, la.get(k) + la.get(k - 1));
            da.set(k, da.get(k) + da.get(k - 1));
        }
    }

    @Test
    void twoChildrenAddingToOneElementLoseNoUpdate() throws Exception {
        try (SharedInt ready = SharedInt.create(0);
             SharedIntArray ia = SharedIntArray.create(4);
             SharedLongArray la = SharedLongArray.create(4);
             SharedDoubleArray da = SharedDoubleArray.create(4)) {
            ChildProcess a = ChildProcess.start(() -> SharedArraysTest.addToElements(ready, ia, la, da));
            ChildProcess b = ChildProcess.start(() -> SharedArraysTest.addToElements(ready, ia, la, da));
            try {
                joinAllOk(a, b);
            } finally {
                a.close();
                b.close();
            }
            assertSoftly(soft -> {
                soft.assertThat(ia.toArray()).as("SharedIntArray.addAndGet").containsExactly(0, 0, 2 * INCREMENTS, 0);
                soft.assertThat(la.toArray()).as("SharedLongArray.addAndGet").containsExactly(0, 0, 2L * INCREMENTS, 0);
                soft.assertThat(da.toArray()).as("SharedDoubleArray.addAndGet").containsExactly(0, 0, 2.0 * INCREMENTS, 0);
            });
        }
    }

    static void addToElements(SharedInt ready, SharedIntArray ia, SharedLongArray la, SharedDoubleArray da) {
        awaitBoth(ready);
        for (int n = 0; n < INCREMENTS; n++) {
            ia.addAndGet(2, 1);
            la.addAndGet(2, 1L);
            da.addAndGet(2, 1.0);
        }
    }

    /** A two-party start line, so that the children's loops really overlap. */
    private static void awaitBoth(SharedInt ready) {
        ready.incrementAndGet();
        long deadline = System.nanoTime() + TIMEOUT.toNanos() / 2;
        while (ready.get() < 2) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the other child never became ready");
            }
            Thread.onSpinWait();
        }
    }

    // ---------------------------------------------------------------- creation

    @Test
    void newArraysAreZeroFilled() {
        try (SharedIntArray ia = SharedIntArray.create(1000);
             SharedLongArray la = SharedLongArray.create(1000);
             SharedDoubleArray da = SharedDoubleArray.create(1000)) {
            assertThat(ia.length()).isEqualTo(1000);
            assertThat(la.length()).isEqualTo(1000);
            assertThat(da.length()).isEqualTo(1000);
            assertThat(ia.toArray()).hasSize(1000).containsOnly(0);
            assertThat(la.toArray()).hasSize(1000).containsOnly(0L);
            assertThat(da.toArray()).hasSize(1000).containsOnly(0.0);
        }
    }

    @Test
    void ofCopiesTheValues() {
        int[] ints = {3, -1, Integer.MAX_VALUE};
        long[] longs = {Long.MIN_VALUE, 0, 7};
        double[] doubles = {0.25, -8.5, Double.NaN};
        try (SharedIntArray ia = SharedIntArray.of(ints);
             SharedLongArray la = SharedLongArray.of(longs);
             SharedDoubleArray da = SharedDoubleArray.of(doubles)) {
            ints[0] = 100;
            longs[0] = 100;
            doubles[0] = 100;
            assertThat(ia.toArray()).containsExactly(3, -1, Integer.MAX_VALUE);
            assertThat(la.toArray()).containsExactly(Long.MIN_VALUE, 0, 7);
            assertThat(da.toArray()).containsExactly(0.25, -8.5, Double.NaN);
            ia.set(1, 9);
            assertThat(ints[1]).as("the source array is not shared").isEqualTo(-1);
        }
    }

    @Test
    void zeroOrNegativeLengthIsRejectedNamingIt() {
        assertThatThrownBy(() -> SharedIntArray.create(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length=0");
        assertThatThrownBy(() -> SharedLongArray.create(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length=-1");
        assertThatThrownBy(() -> SharedDoubleArray.create(Integer.MIN_VALUE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length=" + Integer.MIN_VALUE);
        assertThatThrownBy(() -> SharedIntArray.of())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length=0");
        assertThatThrownBy(() -> Array.of("d", -5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("length=-5");
    }

    @Test
    void arrayOfTypecodeGivesTheMatchingType() {
        try (SharedNumberArray i = Array.of("i", 3);
             SharedNumberArray l = Array.of("l", 4);
             SharedNumberArray q = Array.of("q", 5);
             SharedNumberArray d = Array.of("d", 6)) {
            assertThat(i).isInstanceOf(SharedIntArray.class);
            assertThat(i.length()).isEqualTo(3);
            assertThat(l).isInstanceOf(SharedLongArray.class);
            assertThat(l.length()).isEqualTo(4);
            assertThat(q).isInstanceOf(SharedLongArray.class);
            assertThat(q.length()).isEqualTo(5);
            assertThat(d).isInstanceOf(SharedDoubleArray.class);
            assertThat(d.length()).isEqualTo(6);
            i.setValue(2, 7.9);
            assertThat(i.getValue(2)).isEqualTo(7);
            d.setValue(5, 3);
            assertThat(d.getValue(5)).isEqualTo(3.0);
            l.setValue(0, 1L << 50);
            assertThat(l.getValue(0)).isEqualTo(1L << 50);
        }
    }

    @Test
    void unsupportedTypecodeIsRejectedNamingIt() {
        for (String code : new String[] {"x", "u", "w", "P", "ii", ""}) {
            assertThatThrownBy(() -> Array.of(code, 3))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("typecode='" + code + "'");
        }
    }

    // ---------------------------------------------------------------- element operations

    @Test
    void intArrayElementsBehaveLikeAtomicIntegerArray() {
        try (SharedIntArray a = SharedIntArray.create(3)) {
            a.set(0, 5);
            assertThat(a.get(0)).isEqualTo(5);
            assertThat(a.get(1)).isZero();
            assertThat(a.incrementAndGet(1)).isEqualTo(1);
            assertThat(a.addAndGet(1, 10)).isEqualTo(11);
            assertThat(a.getAndAdd(1, -1)).isEqualTo(11);
            assertThat(a.getAndSet(1, 50)).isEqualTo(10);
            assertThat(a.compareAndSet(1, 49, 0)).isFalse();
            assertThat(a.compareAndSet(1, 50, 51)).isTrue();
            a.setRelease(2, -9);
            assertThat(a.getAcquire(2)).isEqualTo(-9);
            assertThat(a.toArray()).containsExactly(5, 51, -9);
        }
    }

    @Test
    void longArrayElementsBehaveLikeAtomicLongArray() {
        try (SharedLongArray a = SharedLongArray.create(3)) {
            a.set(0, 1L << 40);
            assertThat(a.get(0)).isEqualTo(1L << 40);
            assertThat(a.incrementAndGet(1)).isEqualTo(1L);
            assertThat(a.addAndGet(1, 1L << 35)).isEqualTo((1L << 35) + 1);
            assertThat(a.getAndAdd(1, -1)).isEqualTo((1L << 35) + 1);
            assertThat(a.getAndSet(1, 50)).isEqualTo(1L << 35);
            assertThat(a.compareAndSet(1, 49, 0)).isFalse();
            assertThat(a.compareAndSet(1, 50, 51)).isTrue();
            a.setRelease(2, Long.MIN_VALUE);
            assertThat(a.getAcquire(2)).isEqualTo(Long.MIN_VALUE);
            assertThat(a.toArray()).containsExactly(1L << 40, 51L, Long.MIN_VALUE);
        }
    }

    @Test
    void doubleArrayElementsHaveAtomicAddAndBitwiseCompareAndSet() {
        try (SharedDoubleArray a = SharedDoubleArray.create(3)) {
            a.set(0, 1.5);
            assertThat(a.get(0)).isEqualTo(1.5);
            assertThat(a.addAndGet(0, 2.25)).isEqualTo(3.75);
            assertThat(a.getAndSet(0, -1.0)).isEqualTo(3.75);
            assertThat(a.compareAndSet(0, 1.0, 2.0)).isFalse();
            assertThat(a.compareAndSet(0, -1.0, 2.0)).isTrue();
            a.set(1, Double.NaN);
            assertThat(a.compareAndSet(1, Double.NaN, 4.0)).isTrue();
            assertThat(a.compareAndSet(2, -0.0, 4.0)).as("0.0 and -0.0 differ in bits").isFalse();
            a.setRelease(2, 0.125);
            assertThat(a.getAcquire(2)).isEqualTo(0.125);
            assertThat(a.toArray()).containsExactly(2.0, 4.0, 0.125);
        }
    }

    @Test
    void indexesOutsideTheArrayAreRejected() {
        try (SharedIntArray ia = SharedIntArray.create(3);
             SharedLongArray la = SharedLongArray.create(3);
             SharedDoubleArray da = SharedDoubleArray.create(3)) {
            for (int bad : new int[] {-1, 3, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
                assertOutOfBounds(bad, i -> ia.get(i));
                assertOutOfBounds(bad, i -> ia.set(i, 1));
                assertOutOfBounds(bad, i -> ia.incrementAndGet(i));
                assertOutOfBounds(bad, i -> ia.addAndGet(i, 1));
                assertOutOfBounds(bad, i -> ia.compareAndSet(i, 0, 1));
                assertOutOfBounds(bad, i -> ia.getAndSet(i, 1));
                assertOutOfBounds(bad, i -> ia.setValue(i, 1));
                assertOutOfBounds(bad, i -> la.get(i));
                assertOutOfBounds(bad, i -> la.set(i, 1));
                assertOutOfBounds(bad, i -> la.addAndGet(i, 1));
                assertOutOfBounds(bad, i -> la.compareAndSet(i, 0, 1));
                assertOutOfBounds(bad, i -> la.getValue(i));
                assertOutOfBounds(bad, i -> da.get(i));
                assertOutOfBounds(bad, i -> da.set(i, 1));
                assertOutOfBounds(bad, i -> da.addAndGet(i, 1));
                assertOutOfBounds(bad, i -> da.compareAndSet(i, 0, 1));
                assertOutOfBounds(bad, i -> da.getAcquire(i));
            }
            assertThat(ia.toArray()).containsOnly(0);
            assertThat(la.toArray()).containsOnly(0L);
            assertThat(da.toArray()).containsOnly(0.0);
        }
    }

    private static void assertOutOfBounds(int index, Consumer<Integer> access) {
        assertThatThrownBy(() -> access.accept(index))
                .isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining(Integer.toString(index));
    }

    @Test
    void segmentIsTheElementBytesAndWritesThroughItAreSeen() {
        try (SharedIntArray ia = SharedIntArray.create(5);
             SharedLongArray la = SharedLongArray.create(3);
             SharedDoubleArray da = SharedDoubleArray.create(7)) {
            assertThat(ia.segment().byteSize()).isEqualTo(5 * 4);
            assertThat(la.segment().byteSize()).isEqualTo(3 * 8);
            assertThat(da.segment().byteSize()).isEqualTo(7 * 8);
            ia.segment().setAtIndex(JAVA_INT, 4, 44);
            la.segment().setAtIndex(JAVA_LONG, 0, -1L);
            da.segment().setAtIndex(JAVA_DOUBLE, 6, 6.5);
            assertThat(ia.get(4)).isEqualTo(44);
            assertThat(la.get(0)).isEqualTo(-1L);
            assertThat(da.get(6)).isEqualTo(6.5);
            ia.set(0, 7);
            assertThat(ia.segment().getAtIndex(JAVA_INT, 0)).isEqualTo(7);
            assertThat(da.segment().address() % 8).as("8-byte aligned").isZero();
        }
    }

    // ---------------------------------------------------------------- attach and lifetime

    @Test
    void attachByNameSharesTheElements() {
        try (SharedDoubleArray a = SharedDoubleArray.of(1.0, 2.0);
             SharedDoubleArray b = SharedDoubleArray.attach(a.name())) {
            assertThat(b.length()).isEqualTo(2);
            b.set(1, 9.0);
            assertThat(a.get(1)).isEqualTo(9.0);
        }
    }

    @Test
    void attachingAsAnotherKindFailsNamingTheSegment() {
        try (SharedLong value = SharedLong.create(1);
             SharedIntArray ints = SharedIntArray.create(2)) {
            assertThatThrownBy(() -> SharedLongArray.attach(value.name()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining(value.name());
            assertThatThrownBy(() -> SharedLongArray.attach(ints.name()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining(ints.name())
                    .hasMessageContaining("SharedLongArray");
            assertThatThrownBy(() -> SharedInt.attach(ints.name()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining(ints.name());
            ints.set(1, 3);
            assertThat(ints.get(1)).isEqualTo(3);
            assertThat(value.get()).isEqualTo(1L);
        }
    }

    @Test
    void attachingARawSegmentAsAnArrayFailsAndLeavesItIntact() throws IOException {
        try (SharedMemory raw = SharedMemory.create(null, 4096, false)) {
            try {
                raw.segment().set(JAVA_LONG, 0, 77L);
                assertThatThrownBy(() -> SharedIntArray.attach(raw.name()))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining(raw.name());
                assertThat(shm(raw.name())).exists();
                assertThat(raw.segment().get(JAVA_LONG, 0)).isEqualTo(77L);
            } finally {
                Files.deleteIfExists(shm(raw.name()));
            }
        }
    }

    @Test
    void closingTheOnlyHandleRemovesTheSegment() {
        SharedLongArray a = SharedLongArray.create(10);
        String name = a.name();
        assertThat(shm(name)).exists();
        a.close();
        assertThat(shm(name)).doesNotExist();
        assertThatThrownBy(() -> a.get(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void arrayLivesUntilAChildThatStillHoldsItExits() throws Exception {
        try (SharedInt signal = SharedInt.create(0)) {
            SharedIntArray a = SharedIntArray.create(2);
            String name = a.name();
            ChildProcess child = ChildProcess.start(() -> SharedArraysTest.holdUntilSignalled(signal, a));
            try {
                while (signal.get() != 1) {
                    assertThat(child.isAlive()).as("child still running").isTrue();
                    Thread.sleep(5);
                }
                a.close();
                assertThat(shm(name)).exists();
                signal.set(2);
                joinOk(child);
            } finally {
                child.close();
                a.close();
            }
            assertThat(shm(name)).doesNotExist();
        }
    }

    static void holdUntilSignalled(SharedInt signal, SharedIntArray a) {
        a.incrementAndGet(0);
        signal.set(1);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (signal.get() != 2 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Path shm(String name) {
        return Path.of("/dev/shm", name);
    }


}
