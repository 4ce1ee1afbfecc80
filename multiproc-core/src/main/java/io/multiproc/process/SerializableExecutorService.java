package io.multiproc.process;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * An {@link ExecutorService} whose tasks run in other JVMs ({@link Pool}, and the Redis pool across hosts),
 * so they must be serializable: these overloads are what Java picks for a lambda or method reference
 * written at the call, which makes it serializable. The {@code ExecutorService} signatures stay for tasks
 * already typed as plain {@code Callable}s and {@code Runnable}s (those fail at the call, naming their
 * class, unless their object is serializable).
 *
 * <pre>{@code
 * try (Pool pool = Pool.create(2)) {
 *     Future<Long> pid = pool.submit(() -> ProcessHandle.current().pid());   // a SerializableCallable
 *     pool.execute(() -> System.out.println("in a worker"));                 // a SerializableRunnable
 * }
 * }</pre>
 */
public interface SerializableExecutorService extends ExecutorService {
    /** {@link #submit(Callable)} for a lambda written at the call. */
    default <T> Future<T> submit(SerializableCallable<T> task) {
        return submit((Callable<T>) task);
    }

    /** {@link #submit(Runnable)} for a lambda written at the call. */
    default Future<?> submit(SerializableRunnable task) {
        return submit((Runnable) task);
    }

    /** {@link #submit(Runnable, Object)} for a lambda written at the call. */
    default <T> Future<T> submit(SerializableRunnable task, T result) {
        return submit((Runnable) task, result);
    }

    /** {@link #execute(Runnable)} for a lambda written at the call. */
    default void execute(SerializableRunnable command) {
        execute((Runnable) command);
    }
}
