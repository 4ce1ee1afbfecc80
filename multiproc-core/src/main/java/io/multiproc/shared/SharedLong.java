package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.invoke.VarHandle;

import static io.multiproc.shared.SharedValueLayout.VALUE_OFFSET;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A {@code long} in shared memory with lock-free atomic operations, usable from any thread of any
 * process that has the handle (pass it to a child by capturing it in the task).
 *
 * <pre>{@code
 * try (SharedLong counter = SharedLong.create(0)) {
 *     ChildProcess a = ChildProcess.start(() -> { for (int i = 0; i < 1000; i++) counter.incrementAndGet(); });
 *     ChildProcess b = ChildProcess.start(() -> { for (int i = 0; i < 1000; i++) counter.incrementAndGet(); });
 *     a.join(); b.join();
 *     assert counter.get() == 2000;   // no lock needed, no update lost
 * }
 * }</pre>
 *
 * <p>Memory ordering follows {@link java.util.concurrent.atomic.AtomicLong}: {@code get}/{@code set}
 * are volatile, the read-modify-write operations are atomic CPU instructions on the shared bytes, and
 * {@code getAcquire}/{@code setRelease} are the cheaper pair for one-writer hand-offs.
 */
public final class SharedLong extends SharedNumber {
    private static final VarHandle VH = JAVA_LONG.varHandle();

    SharedLong(SharedSegments.Mapping mapping) {
        super(mapping, NumberKind.LONG);
    }

    /** A new shared long holding {@code initial}. */
    public static SharedLong create(long initial) {
        return new SharedLong(create(NumberKind.LONG, seg -> seg.set(JAVA_LONG, VALUE_OFFSET, initial)));
    }

    /** Attaches to an existing shared long by its {@link #name()}. */
    public static SharedLong attach(String name) {
        return (SharedLong) SharedNumber.attach(name, NumberKind.LONG);
    }

    public long get() {
        ensureOpen();
        return (long) VH.getVolatile(whole, VALUE_OFFSET);
    }

    public void set(long value) {
        ensureOpen();
        VH.setVolatile(whole, VALUE_OFFSET, value);
    }

    public long getAcquire() {
        ensureOpen();
        return (long) VH.getAcquire(whole, VALUE_OFFSET);
    }

    public void setRelease(long value) {
        ensureOpen();
        VH.setRelease(whole, VALUE_OFFSET, value);
    }

    public long incrementAndGet() {
        ensureOpen();
        return (long) VH.getAndAdd(whole, VALUE_OFFSET, 1L) + 1L;
    }

    public long decrementAndGet() {
        ensureOpen();
        return (long) VH.getAndAdd(whole, VALUE_OFFSET, -1L) - 1L;
    }

    public long addAndGet(long delta) {
        ensureOpen();
        return (long) VH.getAndAdd(whole, VALUE_OFFSET, delta) + delta;
    }

    public long getAndAdd(long delta) {
        ensureOpen();
        return (long) VH.getAndAdd(whole, VALUE_OFFSET, delta);
    }

    public long getAndSet(long value) {
        ensureOpen();
        return (long) VH.getAndSet(whole, VALUE_OFFSET, value);
    }

    public boolean compareAndSet(long expected, long value) {
        ensureOpen();
        return VH.compareAndSet(whole, VALUE_OFFSET, expected, value);
    }

    @Override
    public Long getValue() {
        ensureOpen();
        return get();
    }

    @Override
    public void setValue(Number value) {
        ensureOpen();
        set(value.longValue());
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        return "SharedLong[name=" + name() + ", value=" + get() + "]";
    }
}
