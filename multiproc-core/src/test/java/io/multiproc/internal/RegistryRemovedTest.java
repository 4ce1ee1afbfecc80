package io.multiproc.internal;

import io.multiproc.process.ChildProcess;
import io.multiproc.shm.SharedMemory;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import io.multiproc.testing.TestShmNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static io.multiproc.testing.Children.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Someone removes the registry directory while a process uses it ({@code rm -rf /dev/shm/multiproc-UID}).
 * The process goes on: its next registry step re-creates the directory and its lock, and records again
 * the segments it holds, so that they are still removed when it is done and never swept while it lives.
 * The child JVM under test uses a registry under a temporary root, so that removing it touches no
 * other process's records.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RegistryRemovedTest {

    @Test
    void aProcessWhoseRegistryWasRemovedRecreatesItAndRecordsItsSegmentsAgain() throws Exception {
        Path root = Files.createTempDirectory("registry-root");
        String first = TestShmNames.unique("before");
        String second = TestShmNames.unique("after");
        Path created = root.resolve("created");
        Path go = root.resolve("go");
        String createdName = created.toString();
        String goName = go.toString();
        ChildProcess child = ChildProcess.builder()
                .jvmOptions(List.of("-D" + SegmentRegistry.TEST_ROOT_PROPERTY + "=" + root))
                .target(() -> createBeforeAndAfterRemoval(first, second, createdName, goName))
                .start();
        try {
            awaitUntil("the child created " + first, () -> Files.exists(created) || !child.isAlive());
            Path registry;
            try (Stream<Path> s = Files.list(root)) {
                registry = s.filter(p -> p.getFileName().toString().startsWith("multiproc-")).findFirst().orElseThrow();
            }
            removeTree(registry);
            Files.createFile(go);

            assertThat(child.join(Children.TIMEOUT)).as("%s exited", child).isTrue();
            assertThat(child.failure()).as("%s failure", child).isEmpty();
            assertThat(child.exitCode()).as("%s exit code", child).hasValue(0);
            assertThat(ShmFiles.SHM_DIR.resolve(first)).as("removed by its owner's exit").doesNotExist();
            assertThat(ShmFiles.SHM_DIR.resolve(second)).as("removed by its owner's exit").doesNotExist();
        } finally {
            Children.reap(child);
            Files.deleteIfExists(ShmFiles.SHM_DIR.resolve(first));
            Files.deleteIfExists(ShmFiles.SHM_DIR.resolve(second));
            removeTree(root);
        }
    }

    /** Creates {@code first}, waits for {@code go} (the registry is gone then), creates {@code second}. */
    static void createBeforeAndAfterRemoval(String first, String second, String created, String go) {
        try {
            SharedMemory.create(first, 4096).close();
            Files.createFile(Path.of(created));
            long deadline = System.nanoTime() + Children.TIMEOUT.toNanos();
            while (!Files.exists(Path.of(go)) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            SharedMemory.create(second, 4096).close();
            Path registry = SegmentRegistry.dir();
            String self = ProcessIdentity.current().toString();
            for (String name : List.of(first, second)) {
                if (!Files.exists(registry.resolve(name + "@" + self))) {
                    throw new AssertionError("no record of " + name + " in the re-created registry " + registry);
                }
            }
            if (!Files.exists(registry.resolve("registry.lock"))) {
                throw new AssertionError("no lock file in the re-created registry " + registry);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void removeTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
