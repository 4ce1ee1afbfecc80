package io.multiproc.internal;

import io.multiproc.process.ChildProcess;
import io.multiproc.process.SerializableTask;
import io.multiproc.shm.SharedMemory;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import io.multiproc.testing.TestShmNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A full /dev/shm can fail the write of a registry record after its file was created (an empty file
 * needs no page, its first byte does). The operation then fails saying /dev/shm is full, and leaves no
 * record behind: an empty process record would read as "this live process holds the name", an empty
 * in-flight record as one more item carrying the object. The failure is injected in a child JVM.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RegistryRecordWriteTest {

    @Test
    void creatingASegmentWhenItsRecordCannotBeWrittenFailsClearlyAndLeavesNoRecord() throws Exception {
        String name = TestShmNames.unique("full");
        runHooked(() -> createWhileRecordsOfItFail(name));
        assertThat(ShmFiles.SHM_DIR.resolve(name)).doesNotExist();
    }

    @Test
    void sendingAnObjectWhenItsInFlightRecordCannotBeWrittenLeavesItsCountAsItWas() throws Exception {
        String item = TestShmNames.unique("item");
        String carrier = TestShmNames.unique("carrier");
        runHooked(() -> sendWhileInFlightRecordFails(item, carrier));
        assertThat(ShmFiles.SHM_DIR.resolve(item)).as("removed by its last user's close").doesNotExist();
    }

    // ---------------------------------------------------------------- child tasks

    static void createWhileRecordsOfItFail(String name) {
        SegmentRegistry.recordFault = failFor(name + "@");
        try {
            SharedMemory.create(name, 4096).close();
            throw new AssertionError("created '" + name + "' although its record could not be written");
        } catch (IOException e) {
            checkNoSpaceMessage(e);
        } finally {
            SegmentRegistry.recordFault = null;
        }
        check(records(name).isEmpty(), "records left: " + records(name));
        check(!SegmentRegistry.holds(name), "this process still holds " + name);
    }

    static void sendWhileInFlightRecordFails(String item, String carrier) {
        SharedSegments.Mapping carried;
        SharedSegments.Mapping carrierMapping;
        try {
            carried = SharedSegments.createNamed(item, 4096, seg -> { });
            carrierMapping = SharedSegments.createNamed(carrier, 4096, seg -> { });
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        SegmentRegistry.recordFault = failFor(item + "@^" + carrier);
        try {
            SegmentRegistry.addInFlightHold(item, carrier);
            throw new AssertionError("sent although the in-flight record could not be written");
        } catch (IOException e) {
            checkNoSpaceMessage(e);
        } finally {
            SegmentRegistry.recordFault = null;
        }
        check(records(item).equals(List.of(item + "@" + ProcessIdentity.current())), "records: " + records(item));
        carried.release(); // the last user: the item goes, no in-flight count keeps it
        check(!Files.exists(ShmFiles.SHM_DIR.resolve(item)), "'" + item + "' outlived its last user: " + records(item));
        carrierMapping.release();
    }

    // ---------------------------------------------------------------- helpers

    private static void runHooked(SerializableTask task) throws InterruptedException {
        ChildProcess child = ChildProcess.builder().jvmOptions(List.of("-D" + SegmentRegistry.FAULTS_PROPERTY + "=true"))
                .target(task).start();
        try {
            assertThat(child.join(Children.TIMEOUT)).as("%s exited", child).isTrue();
            assertThat(child.failure()).as("%s failure", child).isEmpty();
            assertThat(child.exitCode()).as("%s exit code", child).hasValue(0);
        } finally {
            Children.reap(child);
        }
    }

    /** What a full tmpfs says to the first write into a new file. */
    private static SegmentRegistry.RecordFault failFor(String recordName) {
        return record -> {
            if (record.getFileName().toString().equals(recordName)
                    || recordName.endsWith("@") && record.getFileName().toString().startsWith(recordName)) {
                throw new IOException("No space left on device");
            }
        };
    }

    private static void checkNoSpaceMessage(IOException e) {
        String m = String.valueOf(e.getMessage());
        check(m.contains("/dev/shm") && m.toLowerCase(java.util.Locale.ROOT).contains("no space"),
                "unclear message: " + m);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static List<String> records(String name) {
        try (var files = Files.list(SegmentRegistry.dir())) {
            return files.map(Path::getFileName).map(Path::toString).filter(f -> f.startsWith(name + "@")).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
