package io.multiproc.shm;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedInt;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a reader in one process sees of slots another process keeps writing with values of the slot's
 * own type: never a value that was not written (the class Javadoc's promise for same-type writes).
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListConcurrentReadersTest {

    @Test
    void aBooleanSlotRewrittenWithTrueNeverReadsFalseInAnotherProcess() throws Exception {
        try (ShareableList sl = ShareableList.create(null, Arrays.asList(true, 7L));
             SharedInt running = SharedInt.create(0)) {
            try {
                ChildProcess writer = ChildProcess.start(() -> ShareableListConcurrentReadersTest.keepWriting(sl, running));
                try {
                    Children.awaitUntil("the child writes", () -> running.get() == 1);
                    long reads = 0;
                    long wrong = 0;
                    long end = System.nanoTime() + 3_000_000_000L;
                    while (System.nanoTime() < end && wrong == 0) {
                        for (int k = 0; k < 10_000; k++) {
                            VarHandle.acquireFence(); // NOTE: a fresh read each time, never hoisted
                            if (!Boolean.TRUE.equals(sl.get(0)) || !Long.valueOf(7L).equals(sl.get(1))) {
                                wrong++;
                            }
                            reads++;
                        }
                    }
                    running.set(2);
                    joinOk(writer);
                    assertThat(wrong).as("reads of %d that saw a value never written", reads).isZero();
                } finally {
                    writer.close();
                }
            } finally {
                sl.unlink();
            }
        }
    }

    /** Runs in a child: rewrites slot 0 with true and slot 1 with 7 until told to stop. */
    static void keepWriting(ShareableList sl, SharedInt running) {
        running.set(1);
        while (running.get() == 1) {
            for (int k = 0; k < 1000; k++) {
                sl.set(0, true);
                sl.set(1, 7L);
            }
        }
    }
}
