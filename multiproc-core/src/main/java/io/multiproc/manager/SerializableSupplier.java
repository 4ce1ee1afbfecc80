package io.multiproc.manager;

import java.io.Serializable;
import java.util.function.Supplier;

/**
 * A {@link Supplier} that can travel to another JVM, such as a custom type's factory for
 * {@link Manager#register}: {@code m.register("counter", Counter::new, CounterApi.class)}.
 */
@FunctionalInterface
public interface SerializableSupplier<T> extends Supplier<T>, Serializable {
}
