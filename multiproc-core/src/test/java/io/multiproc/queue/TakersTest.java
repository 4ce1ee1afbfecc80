package io.multiproc.queue;

import io.multiproc.internal.ProcessIdentity;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The takers table's verdict on counts written by hand: a process of this test (live), pid 1 (live) and
 * a pid that does not exist (dead). Multi-process behaviour: {@link JoinableQueueDeathTest}.
 */
class TakersTest {
    private static final long ME = ProcessIdentity.current().token();
    private static final long INIT = ProcessIdentity.of(1).orElseThrow().token();
    private static final long DEAD = new ProcessIdentity(4_194_000, 1).token();
    private static final int CAPACITY = 1024;

    private static void slot(MemorySegment seg, int i, long token, int taken, int done) {
        long at = QueueLayout.TAKERS + (long) QueueLayout.TAKER_STRIDE * i;
        seg.set(JAVA_LONG, at, token);
        seg.set(JAVA_INT, at + QueueLayout.TAKER_TAKEN, taken);
        seg.set(JAVA_INT, at + QueueLayout.TAKER_DONE, done);
    }

    /** The verdict when {@code head} items were taken and {@code done} marked done. */
    private static Takers.Verdict look(MemorySegment seg, int head, int done) {
        seg.set(JAVA_LONG, QueueLayout.HEAD, RecordLayout.word(head, 0));
        seg.set(JAVA_LONG, QueueLayout.TAIL, RecordLayout.word(head, 0));
        seg.set(JAVA_INT, QueueLayout.DONE, done);
        RecordRing ring = new RecordRing(seg, QueueLayout.RING, CAPACITY, 100, QueueLayout.TAIL, QueueLayout.HEAD);
        return new Takers(seg).look(ring);
    }

    @Test
    void aDeadProcessHoldingTasksNobodyMarkedDoneIsNamedWithItsCount() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(QueueLayout.segmentSize(CAPACITY), 64);
            slot(seg, 0, DEAD, 2, 0);
            slot(seg, 1, ME, 3, 3);
            assertThat(look(seg, 5, 3).dead()).containsExactly(new Takers.Dead(4_194_000, 2));
        }
    }

    @Test
    void aTaskALiveProcessStillHoldsIsNotBlamedOnADeadOne() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(QueueLayout.segmentSize(CAPACITY), 64);
            slot(seg, 0, DEAD, 1, 0); // took one; pid 1 marked it done for it
            slot(seg, 1, INIT, 0, 1);
            slot(seg, 2, ME, 1, 0);   // still working on its task
            assertThat(look(seg, 2, 1).dead()).as("one task out, and a live process holds one").isEmpty();
            slot(seg, 2, ME, 1, 1);
            assertThat(look(seg, 2, 2).dead()).as("every task done").isEmpty();
        }
    }

    @Test
    void aDeadProcessIsNamedWithNoMoreTasksThanAreMissing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(QueueLayout.segmentSize(CAPACITY), 64);
            slot(seg, 0, DEAD, 3, 0);
            slot(seg, 1, ME, 0, 2); // marked two of them done, counted as its own
            assertThat(look(seg, 3, 2).dead()).containsExactly(new Takers.Dead(4_194_000, 1));
        }
    }

    @Test
    void aProcessWithoutASlotTurnsTheVerdictOff() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(QueueLayout.segmentSize(CAPACITY), 64);
            slot(seg, 0, DEAD, 1, 0);
            assertThat(look(seg, 1, 0).dead()).hasSize(1);
            seg.set(JAVA_INT, QueueLayout.PEER_OVERFLOW, Takers.OVERFLOW_BIT);
            assertThat(look(seg, 1, 0).dead()).as("its takes are in no slot").isEmpty();
        }
    }

    @Test
    void taskDoneByAProcessHoldingNoTaskCountsAgainstADeadHolder() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(QueueLayout.segmentSize(CAPACITY), 64);
            slot(seg, 0, DEAD, 2, 0);
            Takers takers = new Takers(seg);
            takers.done(); // this process took nothing: the dead holder's task
            assertThat(seg.get(JAVA_INT, QueueLayout.TAKERS + QueueLayout.TAKER_DONE)).isEqualTo(1);
            takers.took();
            takers.done(); // its own task now
            assertThat(seg.get(JAVA_INT, QueueLayout.TAKERS + QueueLayout.TAKER_DONE)).isEqualTo(1);
            long mine = QueueLayout.TAKERS + QueueLayout.TAKER_STRIDE;
            assertThat(seg.get(JAVA_LONG, mine)).isEqualTo(ME);
            assertThat(seg.get(JAVA_INT, mine + QueueLayout.TAKER_TAKEN)).isEqualTo(seg.get(JAVA_INT, mine + QueueLayout.TAKER_DONE));
        }
    }
}
