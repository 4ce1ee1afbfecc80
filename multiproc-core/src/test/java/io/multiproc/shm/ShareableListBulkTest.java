package io.multiproc.shm;

import io.multiproc.process.ChildProcess;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static io.multiproc.testing.Children.joinAllOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * ShareableList's bulk paths: copies of a part of a Java array, and {@code replaceAllLongs} /
 * {@code replaceAllDoubles}, the one-call way to update a run of numbers in place.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListBulkTest {

    @Test
    void replaceAllUpdatesExactlyTheRangeInPlace() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, 2L, 3L, 4L, 0.5, 1.5, "end"))) {
            try {
                sl.replaceAllLongs(1, 3, x -> x * 10);
                sl.replaceAllDoubles(4, 6, x -> x * 4);
                sl.replaceAllLongs(3, 3, x -> { throw new AssertionError("an empty range calls nothing"); });
                assertThat(sl).containsExactly(1L, 20L, 30L, 4L, 2.0, 6.0, "end");
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void replaceAllWorksAcrossSlotsOfDifferentSizes() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, "a longer string", 3L))) {
            try {
                sl.set(1, 2L); // a number in a 16-byte slot: the run is not contiguous
                sl.replaceAllLongs(0, 3, x -> -x);
                assertThat(sl).containsExactly(-1L, -2L, -3L);
                sl.setDoubles(0, new double[] {0.5, 1.5, 2.5});
                sl.replaceAllDoubles(0, 3, x -> x + 1);
                assertThat(sl).containsExactly(1.5, 2.5, 3.5);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void replaceAllOverAnotherTypeThrowsNamingTheSlotAndChangesNothing() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, 2L, "three", 4L))) {
            try {
                assertThatThrownBy(() -> sl.replaceAllLongs(0, 4, x -> x + 1)).isInstanceOf(ClassCastException.class)
                        .hasMessageContaining("slot 2").hasMessageContaining("String");
                assertThatThrownBy(() -> sl.replaceAllDoubles(0, 1, x -> x)).isInstanceOf(ClassCastException.class)
                        .hasMessageContaining("slot 0").hasMessageContaining("holds a long, not a double");
                assertThat(sl).containsExactly(1L, 2L, "three", 4L);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void badRangesAndArgumentsAreRejectedNamingTheValues() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, 2L, 3L))) {
            try {
                assertThatThrownBy(() -> sl.replaceAllLongs(-1, 2, x -> x)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("from=-1 to=2").hasMessageContaining("size=3");
                assertThatThrownBy(() -> sl.replaceAllLongs(2, 1, x -> x)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("from=2 to=1");
                assertThatThrownBy(() -> sl.replaceAllDoubles(0, 4, x -> x)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("to=4");
                assertThatThrownBy(() -> sl.replaceAllLongs(0, 3, null)).isInstanceOf(NullPointerException.class)
                        .hasMessageContaining("op");
                assertThatThrownBy(() -> sl.getLongs(0, new long[3], 1, 3)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("arrayFrom=1 count=3").hasMessageContaining("length=3");
                assertThatThrownBy(() -> sl.setLongs(2, new long[3], 0, 2)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("from=2 count=2");
                assertThatThrownBy(() -> sl.setDoubles(0, new double[1], 0, -1)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("count=-1");
                assertThat(sl).containsExactly(1L, 2L, 3L);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void partialCopiesMoveExactlyTheNamedItems() throws IOException {
        List<Object> values = new ArrayList<>(LongStream.range(0, 10).boxed().toList());
        try (ShareableList sl = ShareableList.create(null, values)) {
            try {
                long[] dst = new long[6];
                sl.getLongs(3, dst, 2, 3);
                assertThat(dst).containsExactly(0, 0, 3, 4, 5, 0);
                sl.setLongs(7, new long[] {-1, 70, 80, -1}, 1, 2);
                assertThat(sl.subList(6, 10)).containsExactly(6L, 70L, 80L, 9L);
                sl.setDoubles(0, new double[] {9, 0.5, 9}, 1, 1);
                double[] d = {7, 7};
                sl.getDoubles(0, d, 1, 1);
                assertThat(d).containsExactly(7, 0.5);
            } finally {
                sl.unlink();
            }
        }
    }

    /** The README's program: two child JVMs double a half each with one call. */
    @Test
    void twoChildJvmsDoubleTheirHalvesWithOneCallEach() throws Exception {
        int n = 99_999;
        try (ShareableList sl = ShareableList.create(null, LongStream.range(0, n).boxed().toList())) {
            try {
                int half = sl.size() / 2;
                ChildProcess p = ChildProcess.start(() -> sl.replaceAllLongs(0, half, x -> x * 2));
                ChildProcess q = ChildProcess.start(() -> sl.replaceAllLongs(half, sl.size(), x -> x * 2));
                joinAllOk(p, q);
                long[] all = new long[n];
                sl.getLongs(0, all);
                for (int i = 0; i < n; i++) {
                    if (all[i] != 2L * i) {
                        throw new AssertionError("item " + i + " is " + all[i]);
                    }
                }
            } finally {
                sl.unlink();
            }
        }
    }
}
