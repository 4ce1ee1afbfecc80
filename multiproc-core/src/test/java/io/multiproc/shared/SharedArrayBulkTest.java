package io.multiproc.shared;

import io.multiproc.process.ChildProcess;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;

import static io.multiproc.testing.Children.joinAllOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The bulk operations of the shared arrays, the fast way to do what users do element by element:
 * copies to and from Java arrays, {@code setAll}, and element-wise {@code replaceAll} over a range.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedArrayBulkTest {

    @Test
    void replaceAllUpdatesExactlyTheRangeInPlace() {
        try (SharedDoubleArray d = SharedDoubleArray.of(1, 2, 3, 4, 5);
             SharedLongArray l = SharedLongArray.of(1, 2, 3, 4, 5);
             SharedIntArray i = SharedIntArray.of(1, 2, 3, 4, 5)) {
            d.replaceAll(1, 4, x -> x * x);
            l.replaceAll(1, 4, x -> x * 10);
            i.replaceAll(1, 4, x -> -x);
            assertThat(d.toArray()).containsExactly(1, 4, 9, 16, 5);
            assertThat(l.toArray()).containsExactly(1, 20, 30, 40, 5);
            assertThat(i.toArray()).containsExactly(1, -2, -3, -4, 5);
            d.replaceAll(x -> x + 0.5);
            l.replaceAll(x -> x + 1);
            i.replaceAll(x -> x + 1);
            assertThat(d.toArray()).containsExactly(1.5, 4.5, 9.5, 16.5, 5.5);
            assertThat(l.toArray()).containsExactly(2, 21, 31, 41, 6);
            assertThat(i.toArray()).containsExactly(2, -1, -2, -3, 6);
            d.replaceAll(2, 2, x -> { throw new AssertionError("an empty range calls nothing"); });
        }
    }

    @Test
    void setAllGivesEachElementItsIndexFunction() {
        try (SharedDoubleArray d = SharedDoubleArray.create(4);
             SharedLongArray l = SharedLongArray.create(4);
             SharedIntArray i = SharedIntArray.create(4)) {
            d.setAll(k -> k * 0.25);
            l.setAll(k -> (long) k << 40);
            i.setAll(k -> k * k);
            assertThat(d.toArray()).containsExactly(0, 0.25, 0.5, 0.75);
            assertThat(l.toArray()).containsExactly(0, 1L << 40, 2L << 40, 3L << 40);
            assertThat(i.toArray()).containsExactly(0, 1, 4, 9);
        }
    }

    @Test
    void bulkCopiesMoveExactlyTheNamedElements() {
        try (SharedDoubleArray d = SharedDoubleArray.create(6);
             SharedLongArray l = SharedLongArray.create(6);
             SharedIntArray i = SharedIntArray.create(6)) {
            d.setDoubles(1, new double[] {9, 1.5, 2.5, 9}, 1, 2);
            l.setLongs(4, new long[] {Long.MIN_VALUE, Long.MAX_VALUE});
            i.setInts(0, new int[] {7, 8, 9}, 0, 3);
            assertThat(d.toArray()).containsExactly(0, 1.5, 2.5, 0, 0, 0);
            assertThat(l.toArray()).containsExactly(0, 0, 0, 0, Long.MIN_VALUE, Long.MAX_VALUE);
            assertThat(i.toArray()).containsExactly(7, 8, 9, 0, 0, 0);

            double[] ds = {-1, -1, -1, -1};
            d.getDoubles(1, ds, 1, 2);
            assertThat(ds).containsExactly(-1, 1.5, 2.5, -1);
            long[] ls = new long[2];
            l.getLongs(4, ls);
            assertThat(ls).containsExactly(Long.MIN_VALUE, Long.MAX_VALUE);
            int[] is = new int[6];
            i.getInts(0, is, 0, 6);
            assertThat(is).containsExactly(7, 8, 9, 0, 0, 0);
            i.getInts(6, is, 6, 0); // empty copies at the very ends are fine
        }
    }

    @Test
    void rangesOutsideTheArrayAreRejectedNamingTheValuesAndChangeNothing() {
        try (SharedDoubleArray d = SharedDoubleArray.of(1, 2, 3)) {
            assertThatThrownBy(() -> d.replaceAll(-1, 2, x -> 0)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("from=-1").hasMessageContaining("length=3");
            assertThatThrownBy(() -> d.replaceAll(1, 4, x -> 0)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("to=4");
            assertThatThrownBy(() -> d.replaceAll(2, 1, x -> 0)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("from=2 to=1");
            assertThatThrownBy(() -> d.getDoubles(2, new double[2])).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("from=2 count=2").hasMessageContaining("length=3");
            assertThatThrownBy(() -> d.setDoubles(0, new double[3], 1, 3)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("arrayFrom=1 count=3").hasMessageContaining("Java array of length=3");
            assertThatThrownBy(() -> d.setDoubles(0, new double[3], 0, -1)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("count=-1");
            assertThatThrownBy(() -> d.replaceAll(0, 3, null)).isInstanceOf(NullPointerException.class).hasMessageContaining("op");
            assertThatThrownBy(() -> d.setAll(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("f");
            assertThat(d.toArray()).containsExactly(1, 2, 3);
        }
        try (SharedLongArray l = SharedLongArray.of(1); SharedIntArray i = SharedIntArray.of(1)) {
            assertThatThrownBy(() -> l.getLongs(0, new long[1], 1, 1)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("arrayFrom=1 count=1");
            assertThatThrownBy(() -> i.replaceAll(0, 2, x -> x)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("to=2").hasMessageContaining("length=1");
        }
    }

    @Test
    void bulkOperationsOnAClosedHandleFail() {
        SharedDoubleArray d = SharedDoubleArray.create(3);
        d.close();
        assertThatThrownBy(() -> d.replaceAll(x -> x)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> d.getDoubles(0, new double[1])).isInstanceOf(IllegalStateException.class);
    }

    /** Two children square a half each of one array (the README's program), the parent sees every result. */
    @Test
    void twoChildrenUpdatingHalvesInPlaceAreSeenByTheParent() throws Exception {
        int n = 300_001;
        try (SharedDoubleArray a = SharedDoubleArray.create(n); SharedLongArray l = SharedLongArray.create(n)) {
            a.setAll(i -> i % 1000);
            l.setAll(i -> i);
            int half = n / 2;
            ChildProcess p = ChildProcess.start(() -> {
                a.replaceAll(0, half, x -> x * x);
                l.replaceAll(0, half, x -> x * 3);
            });
            ChildProcess q = ChildProcess.start(() -> {
                a.replaceAll(half, a.length(), x -> x * x);
                long[] tail = new long[n - half];
                l.getLongs(half, tail);
                for (int k = 0; k < tail.length; k++) {
                    tail[k] *= 3;
                }
                l.setLongs(half, tail);
            });
            joinAllOk(p, q);
            double[] squares = a.toArray();
            long[] triples = l.toArray();
            for (int i = 0; i < n; i++) {
                double x = i % 1000;
                if (squares[i] != x * x || triples[i] != 3L * i) {
                    throw new AssertionError("element " + i + ": " + squares[i] + ", " + triples[i]);
                }
            }
            assertThat(Arrays.stream(triples).sum()).isEqualTo(3L * n * (n - 1) / 2);
        }
    }
}
