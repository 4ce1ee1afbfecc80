package io.multiproc.shm;

import io.multiproc.internal.SegmentRegistry;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.BusySegment;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** SharedMemoryManager: owns what it makes, removes it at close, and after its process is killed. */
@ExtendWith(ReapChildrenCheckShm.class)
class SharedMemoryManagerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void closeUnlinksEverySegmentAndListTheManagerMade() throws IOException {
        List<String> names;
        try (SharedMemoryManager smm = SharedMemoryManager.start()) {
            SharedMemory a = smm.sharedMemory(4096);
            SharedMemory b = smm.sharedMemory(100);
            ShareableList sl = smm.shareableList(List.of(1L, "two"));
            assertThat(a.name()).matches("psm_[0-9a-f]{8}");
            assertThat(b.size()).isEqualTo(100);
            names = smm.names();
            assertThat(names).containsExactly(a.name(), b.name(), sl.name());
            for (String n : names) {
                assertThat(shm(n)).exists();
            }
            a.segment().set(JAVA_LONG, 0, 5L);
            try (SharedMemory other = SharedMemory.attach(a.name())) {
                assertThat(other.segment().get(JAVA_LONG, 0)).isEqualTo(5L);
            }
        }
        for (String n : names) {
            assertThat(shm(n)).doesNotExist();
        }
    }

    @Test
    void closeAlsoClosesTheManagersHandles() throws IOException {
        SharedMemoryManager smm = SharedMemoryManager.start();
        ShareableList sl = smm.shareableList(List.of(1L));
        SharedMemory shm = smm.sharedMemory(64);
        smm.close();
        assertThatThrownBy(() -> sl.get(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> shm.segment().get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
        assertThat(smm.names()).isEmpty();
    }

    @Test
    void creatingThroughAClosedManagerThrowsIllegalStateException() throws IOException {
        SharedMemoryManager smm = SharedMemoryManager.start();
        smm.close();
        smm.close(); // idempotent
        assertThat(smm.isClosed()).isTrue();
        assertThatThrownBy(() -> smm.sharedMemory(64)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> smm.shareableList(List.of(1L))).isInstanceOf(IllegalStateException.class);
        assertThat(smm.toString()).contains("closed");
    }

    @Test
    void closeSkipsSegmentsTheirUsersAlreadyUnlinked() throws IOException {
        SharedMemoryManager smm = SharedMemoryManager.start();
        ShareableList sl = smm.shareableList(List.of(1L));
        SharedMemory kept = smm.sharedMemory(64);
        sl.unlink();
        smm.close();
        assertThat(shm(kept.name())).doesNotExist();
    }

    @Test
    void closeLeavesASegmentAnotherProgramMadeUnderTheNameOfOneAlreadyUnlinked() throws Exception {
        String name;
        try (SharedMemoryManager smm = SharedMemoryManager.start()) {
            name = smm.sharedMemory(64).name();
            String n = name;
            ChildProcess other = ChildProcess.start(() -> SharedMemoryTest.unlinkAndCreateAgain(n));
            try {
                assertThat(other.join(TIMEOUT)).isTrue();
                assertThat(other.exitCode()).hasValue(0);
            } finally {
                other.close();
            }
            assertThat(Files.size(shm(name))).isEqualTo(99);
        }
        try {
            assertThat(shm(name)).as("the other program's segment, made after the manager's was unlinked").exists();
        } finally {
            Files.deleteIfExists(shm(name));
        }
    }

    /**
     * A segment this process cannot unmap yet (a thread is inside blocking I/O on a buffer of it) must not
     * keep close() from removing every segment: it tries all of them, then reports what failed.
     */
    @Test
    void closeRemovesEverySegmentEvenIfOneCannotBeUnmappedYet() throws Exception {
        SharedMemoryManager smm = SharedMemoryManager.start();
        SharedMemory busy = smm.sharedMemory(1 << 20);
        SharedMemory other = smm.sharedMemory(64);
        try (BusySegment writer = new BusySegment(busy.segment())) {
            assertThatThrownBy(smm::close)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'" + busy.name() + "'");
            assertThat(shm(busy.name())).doesNotExist();
            assertThat(shm(other.name())).doesNotExist();
            assertThat(smm.isClosed()).isTrue();
            assertThat(smm.names()).isEmpty();
            assertThatThrownBy(other::segment).isInstanceOf(IllegalStateException.class);
        }
        busy.close(); // the write is over: now it unmaps
        assertThatThrownBy(busy::segment).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badInputToTheManagerCreatesNothing() throws IOException {
        try (SharedMemoryManager smm = SharedMemoryManager.start()) {
            assertThatThrownBy(() -> smm.sharedMemory(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("size=0");
            assertThatThrownBy(() -> smm.shareableList(List.of(new Object())))
                    .isInstanceOf(ClassCastException.class).hasMessageContaining("java.lang.Object");
            assertThat(smm.names()).isEmpty();
        }
    }

    @Test
    void segmentsOfAKilledManagersProcessAreRemovedByTheNextSweep() throws Exception {
        SegmentRegistry.dir(); // this JVM's first registry use sweeps: get it done before the child dies
        Path report = Files.createTempFile("mpt-smm-", ".names");
        String reportFile = report.toString(); // a Path is not Serializable
        ChildProcess owner = ChildProcess.start(() -> SharedMemoryManagerTest.createAndSleep(reportFile));
        try {
            List<String> names = awaitNames(report, owner);
            assertThat(names).hasSize(2);
            try (ShareableList sl = ShareableList.attach(names.get(1))) {
                assertThat(sl).containsExactly(7L, "owned");
            }
            owner.kill();
            assertThat(owner.join(TIMEOUT)).isTrue();
            for (String n : names) {
                assertThat(shm(n)).as("SIGKILL skipped close() and the exit hook").exists();
            }
            assertThat(SegmentRegistry.sweep()).containsAll(names);
            for (String n : names) {
                assertThat(shm(n)).doesNotExist();
            }
        } finally {
            owner.close();
            Files.deleteIfExists(report);
        }
    }

    @Test
    void managerProcessThatExitsWithoutClosingStillRemovesItsSegments() throws Exception {
        Path report = Files.createTempFile("mpt-smm-", ".names");
        String reportFile = report.toString(); // a Path is not Serializable
        ChildProcess owner = ChildProcess.start(() -> SharedMemoryManagerTest.createAndReturn(reportFile));
        try {
            assertThat(owner.join(TIMEOUT)).isTrue();
            assertThat(owner.exitCode()).hasValue(0);
            List<String> names = Files.readAllLines(report);
            assertThat(names).hasSize(2);
            for (String n : names) {
                assertThat(shm(n)).doesNotExist();
            }
        } finally {
            owner.close();
            Files.deleteIfExists(report);
        }
    }

    // ---------------------------------------------------------------- child tasks

    static void createAndSleep(String report) {
        createAndReport(report);
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void createAndReturn(String report) {
        createAndReport(report); // the manager is never closed: the exit removes what it made
    }

    private static void createAndReport(String report) {
        try {
            SharedMemoryManager smm = SharedMemoryManager.start();
            smm.sharedMemory(4096);
            smm.shareableList(List.of(7L, "owned"));
            // written to a temporary file and moved, so the parent never reads half a report
            Path tmp = Path.of(report + ".tmp");
            Files.writeString(tmp, String.join("\n", smm.names()), StandardCharsets.UTF_8);
            Files.move(tmp, Path.of(report), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static List<String> awaitNames(Path report, ChildProcess child) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (Files.size(report) == 0) {
            assertThat(child.isAlive()).as("child %s still running", child).isTrue();
            assertThat(System.nanoTime()).as("child reported its segments in time").isLessThan(deadline);
            Thread.sleep(10);
        }
        return Files.readAllLines(report);
    }

    private static Path shm(String name) {
        return Path.of("/dev/shm", name);
    }
}
