package io.multiproc.process;

import java.io.Serializable;
import java.util.function.Function;

/**
 * A function that can run in another JVM.
 *
 * <pre>{@code
 * SerializableFunction<Integer, Integer> square = x -> x * x;
 * }</pre>
 */
@FunctionalInterface
public interface SerializableFunction<T, R> extends Function<T, R>, Serializable {
}
