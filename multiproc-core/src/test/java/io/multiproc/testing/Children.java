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
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        List<String> states = new ArrayList<>();
        for (ChildProcess c : children) {
            c.join(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            states.add(c.exitCode().isPresent() ? "exit " + c.exitCode().getAsInt() : "still running");
        }
        assertThat(states).as("children %s", List.of(children)).containsOnly("exit 0");
    }

    /** Polls {@code condition} until it holds; fails naming {@code what} after {@link #TIMEOUT}. */
    public static void awaitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + TIMEOUT + " waiting until " + what);
            }
            Thread.sleep(1);
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
