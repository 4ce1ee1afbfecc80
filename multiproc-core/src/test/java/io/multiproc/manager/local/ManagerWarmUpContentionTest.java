package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After the manager's warm-up (what a spare runs while it waits), a child's first contended appends to
 * its parent's list run the compiled lock path: the JIT compiled the lock's contended branches
 * (decision 129), and the heap's open check and block cache as a process that does not own the manager
 * meets them (decision 130),
 * so nothing there is deoptimized when another thread first holds the list's lock.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(180)
class ManagerWarmUpContentionTest {
    @Test
    void aWarmedChildFirstContendedAppendsToItsParentsListDeoptimizeNothingInTheLockPath() throws Exception {
        Path log = Files.createTempFile("mp-deopt", ".log");
        try (Manager m = Manager.start()) {
            List<Integer> ls = m.list();
            // -Xbatch: every compilation the warm-up triggers is installed before the warm-up goes on, so
            // the appends below run C2 code built from the warm-up's profile, whatever the machine's load.
            // The JVM logs every deoptimization (uncommon trap) with the method it happened in.
            String path = log.toString();
            ChildProcess child = ChildProcess.builder()
                    .jvmOptions(List.of("-Xbatch", "-Xlog:deoptimization=debug:file=" + path))
                    .target(() -> warmThenContend(path, ls)).start();
            assertThat(child.join(Duration.ofSeconds(150))).as("child finished").isTrue();
            assertThat(child.failure()).as("the child's failure").isEmpty();
            Children.joinOk(child);
            assertThat(ls).hasSize(40_000);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /**
     * In the child: the warm-up (on a manager of its own, as a spare does), then two threads appending to
     * the parent's list, each holding the list's lock now and then so that the other meets it held; fails
     * listing the deoptimizations in the lock path, the heap's open check and the block cache logged during
     * the appends.
     */
    private static void warmThenContend(String log, List<Integer> ls) {
        ManagerWarmUp.run(2_000, 12, () -> false);
        int warmUpLines = lines(log).size();
        Container c = ((Proxy) ls).container();
        Children.inThreads(2, () -> {
            for (int k = 0; k < 20_000; k++) {
                if (k % 1_000 == 999) {
                    c.lock();
                    try {
                        LockSupport.parkNanos(200_000);
                    } finally {
                        c.unlock();
                    }
                }
                ls.add(k);
            }
        });
        List<String> all = lines(log);
        List<String> inLockPath = all.subList(warmUpLines, all.size()).stream()
                .filter(l -> l.contains(" io.multiproc.sync.") || l.contains(" io.multiproc.wait.")
                        || l.contains(" io.multiproc.manager.local.Container.lock")
                        || l.contains(" io.multiproc.manager.local.Heap.checkOpen")
                        || l.contains(" io.multiproc.manager.local.LocalBlocks."))
                .toList();
        if (!inLockPath.isEmpty()) {
            throw new AssertionError("deoptimized in the lock path after the warm-up: " + inLockPath);
        }
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
