package io.multiproc.process;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a pool does with its settings and its reporting: worker counts, the console bar, a failing idle strategy. */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class PoolInputTest {
    @Test
    void aWorkerCountNoKernelCanRunIsRefusedNamingItBeforeAnythingStarts() {
        // it threw OutOfMemoryError: the pool made room for every worker up front
        assertThatThrownBy(() -> Pool.builder().workers(Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workers=" + Integer.MAX_VALUE).hasMessageContaining("must be <= " + Pool.MAX_WORKERS);
        assertThatThrownBy(() -> Pool.create(Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workers=" + Integer.MAX_VALUE);
        assertThatThrownBy(() -> Pool.create(Pool.MAX_WORKERS + 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workers=" + (Pool.MAX_WORKERS + 1));
        assertThat(Pool.builder().workers(Pool.MAX_WORKERS)).isNotNull(); // the bound itself is a count (not built)
    }
}
