package io.multiproc.manager.remote;

import io.multiproc.manager.SharedValueProxy;

import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A remote manager's value. {@code updateAndGet}/{@code getAndUpdate} run the function here and
 * publish with the server's compare-and-set, retrying on a conflict (the function may run more than
 * once, as with {@code AtomicReference}).
 */
final class RemoteValue<T> implements SharedValueProxy<T>, RemoteManager.RemoteContainer {
    private final transient Target t;

    RemoteValue(Target t) {
        this.t = t;
    }

    @Override
    public RemoteRef ref(RemoteManager m) {
        return t.refFor(m);
    }

    /** Travels as a {@link RemoteHandle}: re-attaches in the receiving process (decision 116). */
    @java.io.Serial
    Object writeReplace() {
        return t.handle();
    }

    @SuppressWarnings("unchecked")
    @Override
    public T get() {
        return (T) t.call(Ops.V_GET);
    }

    @Override
    public void set(T value) {
        t.pipeline(Ops.V_SET, value);
    }

    @SuppressWarnings("unchecked")
    @Override
    public T getAndSet(T value) {
        return (T) t.call(Ops.V_GET_AND_SET, value);
    }

    @Override
    public boolean compareAndSet(T expected, T newValue) {
        return t.callBoolean(Ops.V_CAS, expected, newValue);
    }

    @Override
    @SuppressWarnings("unchecked")
    public T updateAndGet(UnaryOperator<T> update) {
        Objects.requireNonNull(update, "update");
        while (true) {
            Object[] two = t.callTwice(Ops.V_GET); // the function's copy, and the one compared (update may change its copy in place)
            T next = update.apply((T) two[0]);
            if (compareAndSet((T) two[1], next)) {
                return next;
            }
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public T getAndUpdate(UnaryOperator<T> update) {
        Objects.requireNonNull(update, "update");
        while (true) {
            Object[] two = t.callTwice(Ops.V_GET);
            if (compareAndSet((T) two[1], update.apply((T) two[0]))) {
                return (T) two[1];
            }
        }
    }

    @Override
    public String toString() {
        return "Value[" + get() + "]";
    }
}
