package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.invoke.VarHandle;

import static io.multiproc.shared.SharedValueLayout.VALUE_OFFSET;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * An {@code int} in shared memory with lock-free atomic operations, usable from any thread of any
 * process that has the handle (pass it to a child by capturing it in the task).
 *
 * <pre>{@code
 * try (SharedInt counter = SharedInt.create(0)) {
 *     ChildProcess a = ChildProcess.start(() -> { for (int i = 0; i < 1000; i++) counter.incrementAndGet(); });
 *     ChildProcess b = ChildProcess.start(() -> { for (int i = 0; i < 1000; i++) counter.incrementAndGet(); });
 *     a.join(); b.join();
 *     assert counter.get() == 2000;   // no lock needed, no update lost
 * }
 * }</pre>
 *
 * <p>Memory ordering follows {@link java.util.concurrent.atomic.AtomicInteger}: {@code get}/{@code set}
 * are volatile, the read-modify-write operations are atomic CPU instructions on the shared bytes, and
 * {@code getAcquire}/{@code setRelease} are the cheaper pair for one-writer hand-offs.
 */
public final class SharedInt extends SharedNumber {
    private static final VarHandle VH = JAVA_INT.varHandle();

    SharedInt(SharedSegments.Mapping mapping) {
        super(mapping, NumberKind.INT);
    }

    /** A new shared int holding {@code initial}. */
    public static SharedInt create(int initial) {
        return new SharedInt(create(NumberKind.INT, seg -> seg.set(JAVA_INT, VALUE_OFFSET, initial)));
    }

    /** Attaches to an existing shared int by its {@link #name()}. */
    public static SharedInt attach(String name) {
        return (SharedInt) SharedNumber.attach(name, NumberKind.INT);
    }

    public int get() {
        ensureOpen();
        return (int) VH.getVolatile(whole, VALUE_OFFSET);
    }

    public void set(int value) {
        ensureOpen();
        VH.setVolatile(whole, VALUE_OFFSET, value);
    }

    public int getAcquire() {
        ensureOpen();
        return (int) VH.getAcquire(whole, VALUE_OFFSET);
    }

    public void setRelease(int value) {
        ensureOpen();
        VH.setRelease(whole, VALUE_OFFSET, value);
    }

    public int incrementAndGet() {
        ensureOpen();
        return (int) VH.getAndAdd(whole, VALUE_OFFSET, 1) + 1;
    }

    public int decrementAndGet() {
        ensureOpen();
        return (int) VH.getAndAdd(whole, VALUE_OFFSET, -1) - 1;
    }

    public int addAndGet(int delta) {
        ensureOpen();
        return (int) VH.getAndAdd(whole, VALUE_OFFSET, delta) + delta;
    }

    public int getAndAdd(int delta) {
        ensureOpen();
        return (int) VH.getAndAdd(whole, VALUE_OFFSET, delta);
    }

    public int getAndSet(int value) {
        ensureOpen();
        return (int) VH.getAndSet(whole, VALUE_OFFSET, value);
    }

    public boolean compareAndSet(int expected, int value) {
        ensureOpen();
        return VH.compareAndSet(whole, VALUE_OFFSET, expected, value);
    }

    @Override
    public Integer getValue() {
        ensureOpen();
        return get();
    }

    @Override
    public void setValue(Number value) {
        ensureOpen();
        set(value.intValue());
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        return "SharedInt[name=" + name() + ", value=" + get() + "]";
    }
}
