package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.multiproc.queue.Children.reap;
import static io.multiproc.queue.Children.sleepForever;
import static io.multiproc.queue.Children.awaitStage;
import static io.multiproc.queue.Children.kill;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * JoinableQueue and dead consumers: a consumer SIGKILLed (destroyForcibly) after taking a task and
 * before {@code taskDone()} must not leave {@code join()} waiting forever (decisions 237, 238).
 */
@ExtendWith(ReapChildrenCheckShm.class)
class JoinableQueueDeathTest {
    /** Far longer than the death check needs (about half a second), far shorter than "forever". */
    private static final Duration BOUND = Duration.ofSeconds(15);

    /** A child that takes {@code n} items, marks {@code done} of them done, reports stage 1 and waits to be killed. */
    private static ChildProcess takeAndHold(JoinableQueue<String> q, SharedLong stage, int n, int done) {
        return ChildProcess.start(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    q.take();
                }
                for (int i = 0; i < done; i++) {
                    q.taskDone();
                }
                stage.set(1);
                sleepForever();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void joinEndsWithPeerDiedExceptionWhenAConsumerIsKilledBeforeTaskDone() throws Exception {
        try (JoinableQueue<String> q = JoinableQueue.create(10); SharedLong stage = SharedLong.create(0)) {
            q.put("a");
            q.put("b");
            q.put("c");
            ChildProcess child = takeAndHold(q, stage, 2, 0);
            try {
                awaitStage(stage, 1, child);
                long pid = child.pid();
                kill(child);

                long t0 = System.nanoTime();
                assertThatThrownBy(() -> q.join(BOUND)).as("join(Duration) names the dead consumer")
                        .isInstanceOf(PeerDiedException.class)
                        .hasMessageContaining(q.name()).hasMessageContaining("pid " + pid).hasMessageContaining("2 unfinished task");
                assertThat(System.nanoTime() - t0).as("ended well before its timeout").isLessThan(BOUND.toNanos() / 2);

                CompletableFuture<Void> untimed = CompletableFuture.runAsync(() -> {
                    try {
                        q.join();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertThatThrownBy(() -> untimed.get(BOUND.toSeconds(), TimeUnit.SECONDS)).as("join() does not wait forever")
                        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(PeerDiedException.class)
                        .hasMessageContaining("pid " + pid);

                // The shared state is intact: the queue goes on, and taskDone() from this process writes off the dead one's tasks.
                assertThat(q.unfinishedTasks()).isEqualTo(3);
                assertThat(q.take()).isEqualTo("c");
                q.taskDone();
                q.taskDone();
                q.taskDone();
                assertThat(q.join(BOUND)).isTrue();
                q.put("d");
                assertThat(q.take()).isEqualTo("d");
                q.taskDone();
                assertThat(q.join(Duration.ZERO)).isTrue();
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void aTaskTakenByOneChildAndMarkedDoneByAnotherProcessLetsJoinReturn() throws Exception {
        try (JoinableQueue<String> q = JoinableQueue.create(10); SharedLong stage = SharedLong.create(0)) {
            q.put("a");
            q.put("b");
            ChildProcess taker = ChildProcess.start(() -> {
                try {
                    q.take(); // and exits without taskDone(): another process marks it done
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            ChildProcess marker = null;
            ChildProcess holder = null;
            try {
                Children.joinOk(taker);
                marker = ChildProcess.start(q::taskDone);
                Children.joinOk(marker);
                assertThat(q.take()).isEqualTo("b");
                q.taskDone();
                assertThat(q.join(BOUND)).as("every task done, though not by its taker").isTrue();

                // The dead taker's task was done by another process: a later death is counted alone.
                q.put("c");
                holder = takeAndHold(q, stage, 1, 0);
                awaitStage(stage, 1, holder);
                long pid = holder.pid();
                kill(holder);
                assertThatThrownBy(() -> q.join(BOUND)).isInstanceOf(PeerDiedException.class)
                        .hasMessageContaining("pid " + pid).hasMessageContaining("1 unfinished task")
                        .hasMessageNotContaining("pid " + taker.pid());
                q.taskDone();
                assertThat(q.join(BOUND)).isTrue();
            } finally {
                reap(taker, marker, holder);
            }
        }
    }

    @Test
    void aConsumerKilledAfterMarkingEverythingDoneLetsJoinReturn() throws Exception {
        try (JoinableQueue<String> q = JoinableQueue.create(10); SharedLong stage = SharedLong.create(0);
             SharedLong stage2 = SharedLong.create(0)) {
            for (String s : new String[] {"a", "b", "c", "d"}) {
                q.put(s);
            }
            ChildProcess done = takeAndHold(q, stage, 3, 3);
            ChildProcess slow = null;
            try {
                awaitStage(stage, 1, done);
                kill(done);
                // A live consumer still holds the last task: join waits for it and does not blame the dead one.
                slow = ChildProcess.start(() -> {
                    try {
                        q.take();
                        stage2.set(1);
                        Thread.sleep(1500);
                        q.taskDone();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                awaitStage(stage2, 1, slow);
                assertThat(q.join(BOUND)).isTrue();
                Children.joinOk(slow);
                assertThat(q.unfinishedTasks()).isZero();
            } finally {
                reap(done, slow);
            }
        }
    }
}
