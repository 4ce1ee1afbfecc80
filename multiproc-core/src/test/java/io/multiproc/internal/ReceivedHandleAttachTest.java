package io.multiproc.internal;

import io.multiproc.testing.ReapChildrenCheckShm;
import io.multiproc.testing.TestShmNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A shared object's handle taken from a queue or pipe (its carrier) whose attach fails in the receiver
 * (the segment's header does not match, it cannot be mapped): the object was not adopted, so it stays
 * held by its carrier, and goes when the carrier goes, never left with no holder at all.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ReceivedHandleAttachTest {

    @Test
    void anObjectWhoseReceiverFailedToAttachIsRemovedWithItsCarrier() throws Exception {
        String item = TestShmNames.unique("item");
        String carrier = TestShmNames.unique("carrier");
        SharedSegments.Mapping carrierMapping = SharedSegments.createNamed(carrier, 4096, seg -> { });
        try {
            SharedSegments.Mapping sent = SharedSegments.createNamed(item, 4096, seg -> seg.set(JAVA_LONG, 0, 42L));
            SegmentRegistry.addInFlightHold(item, carrier); // an item in the carrier names it
            sent.release();                                 // the sender closed its object
            assertThat(shm(item)).as("kept by its carrier").exists();

            InFlight receive = InFlight.here();
            String previous = receive.beginReceive(carrier);
            try {
                assertThatThrownBy(() -> SharedSegments.attach(item, seg -> {
                    throw new IllegalStateException("segment '" + item + "' has layout version=9");
                })).hasMessageContaining("version=9");
            } finally {
                receive.endReceive(previous);
            }
            assertThat(shm(item)).as("still kept by its carrier").exists();
            assertThat(recordNames(item)).as("the carrier's hold").containsExactly(item + "@^" + carrier);
        } finally {
            carrierMapping.release(); // the carrier's last user closes it
        }
        try {
            assertThat(shm(item)).as("removed with its carrier").doesNotExist();
            assertThat(recordNames(item)).isEmpty();
        } finally {
            Files.deleteIfExists(shm(item));
        }
    }

    private static Path shm(String name) {
        return ShmFiles.SHM_DIR.resolve(name);
    }

    private static List<String> recordNames(String name) throws IOException {
        try (var files = Files.list(SegmentRegistry.dir())) {
            return files.map(p -> p.getFileName().toString()).filter(f -> f.startsWith(name + "@")).toList();
        }
    }
}
