package io.multiproc.sync;

import io.multiproc.codec.SharedHandle;
import io.multiproc.internal.MappedObject;
import io.multiproc.internal.SharedSegments;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.WaitWord;
import io.multiproc.wait.Waiting;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;

import static io.multiproc.sync.EventLayout.FLAG;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A flag that processes can wait for: Python's {@code multiprocessing.Event}.
 *
 * <pre>{@code
 * try (SharedEvent ready = SharedEvent.create()) {
 *     ChildProcess.start(() -> { prepare(); ready.set(); });
 *     boolean ok = ready.await(Duration.ofSeconds(5));   // false if the child did not set it in time
 * }
 * }</pre>
 *
 * <p>{@link #set()} wakes every waiter; waiters that arrive while it is set return at once. Setting is a
 * volatile write plus a check for sleepers: no system call unless someone sleeps.
 */
public final class SharedEvent extends MappedObject implements Serializable {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private final transient WaitWord word;
    private final transient IdleStrategy idle;

    private SharedEvent(SharedSegments.Mapping mapping, IdleStrategy idle) {
        super(mapping);
        this.idle = Objects.requireNonNull(idle, "idle");
        this.word = new WaitWord(whole, EventLayout.SEQ, EventLayout.SLEEPERS);
    }

    /** A new event, not set. */
    public static SharedEvent create() {
        return create(IdleStrategy.blocking());
    }

    /** A new event, not set, whose waiters in this process use {@code idle}. */
    public static SharedEvent create(IdleStrategy idle) {
        return new SharedEvent(SyncSegments.create(EventLayout.MAGIC, EventLayout.VERSION, EventLayout.KIND,
                EventLayout.SEGMENT_SIZE, seg -> { }), idle);
    }

    public static SharedEvent attach(String name) {
        return new SharedEvent(SyncSegments.attach(name, "SharedEvent", EventLayout.MAGIC, EventLayout.VERSION,
                EventLayout.KIND), IdleStrategy.blocking());
    }

    /** Sets the flag and wakes every waiter. */
    public void set() {
        ensureOpen();
        INT.setVolatile(whole, FLAG, 1); // NOTE: volatile, so the sleeper check in wakeAll stays after it
        word.wakeAll();
    }

    public void clear() {
        ensureOpen();
        INT.setVolatile(whole, FLAG, 0);
    }

    public boolean isSet() {
        ensureOpen();
        return (int) INT.getVolatile(whole, FLAG) != 0;
    }

    /** Waits until the flag is set; returns true (as Python's {@code wait()} does). */
    public boolean await() throws InterruptedException {
        ensureOpen();
        return isSet() || Waiting.await(word, idle, this::isSet, Waiting.FOREVER, true);
    }

    /**
     * Waits at most {@code timeout} for the flag.
     *
     * @return whether the flag is set
     */
    public boolean await(Duration timeout) throws InterruptedException {
        ensureOpen();
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout=" + timeout + " must be >= 0");
        }
        return isSet() || Waiting.await(word, idle, this::isSet, Waiting.deadline(timeout.toNanos()), true);
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        return "SharedEvent[name=" + name() + (isSet() ? ", set" : ", clear") + "]";
    }

    @Serial
    Object writeReplace() {
        return new Handle(nameInFlight());
    }

    record Handle(String name) implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            try {
                return SharedEvent.attach(name);
            } catch (RuntimeException e) {
                throw SyncSegments.cannotResolve("SharedEvent", name, e);
            }
        }
    }
}
