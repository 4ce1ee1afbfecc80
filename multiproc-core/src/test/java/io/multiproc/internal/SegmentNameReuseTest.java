package io.multiproc.internal;

import io.multiproc.process.ChildProcess;
import io.multiproc.shm.SharedMemory;
import io.multiproc.testing.ReapChildrenCheckShm;
import io.multiproc.testing.TestShmNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static io.multiproc.testing.Children.awaitUntil;
import static io.multiproc.testing.Children.joinOk;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A holder record outlives its segment when someone else unlinks the name (a Python program, or
 * CPython's resource tracker when a Python attacher exits) and another program then creates a new
 * segment of that name. The record's owner exiting, releasing, or being swept after a SIGKILL must leave
 * that other program's segment alone and only forget the stale record. The other program is played by
 * this test writing the file by hand, as an untracked creator (Python, or Java with track=false) would.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class SegmentNameReuseTest {
    private static final byte[] OTHERS = "another program's segment".getBytes(StandardCharsets.US_ASCII);

    @Test
    void anOwnersExitKeepsTheSegmentAnotherProgramMadeUnderTheSameName() throws Exception {
        String name = TestShmNames.unique("reuse");
        Path go = Files.createTempFile("reuse-go", "");
        Files.delete(go);
        String goName = go.toString();
        ChildProcess owner = ChildProcess.start(() -> createAndAwait(name, goName));
        try {
            awaitUntil("the owner created " + name, () -> sized(name));
            replaceByAnotherProgram(name);
            Files.createFile(go);
            joinOk(owner);

            assertThat(Files.readAllBytes(shm(name))).as("the other program's segment").isEqualTo(OTHERS);
            assertThat(records(name)).as("the owner's stale record").isEmpty();
        } finally {
            owner.close();
            Files.deleteIfExists(go);
            Files.deleteIfExists(shm(name));
        }
    }

    /**
     * Another Java process unlinks the owner's segment (which forgets every holder record of it, the
     * owner's too), and a third program creates a new segment of that name. The owner's exit finds no
     * record of its own: nothing there is its to remove.
     */
    @Test
    void anOwnersExitKeepsTheSegmentMadeUnderTheSameNameAfterAnotherProcessUnlinkedIt() throws Exception {
        String name = TestShmNames.unique("reuse");
        Path go = Files.createTempFile("reuse-go", "");
        Files.delete(go);
        String goName = go.toString();
        ChildProcess owner = ChildProcess.start(() -> createAndAwait(name, goName));
        try {
            awaitUntil("the owner created " + name, () -> sized(name));
            try (SharedMemory attached = SharedMemory.attach(name)) {
                attached.unlink();
            }
            try (SharedMemory untracked = SharedMemory.create(name, 4096, false)) {
                untracked.segment().set(JAVA_LONG, 0, 7777L);
            }
            Files.createFile(go);
            joinOk(owner);

            assertThat(shm(name)).as("the third program's segment").exists();
            try (SharedMemory again = SharedMemory.attach(name)) {
                assertThat(again.segment().get(JAVA_LONG, 0)).as("the third program's data").isEqualTo(7777L);
            }
            assertThat(records(name)).isEmpty();
        } finally {
            owner.close();
            Files.deleteIfExists(go);
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void aSweepAfterTheOwnerIsKilledKeepsTheSegmentAnotherProgramMadeUnderTheSameName() throws Exception {
        SegmentRegistry.dir(); // this JVM's startup sweep, done before anyone dies
        String name = TestShmNames.unique("reuse");
        ChildProcess owner = ChildProcess.start(() -> createAndAwait(name, "/nonexistent/never"));
        try {
            awaitUntil("the owner created " + name, () -> sized(name));
            owner.kill();
            joinKilled(owner);
            replaceByAnotherProgram(name);

            assertThat(SegmentRegistry.sweep()).doesNotContain(name);
            assertThat(Files.readAllBytes(shm(name))).as("the other program's segment").isEqualTo(OTHERS);
            assertThat(records(name)).as("the dead owner's stale record").isEmpty();
        } finally {
            owner.close();
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void releasingTheLastHoldKeepsAFileThatReplacedTheSegment() throws Exception {
        String name = TestShmNames.unique("reuse");
        try {
            SegmentRegistry.createHeld(name).close();
            replaceByAnotherProgram(name);

            assertThat(SegmentRegistry.release(name)).as("unlinked").isFalse();
            assertThat(Files.readAllBytes(shm(name))).as("the other program's segment").isEqualTo(OTHERS);
            assertThat(records(name)).isEmpty();
            assertThat(SegmentRegistry.holds(name)).isFalse();
        } finally {
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void releasingTheLastHoldStillRemovesTheSegmentItCreated() throws Exception {
        String name = TestShmNames.unique("reuse");
        try {
            SegmentRegistry.createHeld(name).close();

            assertThat(SegmentRegistry.release(name)).as("unlinked").isTrue();
            assertThat(shm(name)).doesNotExist();
            assertThat(records(name)).isEmpty();
        } finally {
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void aRecordOfAnOlderVersionWithoutTheSegmentsIdentityIsReleasedAsBefore() throws Exception {
        String name = TestShmNames.unique("reuse");
        try {
            SegmentRegistry.createHeld(name).close();
            Path record = records(name).getFirst();
            // what versions before the identity wrote: the pid namespace only
            Files.writeString(record, Long.toString(ProcessIdentity.current().pidNamespace()));
            replaceByAnotherProgram(name);

            assertThat(SegmentRegistry.release(name)).as("unlinked, as older versions did").isTrue();
            assertThat(shm(name)).doesNotExist();
            assertThat(records(name)).isEmpty();
        } finally {
            Files.deleteIfExists(shm(name));
        }
    }

    // ---------------------------------------------------------------- child tasks

    /** Creates {@code name} tracked, then returns (exits normally, running the exit hook) once {@code go} exists. */
    static void createAndAwait(String name, String go) {
        try {
            SharedMemory shm = SharedMemory.create(name, 4096);
            shm.segment().set(JAVA_LONG, 0, 4242L);
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(Path.of(go)) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            shm.close(); // closed, not unlinked: the exit hook drops the hold
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * What Python's unlink and a new create of the same name do, with a new file made before the old
     * name goes (then renamed over it), so that it cannot get the old file's inode number back.
     */
    private static void replaceByAnotherProgram(String name) throws IOException {
        Path fresh = shm(TestShmNames.unique("fresh"));
        Files.write(fresh, OTHERS);
        Files.move(fresh, shm(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static boolean sized(String name) {
        try (FileChannel ch = FileChannel.open(shm(name))) {
            if (ch.size() != 4096) {
                return false;
            }
            try (SharedMemory shm = SharedMemory.attach(name)) {
                return shm.segment().get(JAVA_LONG, 0) == 4242L;
            }
        } catch (IOException e) {
            return false;
        }
    }

    private static Path shm(String name) {
        return ShmFiles.SHM_DIR.resolve(name);
    }

    private static List<Path> records(String name) throws IOException {
        try (var files = Files.list(SegmentRegistry.dir())) {
            return files.filter(p -> p.getFileName().toString().startsWith(name + "@")).toList();
        }
    }

    private static void joinKilled(ChildProcess child) throws InterruptedException {
        assertThat(child.join(io.multiproc.testing.Children.TIMEOUT)).as("%s exited", child).isTrue();
        assertThat(child.exitCode()).as("%s exit code", child).hasValue(-9);
    }
}
