package io.multiproc.shm;

import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;

/** ShareableList between real child JVMs: captured lists re-attach, writes are seen both ways. */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListProcessesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void twoChildJvmsDoubleTheirHalvesInPlaceOnePerItemOneInBulk() throws Exception {
        int n = 10_000;
        List<Object> values = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            values.add(i);
        }
        try (ShareableList sl = ShareableList.create(null, values)) {
            try {
                ChildProcess perItem = ChildProcess.start(() -> {
                    for (int i = 0; i < n / 2; i++) {
                        sl.set(i, (long) sl.get(i) * 2);
                    }
                });
                ChildProcess bulk = ChildProcess.start(() -> {
                    long[] half = new long[n - n / 2];
                    sl.getLongs(n / 2, half);
                    for (int k = 0; k < half.length; k++) {
                        half[k] *= 2;
                    }
                    sl.setLongs(n / 2, half);
                });
                try {
                    joinOk(perItem);
                    joinOk(bulk);
                } finally {
                    perItem.close();
                    bulk.close();
                }
                for (int i = 0; i < n; i++) {
                    assertThat(sl.getLong(i)).as("item %d", i).isEqualTo(2L * i);
                }
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void childReadsEveryItemTypeAndParentSeesTheTypesItWrote() throws Exception {
        List<Object> items = Arrays.asList(1L, 2.5, true, null, "héllo", new byte[] {1, 2});
        try (ShareableList sl = ShareableList.create(null, items)) {
            try {
                ChildProcess child = ChildProcess.start(() -> ShareableListProcessesTest.checkAndRewrite(sl));
                try {
                    joinOk(child);
                } finally {
                    child.close();
                }
                assertThat(sl.subList(0, 5)).containsExactly("one", 7L, 0.5, false, null);
                assertThat((byte[]) sl.get(5)).containsExactly(9);
            } finally {
                sl.unlink();
            }
        }
    }

    /** Runs in a child: fails (exit 1) unless it sees the parent's items, then writes other types. */
    static void checkAndRewrite(ShareableList sl) {
        List<Object> seen = new ArrayList<>(sl.subList(0, 5));
        if (!seen.equals(Arrays.asList(1L, 2.5, true, null, "héllo")) || !Arrays.equals((byte[]) sl.get(5), new byte[] {1, 2})) {
            throw new AssertionError("child saw " + sl);
        }
        sl.set(0, "one");
        sl.set(1, 7L);
        sl.set(2, 0.5);
        sl.set(3, false);
        sl.set(4, null);
        sl.set(5, new byte[] {9});
    }

    @Test
    void bulkReadWhileAnotherProcessTogglesASlotsTypeCopiesOrNamesThatSlot() throws Exception {
        // slots 0-3 are read in bulk while a child flips slot 3 between double and long; slot 4 says it runs
        try (ShareableList sl = ShareableList.create(null, List.of(0L, 1L, 2L, 3L, 0L))) {
            try {
                ChildProcess toggler = ChildProcess.start(() -> ShareableListProcessesTest.toggleSlotThree(sl));
                try {
                    Children.awaitUntil("the child toggles slot 3", () -> sl.getLong(4) == 1);
                    long[] dst = new long[4];
                    int copied = 0;
                    int refused = 0;
                    while (!toggler.join(Duration.ZERO)) {
                        try {
                            sl.getLongs(0, dst);
                            copied++;
                        } catch (ClassCastException e) {
                            assertThat(e).hasMessageContaining("slot 3 ").hasMessageContaining("not a long");
                            refused++;
                        }
                    }
                    joinOk(toggler);
                    assertThat(copied).as("bulk reads that found slot 3 a long").isPositive();
                    assertThat(refused).as("bulk reads that found slot 3 a double").isPositive();
                } finally {
                    toggler.close();
                }
            } finally {
                sl.unlink();
            }
        }
    }

    /** Runs in a child: flips slot 3 between a double and a long for two seconds. */
    static void toggleSlotThree(ShareableList sl) {
        sl.setLong(4, 1);
        long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < end) {
            for (int k = 0; k < 1000; k++) {
                sl.set(3, 1.5);
                sl.set(3, 7L);
            }
        }
    }

    @Test
    void childThatOnlyAttachedLeavesTheListWhenItExits() throws Exception {
        try (ShareableList sl = ShareableList.create(null, List.of(1L))) {
            try {
                String name = sl.name();
                ChildProcess child = ChildProcess.start(() -> {
                    try {
                        ShareableList mine = ShareableList.attach(name); // never closed, on purpose
                        mine.setLong(0, 2);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                try {
                    joinOk(child);
                } finally {
                    child.close();
                }
                assertThat(Path.of("/dev/shm", name)).exists();
                assertThat(sl.getLong(0)).isEqualTo(2L);
            } finally {
                sl.unlink();
            }
        }
    }

}
