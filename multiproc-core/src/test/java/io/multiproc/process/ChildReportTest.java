package io.multiproc.process;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How a parent that must confirm a start reads its child's state from {@code /proc/PID/comm}: a child
 * that exits while the parent reads is never taken for one that loaded its task.
 */
class ChildReportTest {

    /** A started child as the JDK shows it in the moment after the kernel reaped it: still "alive". */
    private static final class ReapedButAlive extends Process {
        private final Process real;
        private final AtomicInteger aliveAnswers;

        ReapedButAlive(Process real, int aliveAnswers) {
            this.real = real;
            this.aliveAnswers = new AtomicInteger(aliveAnswers);
        }

        @Override
        public boolean isAlive() {
            return aliveAnswers.getAndDecrement() > 0 || real.isAlive();
        }

        @Override
        public long pid() {
            return real.pid();
        }

        @Override
        public OutputStream getOutputStream() {
            return real.getOutputStream();
        }

        @Override
        public InputStream getInputStream() {
            return real.getInputStream();
        }

        @Override
        public InputStream getErrorStream() {
            return real.getErrorStream();
        }

        @Override
        public int waitFor() throws InterruptedException {
            return real.waitFor();
        }

        @Override
        public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
            return real.waitFor(timeout, unit);
        }

        @Override
        public int exitValue() {
            return real.exitValue();
        }

        @Override
        public void destroy() {
            real.destroy();
        }
    }

    @Test
    void aChildReapedWhileItsNameIsReadIsNotTakenForLoaded() throws Exception {
        Process real = new ProcessBuilder("true").start();
        try {
            assertThat(real.waitFor(30, TimeUnit.SECONDS)).isTrue();
            // the read that raced the reaping: open succeeded, read failed with ESRCH
            ChildReport.NameReader raced = pid -> {
                throw new FileSystemException("/proc/" + pid + "/comm", null, "No such process");
            };
            boolean loaded = ChildReport.awaitLoaded(new ReapedButAlive(real, 3), Duration.ofSeconds(30), raced);
            assertThat(loaded).as("an exiting child is not a loaded one").isFalse();
        } finally {
            real.destroyForcibly();
        }
    }

    @Test
    @Timeout(20)
    void aLiveChildWhoseNameCannotBeReadDoesNotHoldTheStartForTheWholeTimeout() throws Exception {
        Process live = new ProcessBuilder("sleep", "60").start();
        try {
            ChildReport.NameReader unreadable = pid -> {
                throw new FileSystemException("/proc/" + pid + "/comm", null, "Permission denied");
            };
            assertThat(ChildReport.awaitLoaded(live, Duration.ofSeconds(60), unreadable)).isTrue();
            assertThat(live.isAlive()).isTrue();
        } finally {
            live.destroyForcibly();
        }
    }

    @Test
    void aChildThatSaysLoadedIsLoaded() throws Exception {
        Process live = new ProcessBuilder("sleep", "60").start();
        try {
            assertThat(ChildReport.awaitLoaded(live, Duration.ofSeconds(30), pid -> ChildReport.LOADED_COMM)).isTrue();
        } finally {
            live.destroyForcibly();
        }
    }
}
