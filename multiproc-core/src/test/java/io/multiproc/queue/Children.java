package io.multiproc.queue;

import io.multiproc.process.ChildProcess;
import io.multiproc.process.SerializableRunnable;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Helpers for tests with child JVMs. */
final class Children {
    static final Duration JOIN = Duration.ofSeconds(60);

    private Children() {
    }

    /**
     * Starts {@code target} in a child JVM with the queue's fault-injection points compiled in
     * ({@link FaultInjection#ENABLED}); the target sets {@link FaultInjection#hook} there.
     */
    static ChildProcess startHooked(SerializableRunnable target) {
        return ChildProcess.builder().jvmOptions(List.of(FaultInjection.JVM_OPTION)).target(target).start();
    }

    /** A fault hook that, at {@code point}, reports stage 1 and parks the thread there (holding whatever it holds). */
    static java.util.function.Consumer<FaultInjection.Point> parkAt(FaultInjection.Point point, io.multiproc.shared.SharedLong stage) {
        return p -> {
            if (p == point) {
                stage.set(1);
                sleepForever();
            }
        };
    }

    /** {@code q.take()} in another thread of this process. */
    static <T> java.util.concurrent.CompletableFuture<T> takeAsync(java.util.concurrent.BlockingQueue<T> q) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return q.take();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** {@code q.put(item)} in another thread of this process. */
    static <T> java.util.concurrent.CompletableFuture<Void> putAsync(java.util.concurrent.BlockingQueue<T> q, T item) {
        return java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                q.put(item);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Sends {@code signal} ("STOP", "CONT", ...) to process {@code pid}. */
    static void signal(long pid, String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
        }
    }

    /** Waits for the child to exit and checks that it exited normally. */
    static void joinOk(ChildProcess c) throws InterruptedException {
        assertThat(c.join(JOIN)).as("%s exited within %s", c.name(), JOIN).isTrue();
        assertThat(c.exitCode()).as("exit code of %s", c.name()).hasValue(0);
    }

    /** Waits until the child reports {@code stage}, failing if it exits first. */
    static void awaitStage(io.multiproc.shared.SharedLong stage, long value, ChildProcess child) throws InterruptedException {
        long deadline = System.nanoTime() + JOIN.toNanos();
        while (stage.get() != value) {
            assertThat(child.isAlive()).as("%s still running", child.name()).isTrue();
            assertThat(System.nanoTime()).as("child reached stage %d in time", value).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    /** SIGKILL (destroyForcibly: no shutdown hook runs), then waits for the exit. */
    static void kill(ChildProcess child) throws InterruptedException {
        child.kill();
        assertThat(child.join(JOIN)).isTrue();
    }

    /** Closes (kills if still running, and reaps) every child; for finally blocks. */
    static void reap(ChildProcess... children) {
        for (ChildProcess c : children) {
            if (c != null) {
                c.close();
            }
        }
    }

    static void sleepForever() {
        try {
            Thread.sleep(600_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A byte array whose content depends on {@code seed}, and its checksum. */
    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    static long checksum(byte[] b) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b);
        return crc.getValue() ^ ((long) b.length << 32);
    }
}
