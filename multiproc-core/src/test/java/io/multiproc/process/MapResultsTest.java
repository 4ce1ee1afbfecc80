package io.multiproc.process;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The List a map returns: chunks' results in place, packed ones boxed on access, settable like Arrays.asList. */
@ExtendWith(ReapChildrenCheckShm.class)
class MapResultsTest {

    /** Five chunks of two (the last one short): ints, longs, doubles, objects, a LinkedList's ints. */
    private static MapResults mixed() {
        MapResults r = new MapResults(9, 2);
        r.put(0, PackedItems.unpack(new int[] {1, 2}));
        r.put(1, PackedItems.unpack(new long[] {3L, 4L}));
        r.put(2, PackedItems.unpack(new double[] {5.5, -0.0}));
        r.put(3, PackedItems.unpack(Arrays.asList("six", null)));
        r.put(4, PackedItems.unpack(new LinkedList<>(List.of(8))));
        return r;
    }

    @Test
    void chunkResultsLandAtTheirPlaceWhateverTheirKind() {
        assertThat(mixed()).containsExactly(1, 2, 3L, 4L, 5.5, -0.0, "six", null, 8);
        assertThat(mixed()).isEqualTo(Arrays.asList(1, 2, 3L, 4L, 5.5, -0.0, "six", null, 8));
        assertThat(mixed().hashCode()).isEqualTo(Arrays.asList(1, 2, 3L, 4L, 5.5, -0.0, "six", null, 8).hashCode());
    }

    @Test
    void setReplacesOneElementAndReturnsTheOldOneWhateverItsType() {
        MapResults r = mixed();
        assertThat(r.set(1, 20)).isEqualTo(2);
        assertThat(r.set(0, "one")).isEqualTo(1); // not an Integer: that chunk is boxed, its other element kept
        assertThat(r.set(2, null)).isEqualTo(3L);
        assertThat(r.set(5, 0.25)).isEqualTo(-0.0);
        assertThat(r.set(7, 7)).isNull();
        assertThat(r).containsExactly("one", 20, null, 4L, 5.5, 0.25, "six", 7, 8);
    }

    @Test
    void itHasAFixedSizeAndNamesABadIndex() {
        MapResults r = mixed();
        assertThatThrownBy(() -> r.add(10)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> r.remove(0)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> r.get(9)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("9");
        assertThatThrownBy(() -> r.set(-1, 0)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("-1");
        assertThat(r).hasSize(9);
    }

    @Test
    void itSerializesAsAnArrayListOfTheSameElements() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(mixed());
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            Object back = in.readObject();
            assertThat(back).isInstanceOf(ArrayList.class).isEqualTo(mixed());
        }
    }

    @Test
    void aPoolsMapReturnsItsResultsInOrderAndSettable() throws Exception {
        List<Integer> items = new ArrayList<>();
        for (int i = 0; i < 10_001; i++) {
            items.add(i);
        }
        try (Pool pool = Pool.create(2)) {
            List<Object> out = pool.map(x -> x % 1000 == 7 ? (Object) ("s" + x) : (Object) (x * 3), items, 1_000);
            for (int i = 0; i < items.size(); i++) {
                assertThat(out.get(i)).isEqualTo(i % 1000 == 7 ? "s" + i : i * 3);
            }
            out.set(0, "zero");
            out.set(10_000, 1L);
            assertThat(out.get(0)).isEqualTo("zero");
            assertThat(out.get(1)).isEqualTo(3);
            assertThat(out.get(10_000)).isEqualTo(1L);
            assertThatThrownBy(() -> out.add(1)).isInstanceOf(UnsupportedOperationException.class);
        }
    }
}
