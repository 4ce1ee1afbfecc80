package io.multiproc.process;

import java.io.Serializable;

/**
 * A task that can run in another JVM: a lambda or object that is also {@link Serializable}. It is a
 * {@link SerializableTask} that throws no checked exception.
 *
 * <pre>{@code
 * SerializableRunnable task = () -> System.out.println("hello from " + ProcessHandle.current().pid());
 * ChildProcess.start(task).join();
 * }</pre>
 */
@FunctionalInterface
public interface SerializableRunnable extends Runnable, SerializableTask, Serializable {
    /** Runs the task; it throws no checked exception (see {@link SerializableTask} for one that may). */
    @Override
    void run();
}
