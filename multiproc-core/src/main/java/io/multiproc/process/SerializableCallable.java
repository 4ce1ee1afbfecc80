package io.multiproc.process;

import java.io.Serializable;
import java.util.concurrent.Callable;

/**
 * A task with a result that can run in another JVM.
 *
 * <pre>{@code
 * SerializableCallable<Long> pid = () -> ProcessHandle.current().pid();
 * }</pre>
 */
@FunctionalInterface
public interface SerializableCallable<T> extends Callable<T>, Serializable {
}
