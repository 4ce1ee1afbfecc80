package io.multiproc.sync;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(ReapChildrenCheckShm.class)
class SyncSmokeTest {
    @Test
    void lockedIncrementsFromTwoChildrenLoseNothingAndDeadHolderIsTakenOver() throws Exception {
        try (SharedLong v = SharedLong.create(0); SharedLock lock = SharedLock.create()) {
            ChildProcess a = ChildProcess.start(() -> bump(v, lock));
            ChildProcess b = ChildProcess.start(() -> bump(v, lock));
            try {
                a.join();
                b.join();
                assertThat(v.get()).isEqualTo(40_000);
                ChildProcess holder = ChildProcess.start(() -> { lock.lock(); v.set(-1); sleep(); });
                while (v.get() != -1) {
                    Thread.onSpinWait();
                }
                assertThat(lock.tryLock()).isFalse();
                holder.kill();
                long t0 = System.nanoTime();
                assertThat(lock.tryLock(Duration.ofSeconds(5))).isTrue();
                System.out.printf("took over %.1f ms after kill%n", (System.nanoTime() - t0) / 1e6);
                assertThat(lock.previousOwnerDied()).isTrue();
                assertThat(lock.previousOwnerDied()).isFalse();
                lock.unlock();
            } finally {
                a.close();
                b.close();
            }
        }
    }

    static void bump(SharedLong v, SharedLock lock) {
        for (int i = 0; i < 20_000; i++) {
            lock.lock();
            try {
                v.set(v.get() + 1);
            } finally {
                lock.unlock();
            }
        }
    }

    static void sleep() {
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
