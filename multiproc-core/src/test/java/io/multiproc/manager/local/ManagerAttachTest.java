package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Attaching by name to a manager whose owner is still starting it. */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerAttachTest {

    /**
     * A child that starts manager {@code name}, stopping after its root segment is visible (stage 1)
     * until stage 2; then (stage 3) it waits for stage 4 and checks what the attached process wrote.
     */
    private static ChildProcess ownerStoppedWhileStarting(String name, SharedLong stage) {
        return ownerStoppedWhileStarting(name, stage, FaultPoints.Point.START_BEFORE_PROCESS_TABLE);
    }

    /** Like {@link #ownerStoppedWhileStarting(String, SharedLong)}, stopping at {@code at}. */
    private static ChildProcess ownerStoppedWhileStarting(String name, SharedLong stage, FaultPoints.Point at) {
        return ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.manager.faults=true")).target(() -> {
            FaultPoints.hook = p -> {
                if (p == at) {
                    stage.set(1);
                    awaitStage(stage, 2);
                }
            };
            try (Manager m = Manager.start(name)) {
                FaultPoints.hook = null;
                stage.set(3);
                awaitStage(stage, 4);
                List<Object> shared = m.list("shared");
                if (!shared.equals(List.of("from the attached process"))) {
                    throw new AssertionError("the owner reads " + shared);
                }
                List<Object> more = m.list();
                for (int i = 0; i < 1000; i++) {
                    more.add("item " + i); // the allocator and the process table still work
                }
                ((LocalManager) m).reclaim();
            }
        }).start();
    }

    @Test
    void attachingWhileTheOwnerIsStillStartingWaitsUntilItHasStarted() throws Exception {
        attachWaitsForAnOwnerStoppedAt("attach-starting-" + ProcessHandle.current().pid(),
                FaultPoints.Point.START_BEFORE_PROCESS_TABLE, "attach waits for the owner");
    }

    @Test
    void attachingBeforeTheOwnerHasWrittenTheHeapsHeaderWaitsUntilItHasStarted() throws Exception {
        attachWaitsForAnOwnerStoppedAt("attach-headerless-" + ProcessHandle.current().pid(),
                FaultPoints.Point.START_BEFORE_HEADER, "attach waits for the owner (not: 'not a manager heap')");
    }

    /**
     * An owner child stops at {@code at} while starting manager {@code name}; an attach made meanwhile
     * waits, returns once the owner goes on, and the attached manager works.
     */
    private static void attachWaitsForAnOwnerStoppedAt(String name, FaultPoints.Point at, String waiting) throws Exception {
        try (SharedLong stage = SharedLong.create(0)) {
            ChildProcess owner = ownerStoppedWhileStarting(name, stage, at);
            try {
                Children.awaitUntil("the owner is starting", () -> stage.get() == 1 || !owner.isAlive());
                CompletableFuture<Manager> attaching = CompletableFuture.supplyAsync(() -> Manager.attach(name));
                Thread.sleep(300);
                assertThat(attaching).as(waiting).isNotDone();
                stage.set(2);
                try (Manager attached = attaching.get(30, TimeUnit.SECONDS)) {
                    Children.awaitUntil("the owner started", () -> stage.get() == 3 || !owner.isAlive());
                    attached.list("shared").add("from the attached process");
                    stage.set(4);
                    Children.joinOk(owner);
                }
            } finally {
                Children.reap(owner);
            }
        }
    }

    @Test
    void attachingBeforeTheOwnerHasWrittenTheHeapsHeaderFailsAsStillStartingIfItNeverDoes() throws Exception {
        String name = "attach-headerless-stuck-" + ProcessHandle.current().pid();
        try (SharedLong stage = SharedLong.create(0)) {
            ChildProcess owner = ownerStoppedWhileStarting(name, stage, FaultPoints.Point.START_BEFORE_HEADER);
            try {
                Children.awaitUntil("the owner is starting", () -> stage.get() == 1 || !owner.isAlive());
                assertThatThrownBy(() -> Manager.attach(name)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("'" + name + "'").hasMessageContaining("still starting");
                stage.set(2);
                Children.awaitUntil("the owner started", () -> stage.get() == 3 || !owner.isAlive());
                try (Manager attached = Manager.attach(name)) {
                    attached.list("shared").add("from the attached process");
                    stage.set(4);
                    Children.joinOk(owner);
                }
            } finally {
                Children.reap(owner);
            }
        }
    }

    @Test
    void attachingToAnOwnerThatDoesNotFinishStartingFailsClearlyAndALaterAttachWorks() throws Exception {
        String name = "attach-stuck-" + ProcessHandle.current().pid();
        try (SharedLong stage = SharedLong.create(0)) {
            ChildProcess owner = ownerStoppedWhileStarting(name, stage);
            try {
                Children.awaitUntil("the owner is starting", () -> stage.get() == 1 || !owner.isAlive());
                assertThatThrownBy(() -> Manager.attach(name)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("'" + name + "'").hasMessageContaining("still starting");
                stage.set(2);
                Children.awaitUntil("the owner started", () -> stage.get() == 3 || !owner.isAlive());
                try (Manager attached = Manager.attach(name)) {
                    attached.list("shared").add("from the attached process");
                    stage.set(4);
                    Children.joinOk(owner);
                }
            } finally {
                Children.reap(owner);
            }
        }
    }

    @Test
    void aProcessThatFailedToMapTheHeapsNewSegmentsUsesThemCorrectlyOnceItCan() throws Exception {
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            String name = m.name();
            List<Object> ls = m.list();
            Heap heap = ((Proxy) ls).container().heap;
            String big = "x".repeat(9_000_000); // more than the first segment (8 MB) holds, and than the second (16 MB) keeps free
            ls.add(big);
            ls.add(big);                                      // the heap now has two extents
            assertThat((int) heap.root().get(java.lang.foreign.ValueLayout.JAVA_INT, HeapLayout.SEGMENT_COUNT)).isEqualTo(3);
            String far = null;
            for (int i = 0; i < 10_000 && far == null; i++) {
                List<Object> l = m.list("far" + i);
                if (HeapLayout.segment(((Proxy) l).container().ref) == 2) {
                    l.add("in the second extent");
                    far = "far" + i;
                }
            }
            assertThat(far).as("a named list whose header is in the second extent").isNotNull();
            String farName = far;
            java.nio.file.Path extent = io.multiproc.internal.ShmFiles.path(HeapLayout.extentName(name, 2));
            java.nio.file.Path away = extent.resolveSibling("away-" + extent.getFileName());
            java.nio.file.Files.move(extent, away);           // the second extent cannot be mapped for now
            ChildProcess child = null;
            try {
                child = ChildProcess.start(() -> {
                    Manager attached = Manager.attach(name);
                    try {
                        attached.list(farName);
                        throw new AssertionError("used a list in the second extent although it is missing");
                    } catch (java.io.UncheckedIOException expected) {
                        // mapped the first extent, then failed on the second
                    }
                    stage.set(1);
                    awaitStage(stage, 2);
                    List<Object> l = attached.list(farName);
                    l.add("from the child");
                    if (!l.equals(List.of("in the second extent", "from the child"))) {
                        throw new AssertionError("the child reads " + l);
                    }
                });
                ChildProcess c = child;
                Children.awaitUntil("the child failed to map", () -> stage.get() == 1 || !c.isAlive());
                java.nio.file.Files.move(away, extent);
                stage.set(2);
                Children.joinOk(child);
            } finally {
                if (java.nio.file.Files.exists(away)) {
                    java.nio.file.Files.move(away, extent);
                }
                if (child != null) {
                    Children.reap(child);
                }
            }
            assertThat(m.list(farName)).containsExactly("in the second extent", "from the child");
            assertThat(ls.get(1)).isEqualTo(big);
        }
    }

    private static void awaitStage(SharedLong stage, long value) {
        long deadline = System.nanoTime() + Children.TIMEOUT.toNanos();
        while (stage.get() < value && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
