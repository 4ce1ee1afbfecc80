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
            removeTree(registryUnder(root));
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

    /**
     * Two processes share a value; the registry is removed; the one that attached makes a registry step
     * first (recording its hold again), then the creator closes: the value stays for the other process.
     * The re-created registry has lost the mark that the attach left (decision 177): the step that records
     * a hold again must mark it, or the creator's close would take itself for the only holder.
     */
    @Test
    void aValueSharedWhenTheRegistryWasRemovedStaysWhenItsCreatorClosesIt() throws Exception {
        Path root = Files.createTempDirectory("registry-root");
        Path nameFile = root.resolve("name");
        Path attached = root.resolve("attached");
        Path removed = root.resolve("removed");
        Path stepped = root.resolve("stepped");
        Path checked = root.resolve("checked");
        List<String> props = List.of("-D" + SegmentRegistry.TEST_ROOT_PROPERTY + "=" + root);
        String nameFileName = nameFile.toString();
        String attachedName = attached.toString();
        String removedName = removed.toString();
        String steppedName = stepped.toString();
        String checkedName = checked.toString();
        ChildProcess creator = ChildProcess.builder().jvmOptions(props)
                .target(() -> createThenCloseAfter(nameFileName, steppedName)).start();
        ChildProcess other = null;
        String name = null;
        try {
            awaitUntil("the creator made its value", () -> Files.exists(nameFile) || !creator.isAlive());
            name = Files.readString(nameFile);
            String value = name;
            other = ChildProcess.builder().jvmOptions(props)
                    .target(() -> attachStepAndHold(value, attachedName, removedName, steppedName, checkedName)).start();
            ChildProcess o = other;
            awaitUntil("the other process attached", () -> Files.exists(attached) || !o.isAlive());
            removeTree(registryUnder(root));
            Files.createFile(removed);

            assertThat(creator.join(Children.TIMEOUT)).as("%s exited", creator).isTrue();
            assertThat(creator.exitCode()).as("%s exit code", creator).hasValue(0);
            assertThat(ShmFiles.SHM_DIR.resolve(name)).as("the other process still holds it").exists();
            Files.createFile(checked);
            assertThat(other.join(Children.TIMEOUT)).as("%s exited", other).isTrue();
            assertThat(other.failure()).as("%s failure", other).isEmpty();
            assertThat(other.exitCode()).as("%s exit code", other).hasValue(0);
            assertThat(ShmFiles.SHM_DIR.resolve(name)).as("removed by its last holder").doesNotExist();
        } finally {
            Children.reap(creator);
            if (other != null) {
                Children.reap(other);
            }
            if (name != null) {
                Files.deleteIfExists(ShmFiles.SHM_DIR.resolve(name));
            }
            removeTree(root);
        }
    }

    /** Creates a value, writes its name to {@code nameFile}, waits for {@code stepped}, closes it. */
    static void createThenCloseAfter(String nameFile, String stepped) {
        try {
            io.multiproc.shared.SharedLong v = io.multiproc.shared.SharedLong.create(7);
            Files.writeString(Path.of(nameFile + ".tmp"), v.name());
            Files.move(Path.of(nameFile + ".tmp"), Path.of(nameFile));
            awaitFile(stepped);
            v.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Attaches {@code name}, waits until the registry was removed, makes a registry step (a value of its
     * own, created and closed), then holds {@code name} until {@code checked}.
     */
    static void attachStepAndHold(String name, String attached, String removed, String stepped, String checked) {
        try (io.multiproc.shared.SharedLong v = io.multiproc.shared.SharedLong.attach(name)) {
            Files.createFile(Path.of(attached));
            awaitFile(removed);
            io.multiproc.shared.SharedLong.create(1).close();
            Files.createFile(Path.of(stepped));
            awaitFile(checked);
            if (v.get() != 7) {
                throw new AssertionError("the value changed: " + v.get());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitFile(String file) {
        long deadline = System.nanoTime() + Children.TIMEOUT.toNanos();
        while (!Files.exists(Path.of(file)) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
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

    /** The registry directory a child made under the test root {@code root}. */
    private static Path registryUnder(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().startsWith("multiproc-")).findFirst().orElseThrow();
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
