package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A thread that once stored (or tried to store) a huge value does not keep its encoding buffer for good. */
@ExtendWith(ReapChildrenCheckShm.class)
class ItemsScratchTest {
    @Test
    void aRefusedHugeValueLeavesNoHugeBufferBehindAndALargeOneGoesAtTheNextStore() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Object> d = m.dict();
            assertThatThrownBy(() -> d.put("big", new byte[40 << 20])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("larger than the manager's limit");
            assertThat(Items.scratchBytes()).as("bytes kept after a refused 40 MB value").isLessThan(2L << 20);
            d.put("large", new byte[10 << 20]); // within the limit
            d.put("small", 1);
            assertThat(Items.scratchBytes()).as("bytes kept after a small store following a 10 MB one").isLessThan(2L << 20);
            assertThat(d).containsOnlyKeys("large", "small");
            assertThat(d.get("small")).isEqualTo(1);
            assertThat(Map.copyOf(d).get("large")).isInstanceOf(byte[].class);
        }
    }
}
