package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.multiproc.queue.Children.reap;
import static io.multiproc.queue.Children.signal;
import static io.multiproc.queue.Children.sleepForever;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A ring lock held by a live process that does not run (SIGSTOP, a long GC pause): calls that do not
 * wait return at once, timed calls return at their deadline, and closing a handle does not hang. The
 * holder is parked inside the lock by a {@link FaultInjection} point, then stopped.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // before the fix these calls never returned
class QueueStoppedHolderTest {
    /** Generous for "at once" (the calls give up after 10 ms) on a loaded machine. */
    private static final long AT_ONCE_NANOS = TimeUnit.MILLISECONDS.toNanos(750);

    /** Starts a child that takes {@code point}'s ring lock of {@code q} and stays there; then stops it. */
    private static ChildProcess stoppedHolder(SharedQueue<String> q, SharedLong stage, FaultInjection.Point point) throws Exception {
        ChildProcess child = Children.startHooked(() -> {
            FaultInjection.hook = Children.parkAt(point, stage);
            if (point == FaultInjection.Point.PRODUCER_LOCKED) {
                q.offer("from the stopped child");
            } else {
                q.poll();
            }
        });
        long deadline = System.nanoTime() + Children.JOIN.toNanos();
        while (stage.get() != 1) {
            assertThat(child.isAlive()).isTrue();
            assertThat(System.nanoTime()).as("child holds the lock in time").isLessThan(deadline);
            Thread.sleep(5);
        }
        signal(child.pid(), "STOP");
        return child;
    }

    @Test
    void producerCallsAreBoundedWhileAStoppedProcessHoldsTheProducerLock() throws Exception {
        try (SharedQueue<String> q = SharedQueue.create(10); SharedLong stage = SharedLong.create(0)) {
            q.put("before");
            ChildProcess holder = stoppedHolder(q, stage, FaultInjection.Point.PRODUCER_LOCKED);
            try {
                long t0 = System.nanoTime();
                assertThat(q.offer("x")).as("offer(e) gives up at once").isFalse();
                assertThat(System.nanoTime() - t0).isLessThan(AT_ONCE_NANOS);

                t0 = System.nanoTime();
                assertThat(q.offer("x", Duration.ofMillis(300))).isFalse();
                long took = System.nanoTime() - t0;
                assertThat(took).as("offer(e, 300 ms) returns at its deadline").isBetween(
                        TimeUnit.MILLISECONDS.toNanos(300), TimeUnit.MILLISECONDS.toNanos(300) + AT_ONCE_NANOS);

                assertThat(q.poll()).as("consumers are not affected").isEqualTo("before");

                SharedQueue<String> other = SharedQueue.attach(q.name());
                CompletableFuture<Void> put = Children.putAsync(other, "blocked");
                Thread.sleep(200);
                assertThat(put).isNotDone();
                t0 = System.nanoTime();
                other.close();
                assertThat(System.nanoTime() - t0).as("close() does not wait for the stopped holder").isLessThan(AT_ONCE_NANOS);
                assertThatThrownBy(() -> put.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");

                signal(holder.pid(), "CONT");
                holder.kill();
                assertThat(holder.join(Children.JOIN)).isTrue();
                assertThat(q.offer("after", Duration.ofSeconds(5))).as("a dead holder is taken over").isTrue();
                assertThat(q.poll()).isEqualTo("after");
            } finally {
                reap(holder);
            }
        }
    }

    @Test
    void consumerCallsAreBoundedWhileAStoppedProcessHoldsTheConsumerLock() throws Exception {
        try (SharedQueue<String> q = SharedQueue.create(10); SharedLong stage = SharedLong.create(0)) {
            q.put("a");
            q.put("b");
            ChildProcess holder = stoppedHolder(q, stage, FaultInjection.Point.CONSUMER_LOCKED);
            try {
                long t0 = System.nanoTime();
                assertThat(q.poll()).as("poll() gives up at once").isNull();
                assertThat(q.peek()).as("peek() gives up at once").isNull();
                assertThat(System.nanoTime() - t0).isLessThan(AT_ONCE_NANOS);

                t0 = System.nanoTime();
                assertThat(q.poll(Duration.ofMillis(300))).isNull();
                assertThat(System.nanoTime() - t0).as("poll(300 ms) returns at its deadline").isBetween(
                        TimeUnit.MILLISECONDS.toNanos(300), TimeUnit.MILLISECONDS.toNanos(300) + AT_ONCE_NANOS);

                assertThat(q.offer("c")).as("producers are not affected").isTrue();

                SharedQueue<String> other = SharedQueue.attach(q.name());
                CompletableFuture<String> take = Children.takeAsync(other);
                Thread.sleep(200);
                assertThat(take).isNotDone();
                t0 = System.nanoTime();
                other.close();
                assertThat(System.nanoTime() - t0).as("close() does not wait for the stopped holder").isLessThan(AT_ONCE_NANOS);
                assertThatThrownBy(() -> take.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");

                holder.kill();
                assertThat(holder.join(Children.JOIN)).isTrue();
                assertThat(q.poll(Duration.ofSeconds(5))).as("a dead holder is taken over, its item kept").isEqualTo("a");
                assertThat(q.poll()).isEqualTo("b");
                assertThat(q.poll()).isEqualTo("c");
            } finally {
                reap(holder);
            }
        }
    }
}
