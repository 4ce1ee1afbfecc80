package io.multiproc.process;

import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(ReapChildrenCheckShm.class)
class ChildProcessSmokeTest {
    @Test
    void childIncrementsSharedCounter() throws Exception {
        try (SharedLong v = SharedLong.create(0)) {
            long t0 = System.nanoTime();
            ChildProcess p = ChildProcess.start(() -> v.addAndGet(42));
            p.join();
            long t1 = System.nanoTime();
            ChildProcess q = ChildProcess.start(() -> v.addAndGet(1));
            q.join();
            long t2 = System.nanoTime();
            Thread.sleep(1500);
            long t3 = System.nanoTime();
            ChildProcess r = ChildProcess.start(() -> v.addAndGet(1));
            r.join();
            long t4 = System.nanoTime();
            System.out.printf("cold %.1f ms, second %.1f ms, warm %.1f ms%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t4 - t3) / 1e6);
            assertThat(p.exitCode()).hasValue(0);
            assertThat(v.get()).isEqualTo(44);
        }
    }
}
