package io.multiproc.manager.remote;

import io.multiproc.manager.BarrierProxy;
import io.multiproc.manager.EventProxy;
import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SemaphoreProxy;
import io.multiproc.manager.SerializableSupplier;
import io.multiproc.manager.SharedValueProxy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.function.UnaryOperator;

/**
 * A Manager over java.util.concurrent collections in this JVM, to test the remote protocol apart
 * from the shared-memory containers. Named objects are get-or-create, like the local manager's.
 */
class InMemoryManager implements Manager {
    private final Map<String, Object> named = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "in-memory";
    }

    @SuppressWarnings("unchecked")
    private <T> T named(String name, Class<?> kind, java.util.function.Supplier<Object> make) {
        Object o = named.computeIfAbsent(Objects.requireNonNull(name, "name"), n -> make.get());
        if (!kind.isInstance(o)) {
            throw new IllegalStateException("name='" + name + "' is a " + o.getClass().getSimpleName());
        }
        return (T) o;
    }

    @Override
    public <E> List<E> list() {
        return Collections.synchronizedList(new ArrayList<>());
    }

    @Override
    public <E> List<E> list(String name) {
        return named(name, List.class, this::list);
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict() {
        return new ConcurrentHashMap<>();
    }

    @Override
    public <K, V> ConcurrentMap<K, V> dict(String name) {
        return named(name, ConcurrentMap.class, this::dict);
    }

    @Override
    public Namespace namespace() {
        return new io.multiproc.testing.PlainNamespace();
    }

    @Override
    public Namespace namespace(String name) {
        return named(name, Namespace.class, this::namespace);
    }

    @Override
    public <T> SharedValueProxy<T> value(T initial) {
        return new Val<>(initial);
    }

    @Override
    public <T> SharedValueProxy<T> value(String name, T initial) {
        return named(name, SharedValueProxy.class, () -> value(initial));
    }

    @Override
    public <E> BlockingQueue<E> queue() {
        throw new UnsupportedOperationException();
    }

    @Override
    public <E> BlockingQueue<E> queue(int maxItems) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Lock lock() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Lock rlock() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Condition condition(Lock lock) {
        throw new UnsupportedOperationException();
    }

    @Override
    public SemaphoreProxy semaphore(int permits) {
        throw new UnsupportedOperationException();
    }

    @Override
    public EventProxy event() {
        throw new UnsupportedOperationException();
    }

    @Override
    public BarrierProxy barrier(int parties) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> void register(String typeId, SerializableSupplier<? extends T> factory, Class<T> exposedInterface) {
        throw new UnsupportedOperationException();
    }

    @Override
    public <T> T create(String typeId) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }

    private static final class Val<T> implements SharedValueProxy<T> {
        private T value;

        Val(T initial) {
            value = initial;
        }

        @Override
        public synchronized T get() {
            return value;
        }

        @Override
        public synchronized void set(T v) {
            value = v;
        }

        @Override
        public synchronized T getAndSet(T v) {
            T old = value;
            value = v;
            return old;
        }

        @Override
        public synchronized boolean compareAndSet(T expected, T newValue) {
            if (!Objects.equals(value, expected)) {
                return false;
            }
            value = newValue;
            return true;
        }

        @Override
        public synchronized T updateAndGet(UnaryOperator<T> update) {
            value = update.apply(value);
            return value;
        }

        @Override
        public synchronized T getAndUpdate(UnaryOperator<T> update) {
            T old = value;
            value = update.apply(value);
            return old;
        }
    }

}
