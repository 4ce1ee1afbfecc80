package io.multiproc.manager.local;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The block header's packing: what a walk and a sweep read back is what an allocator wrote. */
class BlockLayoutTest {
    @Test
    void aUsedStateKeepsItsKindAndSlot() {
        int state = BlockLayout.used(BlockLayout.KIND_ITEM, BlockLayout.SLOT_MASK);
        assertThat(BlockLayout.tag(state)).isEqualTo(BlockLayout.TAG_USED);
        assertThat(BlockLayout.kind(state)).isEqualTo(BlockLayout.KIND_ITEM);
        assertThat(BlockLayout.slot(state)).isEqualTo(BlockLayout.SLOT_MASK);
        assertThat(BlockLayout.slot(BlockLayout.used(BlockLayout.KIND_BLOCK, 7))).isEqualTo(7);
    }

    @Test
    void freeHasNoTagAndNoSlotTagsCollide() {
        assertThat(BlockLayout.tag(BlockLayout.FREE)).isZero();
        assertThat(java.util.Set.of(BlockLayout.TAG_USED, BlockLayout.TAG_CACHED, BlockLayout.TAG_TAIL,
                BlockLayout.TAG_RECLAIMING)).hasSize(4).doesNotContain(0);
    }

    @Test
    void aHeaderWordHoldsClassAndStateIncludingATailsNegativeLength() {
        int tail = BlockLayout.state(BlockLayout.TAG_TAIL, 0, 3);
        long header = BlockLayout.header(-4096, tail);
        assertThat(BlockLayout.classOf(header)).isEqualTo(-4096);
        assertThat(BlockLayout.stateOf(header)).isEqualTo(tail);
        long used = BlockLayout.header(12, BlockLayout.used(0, 1));
        assertThat(BlockLayout.classOf(used)).isEqualTo(12);
        assertThat(BlockLayout.stateOf(used)).isEqualTo(BlockLayout.used(0, 1));
    }

    @Test
    void aContainerHeaderFitsItsSizeClass() {
        int c = BlockLayout.classFor(ContainerLayout.SIZE);
        assertThat(BlockLayout.blockSize(c)).isGreaterThanOrEqualTo(ContainerLayout.SIZE + BlockLayout.PAYLOAD);
        assertThat(ContainerLayout.LIFE % 8).isZero();
        assertThat(ContainerLayout.GENERATION + 8).isLessThanOrEqualTo(ContainerLayout.LOCK);
    }
}
