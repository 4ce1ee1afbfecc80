package io.multiproc.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code invokeAll} and {@code invokeAny} for executors whose {@code submit} sends the task elsewhere and
 * returns a {@link CompletableFuture} (the local Pool, the Redis pool): the JDK's
 * {@code AbstractExecutorService} would wrap each task in a FutureTask run in this JVM instead.
 *
 * <pre>{@code
 * public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) throws InterruptedException {
 *     return Invocations.invokeAll(this, tasks);
 * }
 * }</pre>
 */
public final class Invocations {
    private Invocations() {
    }

    /**
     * Submits every task, then waits for each; a task that cannot be submitted cancels those that were,
     * and so does an interrupt (ExecutorService: "unfinished tasks are cancelled"), which the caller
     * otherwise could not do: it gets no futures.
     */
    public static <T> List<Future<T>> invokeAll(ExecutorService executor, Collection<? extends Callable<T>> tasks)
            throws InterruptedException {
        List<Future<T>> futures = submitAll(executor, tasks);
        try {
            for (Future<T> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException | CancellationException ignored) {
                    // reported by the future itself
                }
            }
        } catch (InterruptedException e) {
            futures.forEach(x -> x.cancel(true));
            throw e;
        }
        return futures;
    }

    /** Like {@link #invokeAll(ExecutorService, Collection)}; at the deadline, cancels what has not completed. */
    public static <T> List<Future<T>> invokeAll(ExecutorService executor, Collection<? extends Callable<T>> tasks,
                                                long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        List<Future<T>> futures = submitAll(executor, tasks);
        try {
            for (Future<T> f : futures) {
                try {
                    f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (ExecutionException | CancellationException ignored) {
                    // reported by the future itself
                } catch (TimeoutException late) {
                    futures.forEach(x -> x.cancel(true));
                    break;
                }
            }
        } catch (InterruptedException e) {
            futures.forEach(x -> x.cancel(true));
            throw e;
        }
        return futures;
    }

    private static <T> List<Future<T>> submitAll(ExecutorService executor, Collection<? extends Callable<T>> tasks) {
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        try {
            for (Callable<T> t : tasks) {
                futures.add(executor.submit(t));
            }
        } catch (RuntimeException | Error e) { // an Error too (a captured object's writeObject): else the tasks sent ran on unseen
            futures.forEach(f -> f.cancel(true));
            throw e;
        }
        return futures;
    }

    /**
     * The first successful result (the others are cancelled), or the last failure if all fail.
     * {@code timeout == Long.MAX_VALUE} with NANOSECONDS waits without a deadline.
     */
    public static <T> T invokeAny(ExecutorService executor, Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        // NOTE: the unit and the deadline before anything is sent, as AbstractExecutorService: a null unit
        // ran every task before the NullPointerException, and encoding them ate into the timeout
        boolean untimed = timeout == Long.MAX_VALUE && unit == TimeUnit.NANOSECONDS;
        long deadline = untimed ? 0 : System.nanoTime() + Math.min(unit.toNanos(timeout), Long.MAX_VALUE / 4);
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("tasks is empty");
        }
        List<Future<T>> futures = submitAll(executor, tasks);
        CompletableFuture<T> first = new CompletableFuture<>();
        AtomicInteger failures = new AtomicInteger();
        for (Future<T> f : futures) {
            ((CompletableFuture<T>) f).whenComplete((v, e) -> {
                if (e == null) {
                    first.complete(v);
                } else if (failures.incrementAndGet() == futures.size()) {
                    first.completeExceptionally(e);
                }
            });
        }
        try {
            return untimed ? first.get() : first.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (CancellationException allCancelled) {
            // the last task was cancelled (terminate, shutdownNow): still "no task completed", as the JDK's own invokeAny says it
            throw new ExecutionException("no task completed: the last one was cancelled", allCancelled);
        } finally {
            futures.forEach(f -> f.cancel(true));
        }
    }

    /**
     * Waits for a pool's whole-call future ({@code map}); throws its failure as is when unchecked, a
     * checked one inside a CompletionException; an interrupt cancels the future and keeps the flag.
     */
    public static <R> R await(CompletableFuture<R> future, String pool) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for " + pool);
        }
    }

    /**
     * A task's own exception {@code t} as the outcome of its future. A CancellationException the task
     * threw goes inside a CompletionException, as CompletableFuture.supplyAsync does with one: set as is,
     * the future looked cancelled (isCancelled() true, state() CANCELLED) and get() threw it instead of
     * ExecutionException. Everything else is the outcome as is.
     */
    public static Throwable taskFailure(Throwable t) {
        return t instanceof CancellationException ? new CompletionException(t) : t;
    }

    /** {@code t} as an unchecked exception to rethrow: itself if it is one, an Error thrown, else wrapped. */
    public static RuntimeException unwrap(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new CompletionException(t);
    }
}
