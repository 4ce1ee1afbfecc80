package io.multiproc.manager.local;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The manager heap's size limits, checked where they are computed (reaching them takes tens of GiB). */
class HeapLimitsTest {
    @Test
    void aHeapSegmentNeverGrowsPastWhatARefCanAddress() {
        long most = 1L << HeapLayout.OFFSET_BITS;
        long size = 8L << 20;
        for (int i = 0; i < 20; i++) {
            size = Heap.nextSegmentSize(size, 1024);
            assertThat(size).isLessThanOrEqualTo(most);
        }
        assertThat(size).isEqualTo(most);
        // every offset a block in the biggest segment can have still names that segment
        assertThat(HeapLayout.segment(HeapLayout.ref(12, most - 1))).isEqualTo(12);
        assertThatThrownBy(() -> Heap.nextSegmentSize(8L << 20, most)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("larger than a manager heap segment can hold");
    }

    @Test
    void aListOfTwoToTheThirtyElementsStillGrowsUpToTheIntLimit() {
        assertThat(ManagedList.grownCapacity(1L << 30, (1L << 30) + 1)).isEqualTo(ManagedList.MAX_ELEMENTS);
        assertThat(ManagedList.grownCapacity(8, 9)).isEqualTo(16);
    }
}
