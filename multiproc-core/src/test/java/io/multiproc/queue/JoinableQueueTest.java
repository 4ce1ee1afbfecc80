package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.multiproc.queue.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** JoinableQueue: taskDone/join counted in shared memory, across processes. */
@ExtendWith(ReapChildrenCheckShm.class)
class JoinableQueueTest {

    @Test
    void joinReturnsOnceWorkersInOtherProcessesHaveMarkedEveryItemDone() throws Exception {
        try (JoinableQueue<Integer> work = JoinableQueue.create(10); SharedLong processed = SharedLong.create(0)) {
            ChildProcess[] workers = new ChildProcess[2];
            try {
                for (int w = 0; w < workers.length; w++) {
                    workers[w] = ChildProcess.builder().daemon(true).target(() -> {
                        try {
                            for (;;) {
                                int item = work.take();
                                Thread.sleep(item % 3); // some work
                                processed.incrementAndGet();
                                work.taskDone();
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }).start();
                }
                for (int i = 0; i < 60; i++) {
                    work.put(i);
                }
                assertThat(work.join(Children.JOIN)).isTrue();
                assertThat(processed.get()).as("join returned only after every item was done").isEqualTo(60);
                assertThat(work.unfinishedTasks()).isZero();
            } finally {
                reap(workers);
            }
        }
    }

    @Test
    void joinWaitsForItemsTakenButNotYetDone() throws Exception {
        try (JoinableQueue<String> q = JoinableQueue.create(6)) {
            assertThat(q.join(Duration.ZERO)).as("nothing put: joined at once").isTrue();
            q.put("a");
            q.put("b");
            assertThat(q.unfinishedTasks()).isEqualTo(2);
            assertThat(q.take()).isEqualTo("a");
            assertThat(q.take()).isEqualTo("b");
            long t0 = System.nanoTime();
            assertThat(q.join(Duration.ofMillis(200))).as("taken is not done").isFalse();
            assertThat(System.nanoTime() - t0).isBetween(TimeUnit.MILLISECONDS.toNanos(190), TimeUnit.SECONDS.toNanos(10));
            q.taskDone();
            assertThat(q.join(Duration.ofMillis(50))).isFalse();
            Thread finisher = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                q.taskDone();
            });
            q.join();
            finisher.join();
            assertThat(q.unfinishedTasks()).isZero();
        }
    }

    @Test
    void taskDoneMoreTimesThanItemsWerePutThrowsAndChangesNothing() throws Exception {
        try (JoinableQueue<String> q = JoinableQueue.create(6)) {
            assertThatThrownBy(q::taskDone).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(q.name()).hasMessageContaining("more times than items were put");
            q.put("x");
            q.taskDone();
            assertThatThrownBy(q::taskDone).isInstanceOf(IllegalStateException.class).hasMessageContaining("put=1, done=1");
            q.put("y");
            assertThat(q.unfinishedTasks()).isEqualTo(1);
            q.taskDone();
            assertThat(q.join(Duration.ZERO)).isTrue();
        }
    }

    @Test
    void aTaskDoneInAChildReleasesAJoinInTheParent() throws Exception {
        try (JoinableQueue<String> q = JoinableQueue.create(6)) {
            q.put("only");
            ChildProcess child = ChildProcess.start(() -> {
                try {
                    q.take();
                    Thread.sleep(200);
                    q.taskDone();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(q.join(Children.JOIN)).isTrue();
                Children.joinOk(child);
            } finally {
                reap(child);
            }
        }
    }

    @Test
    void aClosedJoinableQueueThrowsNamingIt() {
        JoinableQueue<String> q = JoinableQueue.create(2);
        q.close();
        assertThatThrownBy(q::taskDone).isInstanceOf(IllegalStateException.class).hasMessageContaining("JoinableQueue '" + q.name() + "' is closed");
        assertThatThrownBy(q::join).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    }
}
