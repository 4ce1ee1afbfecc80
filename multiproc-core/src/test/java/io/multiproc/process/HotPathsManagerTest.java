package io.multiproc.process;

import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.ShmFiles;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spares' warm-up includes the manager's paths (a list's appends, a dict's put/get/merge, batches)
 * on a heap private to the JVM: nothing appears in /dev/shm, and a task arriving stops it within one
 * iteration.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class HotPathsManagerTest {
    @Test
    void sparesWarmTheManagerPathsWithoutNamingAnythingInDevShm() {
        assertThat(HotPaths.Path.values()).contains(HotPaths.Path.MANAGER);
        AtomicInteger asked = new AtomicInteger();
        List<List<String>> seenMidway = new ArrayList<>();
        // 2 rounds of 1,500: the list is cleared and refilled by batches once per 1,024 iterations
        HotPaths.Path.MANAGER.run(1_500, 2, () -> {
            if (asked.incrementAndGet() == 1_200) {
                seenMidway.add(managerRootsOfThisProcess());
            }
            return false;
        });
        assertThat(asked.get()).as("iterations run, each asking stop first").isEqualTo(3_000);
        assertThat(seenMidway).as("manager roots this JVM has in /dev/shm while warming up").containsExactly(List.of());
    }

    @Test
    void aTaskArrivingStopsTheManagerWarmUpWithinOneIteration() {
        AtomicInteger asked = new AtomicInteger();
        HotPaths.Path.MANAGER.run(2_000, 12, () -> asked.incrementAndGet() > 3);
        assertThat(asked.get()).isEqualTo(4);
    }

    /** Manager root segments in /dev/shm whose owner is this process (other JVMs' tests may have theirs). */
    private static List<String> managerRootsOfThisProcess() {
        long me = ProcessIdentity.current().token();
        try (Stream<Path> files = Files.list(ShmFiles.SHM_DIR)) {
            return files.filter(p -> p.getFileName().toString().startsWith("mpm_")).filter(p -> ownerToken(p) == me)
                    .map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The owner token a manager root records (HeapLayout.OWNER_TOKEN, byte 136), or 0 if unreadable. */
    private static long ownerToken(Path root) {
        try (FileChannel ch = FileChannel.open(root, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            return ch.read(b, 136) == 8 ? b.getLong(0) : 0;
        } catch (IOException gone) {
            return 0;
        }
    }
}
