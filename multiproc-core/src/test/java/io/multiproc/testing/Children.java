package io.multiproc.testing;

import io.multiproc.process.ChildProcess;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Helpers for tests with real child JVMs: bounded joins and waits, never an unbounded loop. */
public final class Children {
    /** Generous: a child JVM on a loaded 2-core CI machine can take seconds to start. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    private Children() {
    }

    /** Waits for the child and checks it exited with 0. */
    public static void joinOk(ChildProcess child) throws InterruptedException {
        assertThat(child.join(TIMEOUT)).as("%s exited within %s", child, TIMEOUT).isTrue();
        assertThat(child.exitCode()).as("%s exit code", child).hasValue(0);
    }

    /** Waits for every child, then checks all exit codes at once (so a failed partner shows). */
    public static void joinAllOk(ChildProcess... children) throws InterruptedException {
        joinAllOk(TIMEOUT, children);
    }

    /** {@link #joinAllOk(ChildProcess...)} for children that work longer than {@link #TIMEOUT} on a loaded machine. */
    public static void joinAllOk(Duration timeout, ChildProcess... children) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> states = new ArrayList<>();
        for (ChildProcess c : children) {
            c.join(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            states.add(c.exitCode().isPresent() ? "exit " + c.exitCode().getAsInt() : "still running");
        }
        assertThat(states).as("children %s", List.of(children)).containsOnly("exit 0");
    }

    /** Polls {@code condition} until it holds; fails naming {@code what} after {@link #TIMEOUT}. */
    public static void awaitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        awaitUntil(what, TIMEOUT, Duration.ofMillis(1), condition);
    }

    /**
     * {@link #awaitUntil(String, BooleanSupplier)} polling every {@code every} for at most {@code timeout}:
     * for a condition that asks a server (each poll a round trip) or needs longer on a loaded machine.
     */
    public static void awaitUntil(String what, Duration timeout, Duration every, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting until " + what);
            }
            Thread.sleep(every.toMillis());
        }
    }

    /** Sends {@code kill -SIGNAL pid} (no Java API sends STOP or CONT) and checks it was delivered. */
    public static void signal(String signal, long pid) throws java.io.IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -%s %d", signal, pid).isZero();
    }

    /**
     * Stops {@code pid} (SIGSTOP), runs {@code whileStopped}, keeps the process stopped until {@code millis}
     * after the stop, then continues it (SIGCONT), also when {@code whileStopped} throws: a server that hangs.
     */
    public static void stoppedFor(long pid, long millis, WhileStopped whileStopped) throws Exception {
        long stopped = System.nanoTime();
        signal("STOP", pid);
        try {
            whileStopped.run();
            long left = millis - java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
            if (left > 0) {
                Thread.sleep(left);
            }
        } finally {
            signal("CONT", pid);
        }
    }

    /** What {@link #stoppedFor} runs while the process is stopped. */
    @FunctionalInterface
    public interface WhileStopped {
        void run() throws Exception;
    }

    /** A process's state letter from /proc (R, S, T for stopped, Z...), or '?' once it is gone. */
    public static char stateOf(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (java.io.IOException e) {
            return '?';
        }
    }

    /**
     * Runs {@code body} in {@code threads} new threads at once and waits for all of them; for tasks that
     * put several threads of one child JVM to work. A thread's failure is rethrown here.
     */
    public static void inThreads(int threads, Runnable body) {
        Thread[] ts = new Thread[threads];
        Throwable[] failure = new Throwable[1];
        for (int i = 0; i < threads; i++) {
            ts[i] = new Thread(body);
            ts[i].setUncaughtExceptionHandler((t, e) -> {
                synchronized (failure) {
                    failure[0] = e;
                }
            });
            ts[i].start();
        }
        for (Thread t : ts) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException("interrupted while joining the threads", e);
            }
        }
        synchronized (failure) {
            if (failure[0] != null) {
                throw new IllegalStateException("a thread failed", failure[0]);
            }
        }
    }

    /** Kills every child given (SIGKILL) and waits until each is gone; for finally blocks. */
    public static void reap(ChildProcess... children) {
        for (ChildProcess c : children) {
            if (c != null) {
                c.close();
            }
        }
    }
}
