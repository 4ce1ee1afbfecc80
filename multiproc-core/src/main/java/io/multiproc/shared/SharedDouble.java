package io.multiproc.shared;

import io.multiproc.internal.SharedSegments;

import java.lang.invoke.VarHandle;

import static io.multiproc.shared.SharedValueLayout.VALUE_OFFSET;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/**
 * A {@code double} in shared memory with lock-free atomic operations across processes.
 *
 * <pre>{@code
 * try (SharedDouble total = SharedDouble.create(0.0)) {
 *     ChildProcess.start(() -> total.addAndGet(2.5)).join();
 *     assert total.get() == 2.5;
 * }
 * }</pre>
 *
 * <p>{@code get}/{@code set} are volatile; {@link #addAndGet(double)} is a compare-and-set loop on
 * the value's bits (there is no atomic floating-point add instruction), so it is lock-free but not
 * wait-free; {@link #compareAndSet(double, double)} compares bit patterns, as
 * {@link java.lang.invoke.VarHandle} does, so it works for NaN too.
 */
public final class SharedDouble extends SharedNumber {
    private static final VarHandle VH = JAVA_DOUBLE.varHandle();

    SharedDouble(SharedSegments.Mapping mapping) {
        super(mapping, NumberKind.DOUBLE);
    }

    /** A new shared double holding {@code initial}. */
    public static SharedDouble create(double initial) {
        return new SharedDouble(create(NumberKind.DOUBLE, seg -> seg.set(JAVA_DOUBLE, VALUE_OFFSET, initial)));
    }

    /** Attaches to an existing shared double by its {@link #name()}. */
    public static SharedDouble attach(String name) {
        return (SharedDouble) SharedNumber.attach(name, NumberKind.DOUBLE);
    }

    public double get() {
        ensureOpen();
        return (double) VH.getVolatile(whole, VALUE_OFFSET);
    }

    public void set(double value) {
        ensureOpen();
        VH.setVolatile(whole, VALUE_OFFSET, value);
    }

    public double getAcquire() {
        ensureOpen();
        return (double) VH.getAcquire(whole, VALUE_OFFSET);
    }

    public void setRelease(double value) {
        ensureOpen();
        VH.setRelease(whole, VALUE_OFFSET, value);
    }

    public double addAndGet(double delta) {
        ensureOpen();
        return addAndGet(whole, VALUE_OFFSET, delta);
    }

    /** Atomic add on the double at {@code offset}: a CAS loop, as there is no floating-point add instruction. */
    static double addAndGet(java.lang.foreign.MemorySegment seg, long offset, double delta) {
        double prev;
        double next;
        do {
            prev = (double) VH.getVolatile(seg, offset);
            next = prev + delta;
        } while (!VH.weakCompareAndSet(seg, offset, prev, next));
        return next;
    }

    public double getAndSet(double value) {
        ensureOpen();
        return (double) VH.getAndSet(whole, VALUE_OFFSET, value);
    }

    public boolean compareAndSet(double expected, double value) {
        ensureOpen();
        return VH.compareAndSet(whole, VALUE_OFFSET, expected, value);
    }

    @Override
    public Double getValue() {
        ensureOpen();
        return get();
    }

    @Override
    public void setValue(Number value) {
        ensureOpen();
        set(value.doubleValue());
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        return "SharedDouble[name=" + name() + ", value=" + get() + "]";
    }
}
