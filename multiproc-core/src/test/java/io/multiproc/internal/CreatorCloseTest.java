package io.multiproc.internal;

import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.multiproc.testing.Children.awaitUntil;
import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The process that created a shared value closes it while another process still uses it: the value stays
 * for that process (and for a new attach), whichever way the other process got it, and goes with the
 * last user. The creator's close looks at the other holders only when something marked the value as
 * shared (decision 177), so each way of getting a value must leave that mark. Real child JVMs.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class CreatorCloseTest {

    @Test
    void aValueAttachedByNameStaysWhenItsCreatorClosesIt() throws Exception {
        try (SharedLong ready = SharedLong.create(0); SharedLong stop = SharedLong.create(0); SharedLong v = SharedLong.create(7)) {
            String name = v.name();
            ChildProcess child = ChildProcess.start(() -> {
                try (SharedLong mine = SharedLong.attach(name)) {
                    mine.set(8);
                    ready.set(1);
                    awaitStop(stop);
                }
            });
            closeWhileTheChildHoldsIt(v, child, ready, stop, () -> { });
        }
    }

    @Test
    void aValueTakenFromAQueueStaysWhenItsCreatorClosesIt() throws Exception {
        try (SharedLong ready = SharedLong.create(0); SharedLong stop = SharedLong.create(0);
             SharedQueue<SharedLong> q = SharedQueue.create(4); SharedLong v = SharedLong.create(7)) {
            ChildProcess child = ChildProcess.start(() -> {
                try (SharedLong mine = q.take()) {
                    mine.set(8);
                    ready.set(1);
                    awaitStop(stop);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            closeWhileTheChildHoldsIt(v, child, ready, stop, () -> q.put(v));
        }
    }

    @Test
    void aValueInAChildsTaskStaysWhenItsCreatorClosesIt() throws Exception {
        try (SharedLong ready = SharedLong.create(0); SharedLong stop = SharedLong.create(0); SharedLong v = SharedLong.create(7)) {
            ChildProcess child = ChildProcess.start(() -> {
                v.set(8);
                ready.set(1);
                awaitStop(stop);
                v.close();
            });
            closeWhileTheChildHoldsIt(v, child, ready, stop, () -> { });
        }
    }

    interface Step {
        void run() throws Exception;
    }

    /**
     * Runs {@code handOver}, waits until the child has written 8 and said ready, closes the creator's
     * {@code v}: the value must stay (a new attach reads 8) until the child, told to stop, ends.
     */
    private static void closeWhileTheChildHoldsIt(SharedLong v, ChildProcess child, SharedLong ready, SharedLong stop, Step handOver)
            throws Exception {
        String name = v.name();
        try {
            handOver.run();
            awaitUntil("the child has the value", () -> ready.get() == 1);
            v.close();
            assertThat(shm(name)).as("another process still uses it").exists();
            try (SharedLong again = SharedLong.attach(name)) {
                assertThat(again.get()).isEqualTo(8L);
            }
            stop.set(1);
            joinOk(child);
            assertThat(shm(name)).as("the last user's close removes it").doesNotExist();
        } finally {
            child.close();
        }
    }

    @Test
    void aMarkLeftByAProcessKilledAfterItsUnlinkGoesWithTheNextSweep() throws Exception {
        Path marks = SegmentRegistry.dir().resolve(SegmentRegistry.SHARED_MARKS);
        Files.createDirectories(marks);
        String gone = io.multiproc.testing.TestShmNames.unique("marked");
        Path mark = marks.resolve(gone);
        Files.createFile(mark);
        SharedLong live = SharedLong.create(1);
        Path liveMark = marks.resolve(live.name());
        try {
            Files.createFile(liveMark); // as another process's attach would
            SegmentRegistry.sweep();
            assertThat(mark).as("its segment is gone").doesNotExist();
            assertThat(liveMark).as("its segment is there").exists();
            live.close();
            assertThat(liveMark).as("it goes with its segment").doesNotExist();
            assertThat(Path.of("/dev/shm", live.name())).doesNotExist();
        } finally {
            live.close();
            Files.deleteIfExists(mark);
            Files.deleteIfExists(liveMark);
        }
    }

    private static void awaitStop(SharedLong stop) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (stop.get() == 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Path shm(String name) {
        return Path.of("/dev/shm", name);
    }
}
