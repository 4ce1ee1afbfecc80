package io.multiproc.manager;

import java.util.function.UnaryOperator;

/**
 * Python's {@code Manager().Value}: one shared value of any codec-encodable type.
 * {@link #updateAndGet} runs the function in the calling process while it holds the value's lock, so
 * concurrent updates from several processes lose nothing.
 *
 * <pre>{@code
 * SharedValueProxy<Integer> hits = manager.value(0);
 * ChildProcess.start(() -> hits.updateAndGet(n -> n + 1)).join();
 * hits.get();   // 1
 * }</pre>
 */
public interface SharedValueProxy<T> {

    /** The current value. */
    T get();

    /** Replaces the value. */
    void set(T value);

    /** Replaces the value, returning the previous one. */
    T getAndSet(T value);

    /**
     * Sets {@code newValue} if the current value {@code equals} {@code expected}. A current value that is
     * a nested container (a managed list, dict, set or namespace) matches only a proxy of that same
     * container, as Python's proxies compare (decision 145): comparing contents would take the nested
     * container's lock under this value's.
     */
    boolean compareAndSet(T expected, T newValue);

    /** Applies {@code update} atomically (under the value's lock) and returns the new value. */
    T updateAndGet(UnaryOperator<T> update);

    /** Applies {@code update} atomically (under the value's lock) and returns the previous value. */
    T getAndUpdate(UnaryOperator<T> update);
}
