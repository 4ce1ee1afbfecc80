package io.multiproc.manager.local;

import io.multiproc.manager.SharedValueProxy;

import java.io.Serial;
import java.io.Serializable;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A manager's value: one item in the heap, replaced by writing a new item and publishing its ref with
 * one store under the container's lock. {@link #updateAndGet} runs its function under the lock.
 */
final class ManagedValue<T> implements SharedValueProxy<T>, Serializable, Proxy {
    @Serial
    private static final long serialVersionUID = 1L;
    private final transient Container c;

    ManagedValue(Container c) {
        this.c = c;
    }

    @SuppressWarnings("unchecked")
    static <T> ManagedValue<T> create(Heap heap, T initial) {
        long item = Items.write(heap, Items.encodeValue(heap, initial), false);
        return (ManagedValue<T>) heap.adopt(Container.allocate(heap, ContainerKind.VALUE, item));
    }

    @Override
    public Container container() {
        return c;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T get() {
        c.lock();
        try {
            return (T) Items.readValue(c.heap, c.data());
        } finally {
            c.unlock();
        }
    }

    @Override
    public void set(T value) {
        getAndSet(value);
    }

    @Override
    public T getAndSet(T value) {
        return exchange(v -> value, false);
    }

    /** As the interface says, except that a managed container matches only a proxy of itself ({@link Items#sameValue}). */
    @Override
    @SuppressWarnings("unchecked")
    public boolean compareAndSet(T expected, T newValue) {
        boolean[] done = {false};
        exchange(v -> {
            done[0] = Items.sameForSwap(v, expected);
            return done[0] ? newValue : (T) UNCHANGED;
        }, false);
        return done[0];
    }

    @Override
    public T updateAndGet(UnaryOperator<T> update) {
        Objects.requireNonNull(update, "update");
        return exchange(update, true);
    }

    @Override
    public T getAndUpdate(UnaryOperator<T> update) {
        Objects.requireNonNull(update, "update");
        return exchange(update, false);
    }

    /** What an {@link #exchange} function returns to store nothing. */
    private static final Object UNCHANGED = new Object();

    /** Under the lock: the new value from the old, one store publishes it; the old item is freed after. */
    @SuppressWarnings("unchecked")
    private T exchange(UnaryOperator<T> f, boolean returnNew) {
        long old;
        T before;
        T after;
        c.lock();
        try {
            old = c.data();
            before = (T) Items.readValue(c.heap, old);
            after = f.apply(before);
            if (after == UNCHANGED) {
                return before; // a compare-and-set that did not match: nothing to store
            }
            // NOTE: stored even when f returned its argument: it may have changed it in place (an array)
            long item = Items.write(c.heap, Items.encodeValue(c.heap, after), false);
            c.publishData(item);
            if (after == before && !returnNew) {
                before = (T) Items.readValue(c.heap, old); // the old value as it was, not as f left it
            }
        } finally {
            c.unlock();
        }
        Items.free(c.heap, old);
        return returnNew ? after : before;
    }

    @Override
    public String toString() {
        return "SharedValueProxy[" + get() + "]";
    }

    @Serial
    Object writeReplace() {
        return c.handle(this);
    }
}
