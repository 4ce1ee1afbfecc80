package io.multiproc.shm;

import io.multiproc.testing.TestShmNames;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who removes a raw {@link SharedMemory} segment, and when: its owner (the creating process, unless
 * {@code track=false}) on exit, or the next sweep once every owner died; never a process that only
 * attached, and never while an owner lives. Owners are real child JVMs, killed with SIGKILL.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class SegmentCleanupTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void sweepKeepsALiveOwnersSegmentAndRemovesItOnceTheOwnerIsKilled() throws Exception {
        String name = uniqueName();
        ChildProcess owner = ChildProcess.start(() -> SegmentCleanupTest.createAndSleep(name, true));
        try {
            awaitSegment(name, owner);
            for (int i = 0; i < 3; i++) {
                assertThat(SegmentRegistry.sweep()).doesNotContain(name);
                assertThat(shm(name)).exists();
            }
            killAndJoin(owner);
            assertThat(shm(name)).as("SIGKILL skips the owner's exit hook").exists();

            assertThat(SegmentRegistry.sweep()).contains(name);
            assertThat(shm(name)).doesNotExist();
            assertThat(records(name)).isEmpty();
            assertThat(SegmentRegistry.sweep()).doesNotContain(name);
        } finally {
            owner.close();
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void untrackedSegmentSurvivesItsCreatorsDeathAndSweeps() throws Exception {
        String name = uniqueName();
        ChildProcess creator = ChildProcess.start(() -> SegmentCleanupTest.createAndSleep(name, false));
        try {
            awaitSegment(name, creator);
            killAndJoin(creator);
            assertThat(SegmentRegistry.sweep()).doesNotContain(name);
            assertThat(shm(name)).exists();
            assertThat(records(name)).isEmpty();
            assertThat(info(name)).hasValueSatisfying(s -> {
                assertThat(s.tracked()).isFalse();
                assertThat(s.orphaned()).isFalse();
            });
            try (SharedMemory shm = SharedMemory.attach(name)) {
                assertThat(shm.segment().get(JAVA_LONG, 0)).isEqualTo(4242L);
                shm.unlink();
            }
        } finally {
            creator.close();
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void untrackedSegmentSurvivesItsCreatorsNormalExit() throws Exception {
        String name = uniqueName();
        ChildProcess creator = ChildProcess.start(() -> SegmentCleanupTest.createAndReturn(name, false));
        try {
            joinOk(creator);
            assertThat(shm(name)).exists();
            try (SharedMemory shm = SharedMemory.attach(name)) {
                assertThat(shm.segment().get(JAVA_LONG, 0)).isEqualTo(4242L);
                shm.unlink();
            }
        } finally {
            creator.close();
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void ownerThatExitsWithoutUnlinkingHasItsSegmentRemovedAtExit() throws Exception {
        String name = uniqueName();
        ChildProcess owner = ChildProcess.start(() -> SegmentCleanupTest.createAndReturn(name, true));
        try {
            joinOk(owner);
            assertThat(shm(name)).doesNotExist();
            assertThat(records(name)).isEmpty();
        } finally {
            owner.close();
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void attachingIsNeverOwnership() throws Exception {
        try (SharedMemory shm = SharedMemory.create(null, 4096)) {
            try {
                shm.segment().set(JAVA_LONG, 0, 7L);
                String name = shm.name();
                // attaches and exits normally without closing: its exit hook must not remove anything
                ChildProcess reader = ChildProcess.start(() -> SegmentCleanupTest.attachAndAdd(name));
                try {
                    joinOk(reader);
                } finally {
                    reader.close();
                }
                assertThat(shm(name)).exists();
                assertThat(shm.segment().get(JAVA_LONG, 8)).isEqualTo(8L);

                // attaches and is killed: still only the parent owns it, so a sweep keeps it
                ChildProcess sleeper = ChildProcess.start(() -> SegmentCleanupTest.attachAndSleep(name));
                try {
                    awaitValue(shm, 16, 1L, sleeper);
                    killAndJoin(sleeper);
                } finally {
                    sleeper.close();
                }
                assertThat(SegmentRegistry.sweep()).doesNotContain(name);
                assertThat(shm(name)).exists();
                assertThat(info(name)).hasValueSatisfying(s -> assertThat(s.holders()).singleElement()
                        .satisfies(h -> {
                            assertThat(h.process().pid()).isEqualTo(ProcessHandle.current().pid());
                            assertThat(h.alive()).isTrue();
                        }));
            } finally {
                shm.unlink();
            }
        }
    }

    @Test
    void nextMultiprocProcessRemovesSegmentsOfKilledOwners() throws Exception {
        String name = uniqueName();
        ChildProcess owner = ChildProcess.start(() -> SegmentCleanupTest.createAndSleep(name, true));
        try {
            awaitSegment(name, owner);
            killAndJoin(owner);
            assertThat(shm(name)).as("nothing removed the orphan yet").exists();

            // no sweep in this JVM: a fresh child's first use of shared memory sweeps
            ChildProcess next = ChildProcess.start(() -> {
                try (SharedLong v = SharedLong.create(0)) {
                    v.incrementAndGet();
                }
            });
            try {
                joinOk(next);
            } finally {
                next.close();
            }
            assertThat(shm(name)).doesNotExist();
        } finally {
            owner.close();
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void ownerThatRetriedAnExistingNameIsStillCleanedUpAfterBeingKilled() throws Exception {
        String name = uniqueName();
        ChildProcess owner = ChildProcess.start(() -> SegmentCleanupTest.createTwiceAndSleep(name));
        try {
            awaitSegment(name, owner); // written after the second create failed
            killAndJoin(owner);
            assertThat(SegmentRegistry.sweep()).contains(name);
            assertThat(shm(name)).doesNotExist();
        } finally {
            owner.close();
            Files.deleteIfExists(shm(name));
        }
    }

    @Test
    void listShowsAKilledOwnersSegmentAsOrphanedAndALiveOwnersAsNot() throws Exception {
        SegmentRegistry.dir(); // this JVM's first registry use sweeps: get it done before anyone dies
        String deadName = uniqueName();
        String liveName = uniqueName();
        ChildProcess dead = ChildProcess.start(() -> SegmentCleanupTest.createAndSleep(deadName, true));
        ChildProcess live = ChildProcess.start(() -> SegmentCleanupTest.createAndSleep(liveName, true));
        try {
            awaitSegment(deadName, dead);
            awaitSegment(liveName, live);
            long deadPid = dead.pid();
            killAndJoin(dead);

            SegmentRegistry.SegmentInfo orphan = info(deadName).orElseThrow();
            assertThat(orphan.tracked()).isTrue();
            assertThat(orphan.orphaned()).isTrue();
            assertThat(orphan.size()).isEqualTo(4096);
            assertThat(orphan.holders()).singleElement().satisfies(h -> {
                assertThat(h.process().pid()).isEqualTo(deadPid);
                assertThat(h.alive()).isFalse();
            });

            SegmentRegistry.SegmentInfo used = info(liveName).orElseThrow();
            assertThat(used.tracked()).isTrue();
            assertThat(used.orphaned()).isFalse();
            assertThat(used.holders()).singleElement().satisfies(h -> {
                assertThat(h.process().pid()).isEqualTo(live.pid());
                assertThat(h.alive()).isTrue();
            });

            killAndJoin(live);
            assertThat(SegmentRegistry.sweep()).contains(deadName, liveName);
        } finally {
            dead.close();
            live.close();
            Files.deleteIfExists(shm(deadName));
            Files.deleteIfExists(shm(liveName));
        }
    }

    // ---------------------------------------------------------------- child tasks

    static void createAndSleep(String name, boolean track) {
        try {
            SharedMemory shm = SharedMemory.create(name, 4096, track);
            shm.segment().set(JAVA_LONG, 0, 4242L);
            Thread.sleep(60_000);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void createAndReturn(String name, boolean track) {
        try {
            SharedMemory shm = SharedMemory.create(name, 4096, track);
            shm.segment().set(JAVA_LONG, 0, 4242L);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates {@code name}, then tries again (which must fail), then marks it ready and sleeps. */
    static void createTwiceAndSleep(String name) {
        try {
            SharedMemory shm = SharedMemory.create(name, 4096);
            try {
                SharedMemory.create(name, 4096);
                throw new AssertionError("second create of " + name + " succeeded");
            } catch (FileAlreadyExistsException expected) {
                // the first one is still ours
            }
            shm.segment().set(JAVA_LONG, 0, 4242L);
            Thread.sleep(60_000);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void attachAndAdd(String name) {
        try {
            SharedMemory shm = SharedMemory.attach(name); // not closed on purpose
            shm.segment().set(JAVA_LONG, 8, shm.segment().get(JAVA_LONG, 0) + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void attachAndSleep(String name) {
        try {
            SharedMemory shm = SharedMemory.attach(name);
            shm.segment().set(JAVA_LONG, 16, 1L);
            Thread.sleep(60_000);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String uniqueName() {
        return TestShmNames.unique("own");
    }

    private static Path shm(String name) {
        return Path.of("/dev/shm", name);
    }

    private static Optional<SegmentRegistry.SegmentInfo> info(String name) throws IOException {
        return SegmentRegistry.list().stream().filter(s -> s.name().equals(name)).findFirst();
    }

    private static List<String> records(String name) throws IOException {
        try (var files = Files.list(SegmentRegistry.dir())) {
            return files.map(p -> p.getFileName().toString()).filter(f -> f.startsWith(name + "@")).toList();
        }
    }

    /** Waits until the child has created {@code name} (its header value written), failing if it died. */
    private static void awaitSegment(String name, ChildProcess child) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            if (Files.exists(shm(name)) && Files.size(shm(name)) == 4096) {
                try (SharedMemory shm = SharedMemory.attach(name)) {
                    if (shm.segment().get(JAVA_LONG, 0) == 4242L) {
                        return;
                    }
                } catch (java.nio.file.NoSuchFileException raced) {
                    // not there yet
                }
            }
            assertThat(child.isAlive()).as("child %s still running while creating %s", child, name).isTrue();
            assertThat(System.nanoTime()).as("segment %s created in time", name).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private static void awaitValue(SharedMemory shm, long offset, long expected, ChildProcess child) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (shm.segment().get(JAVA_LONG, offset) != expected) {
            assertThat(child.isAlive()).as("child %s still running", child).isTrue();
            assertThat(System.nanoTime()).as("child wrote offset %s in time", offset).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private static void killAndJoin(ChildProcess child) throws InterruptedException {
        child.kill();
        assertThat(child.join(TIMEOUT)).as("killed child exited").isTrue();
        assertThat(child.exitCode()).hasValue(-9);
    }

}
