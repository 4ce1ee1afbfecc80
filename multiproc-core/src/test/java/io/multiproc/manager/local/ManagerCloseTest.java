package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The owner's close while other processes use the manager: every process waiting on one of its locks
 * gets IllegalStateException naming the manager, whoever held the lock when the owner closed.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerCloseTest {

    @Test
    void aChildWaitingForAContainerTheOwnerHoldsFailsWhenTheOwnerCloses() throws Exception {
        try (SharedLong stage = SharedLong.create(0)) {
            ChildProcess child = null;
            Thread computing = null;
            CountDownLatch inCompute = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            Manager m = Manager.start();
            try {
                String name = m.name();
                ConcurrentMap<String, Object> d = m.dict();
                computing = Thread.ofPlatform().start(() -> {
                    try {
                        d.compute("k", (k, v) -> {
                            inCompute.countDown();
                            await(closed); // holds d's lock while the child waits and the owner closes
                            return 1;
                        });
                    } catch (RuntimeException expected) {
                        // the manager closed under the function: this thread's own failure is not the point
                    }
                });
                assertThat(inCompute.await(30, TimeUnit.SECONDS)).as("the owner's thread holds the dict's lock").isTrue();
                child = ChildProcess.start(() -> {
                    stage.set(1);
                    d.put("x", 1); // waits for the owner's compute
                });
                ChildProcess c = child;
                Children.awaitUntil("the child is about to wait", () -> stage.get() == 1 || !c.isAlive());
                Thread.sleep(300); // the child is inside put, waiting for the lock
                m.close();
                closed.countDown();
                assertThat(child.join(Duration.ofSeconds(10))).as("the waiting child returned after the owner closed").isTrue();
                assertThat(child.failure()).as("the child's failure").get().satisfies(e -> assertThat(e)
                        .as(stackTrace(e)).isInstanceOf(IllegalStateException.class).hasMessageContaining("'" + name + "'")
                        .hasMessageContaining("closed"));
            } finally {
                m.close();
                closed.countDown();
                if (child != null) {
                    Children.reap(child);
                }
                if (computing != null) {
                    computing.join();
                }
            }
        }
    }

    @Test
    void aProcessWaitingForTheHeapsAllocatorFailsWhenTheOwnerClosesHoldingIt() throws Exception {
        String name = "close-alloc-" + ProcessHandle.current().pid();
        try (SharedLong stage = SharedLong.create(0)) {
            ChildProcess owner = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.manager.faults=true"))
                    .target(() -> {
                        Manager m = Manager.start(name);
                        List<Object> ls = m.list("big");
                        ls.add("a".repeat(5000));
                        ls.set(0, "b".repeat(5000)); // the 'a' block goes to the shared free list
                        stage.set(1);
                        awaitStage(stage, 2); // the other process attached
                        CountDownLatch closed = new CountDownLatch(1);
                        Thread allocating = Thread.ofPlatform().start(() -> {
                            FaultPoints.hook = p -> {
                                if (p == FaultPoints.Point.ALLOC_POPPING) {
                                    stage.set(3);
                                    await(closed); // holds the alloc lock while the owner closes
                                }
                            };
                            try {
                                ls.set(0, "c".repeat(5000));
                            } catch (RuntimeException expected) {
                                // the manager closed under it
                            }
                        });
                        awaitStage(stage, 4);
                        sleep(300); // the other process is waiting for the alloc lock
                        m.close();
                        closed.countDown();
                        try {
                            allocating.join();
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        awaitStage(stage, 5); // alive: a dead holder's lock would be taken over

                    }).start();
            try {
                Children.awaitUntil("the owner started", () -> stage.get() == 1 || !owner.isAlive());
                Manager attached = Manager.attach(name);
                List<Object> mine = attached.list();
                stage.set(2);
                Children.awaitUntil("the owner holds the alloc lock", () -> stage.get() == 3 || !owner.isAlive());
                stage.set(4);
                java.util.concurrent.CompletableFuture<Throwable> outcome = new java.util.concurrent.CompletableFuture<>();
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        mine.add("z".repeat(5000)); // waits for the owner's alloc lock
                        outcome.complete(null);
                    } catch (Throwable e) {
                        outcome.complete(e);
                    }
                });
                Throwable failure;
                try {
                    failure = outcome.get(10, TimeUnit.SECONDS);
                } finally {
                    stage.set(5);
                }
                assertThat(failure).as("the attached process's failure: %s", failure == null ? "none" : stackTrace(failure)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("'" + name + "'").hasMessageContaining("closed");
                Children.joinOk(owner);
            } finally {
                Children.reap(owner);
            }
        }
    }

    private static void awaitStage(SharedLong stage, long value) {
        while (stage.get() < value) {
            sleep(5);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String stackTrace(Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
