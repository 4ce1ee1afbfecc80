package io.multiproc.internal;

import io.multiproc.process.ChildProcess;
import io.multiproc.process.SerializableTask;
import io.multiproc.shared.SharedLong;
import io.multiproc.shm.SharedMemory;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import io.multiproc.testing.TestShmNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A process killed while it removes a segment, between its two file operations (the segment's file and
 * the records naming it), leaves something the next sweep removes: never a /dev/shm file that no record
 * names, which no sweep and no {@code multiproc clean} would touch again. The kill is injected in a child
 * JVM at that point; the test then sweeps as the next program would.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RegistryKilledMidUnlinkTest {

    @Test
    void aProcessKilledWhileReleasingItsLastHoldLeavesNothingTheNextSweepMisses() throws Exception {
        String name = TestShmNames.unique("midrel");
        runKilledMidUnlink(() -> releaseLastHold(name), name);
        assertGoneAfterSweep(name);
    }

    @Test
    void aProcessKilledWhileDroppingTheLastItemHoldLeavesNothingTheNextSweepMisses() throws Exception {
        String item = TestShmNames.unique("miditem");
        String parent = TestShmNames.unique("midpar");
        try (SharedMemory carrier = SharedMemory.create(parent, 4096)) { // alive throughout
            runKilledMidUnlink(() -> dropLastParentHold(item, parent), item);
            assertGoneAfterSweep(item);
            carrier.unlink();
        }
    }

    @Test
    void aSweepKilledMidWayLeavesNothingTheNextSweepMisses() throws Exception {
        String name = TestShmNames.unique("midsweep");
        try (SharedLong stage = SharedLong.create(0)) {
            // the sweeper first: its JVM's own startup sweep is over once it has attached the stage
            ChildProcess sweeper = hooked(() -> {
                stage.set(1);
                while (stage.get() != 2) {
                    Thread.sleep(5);
                }
                SegmentRegistry.sweep();
            }, name);
            try {
                Children.awaitUntil("sweeper ready", () -> stage.get() == 1 || !sweeper.isAlive());
                killHolderOf(name);
                stage.set(2);
                assertKilledAtTheInjectedPoint(sweeper);
            } finally {
                Children.reap(sweeper);
            }
        }
        assertGoneAfterSweep(name);
    }

    @Test
    void aProcessKilledDroppingAnItemHoldWhileAnotherProcessHoldsTheObjectLeavesNoCount() throws Exception {
        String item = TestShmNames.unique("miditem");
        String carrier = TestShmNames.unique("midcar");
        SegmentRegistry.createHeld(carrier).close();
        SegmentRegistry.createHeld(item).close(); // this process holds the object too: nothing will be unlinked
        SegmentRegistry.addInFlightHold(item, carrier);
        try {
            ChildProcess child = ChildProcess.builder().jvmOptions(List.of("-D" + SegmentRegistry.FAULTS_PROPERTY + "=true"))
                    .target(() -> {
                        SegmentRegistry.midUnlinkFault = records -> Runtime.getRuntime().halt(9);
                        SegmentRegistry.dropParentHold(item, carrier);
                    }).start();
            try {
                assertKilledAtTheInjectedPoint(child);
            } finally {
                Children.reap(child);
            }
            SegmentRegistry.sweep();
            assertThat(SegmentRegistry.release(item)).as("the last holder's release unlinks the object, no count left").isTrue();
        } finally {
            SegmentRegistry.release(item);
            SegmentRegistry.release(carrier);
        }
    }

    @Test
    void aSegmentThatCannotBeUnlinkedFailsNoSweepAndTheSweepGoesOnPastIt() throws Exception {
        String stuck = TestShmNames.unique("stuck");
        String later = TestShmNames.unique("zlater"); // swept after it (sweeps go in name order)
        Path d = SegmentRegistry.dir();
        ProcessIdentity me = ProcessIdentity.current();
        ProcessIdentity dead = new ProcessIdentity(me.pid(), me.startTicks() + 1); // not running
        // a non-empty directory: a name no process can unlink, root included (as another user's file in
        // the sticky /dev/shm is for a process without root)
        Path stuckFile = ShmFiles.SHM_DIR.resolve(stuck);
        Path stuckRecord = d.resolve(stuck + "@" + dead);
        Path laterFile = ShmFiles.SHM_DIR.resolve(later);
        Path laterRecord = d.resolve(later + "@" + dead);
        try {
            Files.createDirectory(stuckFile);
            Files.createFile(stuckFile.resolve("x"));
            Files.createFile(stuckRecord); // empty: an older version's record, naming no file identity
            Files.createFile(laterFile);
            Files.createFile(laterRecord);
            SegmentRegistry.sweep();
            assertThat(laterFile).as("a dead segment swept after the stuck one").doesNotExist();
            assertThat(stuckRecord).as("the stuck one's dead record").doesNotExist();
            SegmentRegistry.sweep();
        } finally {
            Files.deleteIfExists(stuckFile.resolve("x"));
            Files.deleteIfExists(stuckFile);
            Files.deleteIfExists(stuckRecord);
            Files.deleteIfExists(laterFile);
            Files.deleteIfExists(laterRecord);
        }
    }

    /** Leaves segment {@code name} held only by a process that died without releasing it. */
    private static void killHolderOf(String name) throws InterruptedException {
        // NOTE: a JVM of its own options, not a spare: taking a spare boots a replacement, whose startup
        // sweep could remove the segment before the sweeper under test reaches it
        ChildProcess holder = ChildProcess.builder().jvmOptions(List.of("-D" + SegmentRegistry.FAULTS_PROPERTY + "=true"))
                .target(() -> {
                    SharedMemory.create(name, 4096); // held, never closed: the process is killed with it
                    Thread.sleep(60_000);
                }).start();
        try {
            Children.awaitUntil("segment created", () -> Files.exists(ShmFiles.SHM_DIR.resolve(name)) || !holder.isAlive());
            holder.kill();
            assertThat(holder.join(Children.TIMEOUT)).isTrue();
        } finally {
            Children.reap(holder);
        }
    }

    // ---------------------------------------------------------------- child tasks

    static void releaseLastHold(String name) throws IOException {
        SharedMemory.create(name, 4096).close();
    }

    static void dropLastParentHold(String item, String parent) throws IOException {
        try (FileChannel ignored = SegmentRegistry.createHeldByParent(item, parent)) {
            SegmentRegistry.dropParentHold(item, parent);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Runs {@code task} in a child JVM that halts (as SIGKILL would) between the two steps that remove {@code name}. */
    private static void runKilledMidUnlink(SerializableTask task, String name) throws InterruptedException {
        ChildProcess child = hooked(task, name);
        try {
            assertKilledAtTheInjectedPoint(child);
        } finally {
            Children.reap(child);
        }
    }

    private static ChildProcess hooked(SerializableTask task, String name) {
        return ChildProcess.builder().jvmOptions(List.of("-D" + SegmentRegistry.FAULTS_PROPERTY + "=true"))
                .target(() -> {
                    SegmentRegistry.midUnlinkFault = records -> {
                        if (records.stream().anyMatch(r -> r.getFileName().toString().startsWith(name + "@"))) {
                            Runtime.getRuntime().halt(9);
                        }
                    };
                    task.run();
                }).start();
    }

    private static void assertKilledAtTheInjectedPoint(ChildProcess child) throws InterruptedException {
        assertThat(child.join(Children.TIMEOUT)).as("%s exited", child).isTrue();
        assertThat(child.exitCode()).as("%s was killed at the injected point", child).hasValue(9);
    }

    private static void assertGoneAfterSweep(String name) throws IOException {
        SegmentRegistry.sweep();
        assertThat(ShmFiles.SHM_DIR.resolve(name)).as("/dev/shm/%s after the next sweep", name).doesNotExist();
        assertThat(records(name)).as("records of %s after the next sweep", name).isEmpty();
    }

    private static List<String> records(String name) throws IOException {
        try (var files = Files.list(SegmentRegistry.dir())) {
            return files.map(Path::getFileName).map(Path::toString).filter(f -> f.startsWith(name + "@")).toList();
        }
    }
}
