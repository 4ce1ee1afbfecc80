package io.multiproc.wait;

import io.multiproc.codec.Codec;
import io.multiproc.queue.SharedQueue;
import io.multiproc.sync.SharedLock;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a user's own {@link IdleStrategy} meets when it breaks the interface's rules. */
@ExtendWith(ReapChildrenCheckShm.class)
class IdleStrategyMisuseTest {

    /** Sleeps from round 4 on, but allows sleeps of at most {@code max} ns. */
    record NoSleepAllowed(long max) implements IdleStrategy {
        @Override
        public boolean sleepAt(int round) {
            return round > 3;
        }

        @Override
        public long maxSleepNanos() {
            return max;
        }

        @Override
        public void pause(int round) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aStrategyWhoseLongestSleepIsNotPositiveIsRefusedNamingTheValue() throws Exception {
        // a sleep of at most 0 ns returns at once: the "sleeping" waiter would spin on futex calls
        for (long max : new long[] {0, -5}) {
            try (SharedQueue<String> q = SharedQueue.create(4, 4096, new NoSleepAllowed(max), Codec.defaultCodec());
                 SharedLock lock = SharedLock.create(new NoSleepAllowed(max))) {
                assertThatThrownBy(() -> q.poll(Duration.ofMillis(200))).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("maxSleepNanos()=" + max).hasMessageContaining("NoSleepAllowed");
                lock.lock();
                AtomicReference<Object> outcome = new AtomicReference<>();
                Thread other = Thread.ofPlatform().start(() -> {
                    try {
                        outcome.set(lock.tryLock(200, TimeUnit.MILLISECONDS));
                    } catch (RuntimeException | InterruptedException e) {
                        outcome.set(e);
                    }
                });
                other.join();
                assertThat(outcome.get()).as("a contended tryLock with that strategy")
                        .isInstanceOf(IllegalArgumentException.class).asString().contains("maxSleepNanos()=" + max);
                lock.unlock();
                q.put("still works"); // the refused waits left the queue as it was
                assertThat(q.poll()).isEqualTo("still works");
            }
        }
    }
}
