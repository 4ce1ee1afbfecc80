package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A manager's heap starts large enough for the common case (decision 158): growing it reserves a new
 * segment under the allocator's lock and makes every process map it, which stalled processes sharing a
 * list for tens of milliseconds.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerHeapSizeTest {

    @Test
    void fourProcessesAppendingTenThousandIntsEachNeverGrowTheHeap() throws Exception {
        try (Manager m = Manager.start()) {
            List<Integer> ls = m.list();
            Heap heap = ((Proxy) ls).container().heap;
            List<ChildProcess> children = new ArrayList<>();
            try {
                for (int c = 0; c < 4; c++) {
                    int base = c * 10_000;
                    children.add(ChildProcess.start(() -> {
                        for (int i = 0; i < 10_000; i++) {
                            ls.add(base + i);
                        }
                    }));
                }
                for (ChildProcess c : children) {
                    Children.joinOk(c);
                }
            } finally {
                Children.reap(children.toArray(ChildProcess[]::new));
            }
            assertThat(ls).hasSize(40_000);
            assertThat(new ArrayList<>(ls).stream().mapToLong(Integer::longValue).sum()).isEqualTo(40_000L * 39_999 / 2);
            assertThat(heap.root().get(ValueLayout.JAVA_INT, HeapLayout.SEGMENT_COUNT)).as("segments of the heap").isEqualTo(1);
            try (var shm = Files.list(Path.of("/dev/shm"))) {
                assertThat(shm.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("mpmh_" + m.name() + "_")))
                        .as("extents of the heap in /dev/shm").isEmpty();
            }
        }
    }

    @Test
    void aValueLargerThanTheFirstSegmentGrowsTheHeapAndReadsBack() {
        try (Manager m = Manager.start()) {
            List<String> ls = m.list();
            Heap heap = ((Proxy) ls).container().heap;
            String big = "y".repeat((int) HeapLayout.ROOT_SIZE + 1);
            ls.add(big);
            assertThat(heap.root().get(ValueLayout.JAVA_INT, HeapLayout.SEGMENT_COUNT)).isEqualTo(2);
            assertThat(ls.get(0)).isEqualTo(big);
        }
    }
}
