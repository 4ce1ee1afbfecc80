package io.multiproc;

import io.multiproc.process.ChildProcess;
import io.multiproc.process.Pool;
import io.multiproc.queue.JoinableQueue;
import io.multiproc.queue.Pipe;
import io.multiproc.queue.SharedQueue;
import io.multiproc.queue.SimpleQueue;
import io.multiproc.sync.SharedBarrier;
import io.multiproc.sync.SharedCondition;
import io.multiproc.sync.SharedEvent;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedSemaphore;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * "Wait as long as it takes" written as a huge Duration ({@code ChronoUnit.FOREVER.getDuration()},
 * {@code Duration.ofSeconds(Long.MAX_VALUE)}) is a wait, not an ArithmeticException from
 * {@code Duration.toNanos()}: every timed call with a Duration, where it can answer at once.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class HugeTimeoutsTest {
    private static final List<Duration> HUGE = List.of(Duration.ofSeconds(Long.MAX_VALUE), ChronoUnit.FOREVER.getDuration(),
            Duration.ofNanos(Long.MAX_VALUE), Duration.ofDays(365L * 300));

    @Test
    void syncObjectsTakeAHugeTimeoutAsForever() throws Exception {
        for (Duration forever : HUGE) {
            try (SharedLock lock = SharedLock.create();
                 SharedSemaphore sem = SharedSemaphore.create(1);
                 SharedEvent event = SharedEvent.create();
                 SharedBarrier barrier = SharedBarrier.create(1)) {
                assertThat(lock.tryLock(forever)).as("tryLock(%s)", forever).isTrue();
                SharedCondition cond = lock.newCondition();
                Thread signaller = Thread.ofPlatform().start(() -> {
                    lock.lock();
                    try {
                        cond.signalAll();
                    } finally {
                        lock.unlock();
                    }
                });
                assertThat(cond.await(forever)).as("await(%s)", forever).isTrue();
                lock.unlock();
                signaller.join();
                assertThat(sem.tryAcquire(forever)).isTrue();
                event.set();
                assertThat(event.await(forever)).isTrue();
                assertThat(barrier.await(forever)).isZero();
            }
        }
    }

    @Test
    void queuesAndPipesTakeAHugeTimeoutAsForever() throws Exception {
        for (Duration forever : HUGE) {
            try (SharedQueue<Integer> q = SharedQueue.create(4);
                 JoinableQueue<Integer> jq = JoinableQueue.create(4);
                 SimpleQueue<Integer> sq = SimpleQueue.create();
                 Pipe pipe = Pipe.open()) {
                assertThat(q.offer(1, forever)).isTrue();
                assertThat(q.poll(forever)).isEqualTo(1);
                assertThat(jq.join(forever)).isTrue();
                assertThat(sq.offer(2, forever)).isTrue();
                assertThat(sq.poll(forever)).isEqualTo(2);
                assertThat(pipe.right().send(3, forever)).isTrue();
                assertThat(pipe.left().poll(forever)).isTrue();
                assertThat(pipe.left().recv(forever)).isEqualTo(3);
            }
        }
    }

    @Test
    void childrenAndPoolsTakeAHugeTimeoutAsForever() throws Exception {
        Duration forever = ChronoUnit.FOREVER.getDuration();
        ChildProcess child = ChildProcess.start(() -> { });
        try {
            assertThat(child.join(forever)).isTrue();
        } finally {
            child.kill();
        }
        try (Pool pool = Pool.create(1)) {
            assertThat(pool.awaitReady(forever)).isTrue();
            assertThat(pool.imap(x -> x + 1, List.of(1)).next(forever)).isEqualTo(2);
            pool.shutdown();
            assertThat(pool.join(forever)).isTrue();
        }
    }
}
