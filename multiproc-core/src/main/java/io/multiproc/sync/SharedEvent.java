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
import static io.multiproc.sync.EventLayout.SETS;
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
 * <p>{@link #set()} wakes every waiter; waiters that arrive while it is set return at once. A waiter
 * returns true when the flag is set or a {@code set()} happened while it waited, even if a
 * {@code clear()} followed before it looked (Python's {@code threading.Event}: a pulse
 * {@code set(); clear()} releases everyone waiting at that moment). Setting is a volatile write, an
 * atomic increment and a check for sleepers: no system call unless someone sleeps.
 *
 * <h2>Implementation overview</h2>
 * A flag word and a count of {@code set()} calls ({@link EventLayout}). A waiter reads the count
 * first, then the flag, and waits (the {@link Waiting} loop) until the flag is set or the count moved.
 * {@code set()} writes the flag, then increments the count (a full fence), then wakes the sleepers.
 * Invariant: a waiter that was waiting when a {@code set()} ran returns true.
 */
public final class SharedEvent extends MappedObject implements Serializable {
    private static final VarHandle INT = JAVA_INT.varHandle();
    final transient WaitWord word;
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
        Objects.requireNonNull(idle, "idle"); // NOTE: before the segment exists, or a refused call leaks it
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
        INT.setVolatile(whole, FLAG, 1);
        // NOTE: a full fence after the flag: a waiter that sees the count move sees the flag's set, and
        // the sleeper check in wakeAll stays after both.
        INT.getAndAdd(whole, SETS, 1);
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

    /**
     * Waits until the flag is set (or a set() happens); returns true (as Python's {@code wait()} does).
     *
     * @throws InterruptedException if the thread is interrupted on entry (even with the flag set, as
     *     {@code java.util.concurrent.CountDownLatch}) or while waiting
     */
    public boolean await() throws InterruptedException {
        ensureOpen();
        return awaitUntil(Waiting.FOREVER);
    }

    /**
     * Waits at most {@code timeout} for the flag.
     *
     * @return true if the flag is set, or a set() happened while this call waited; false at the timeout
     */
    public boolean await(Duration timeout) throws InterruptedException {
        ensureOpen();
        long nanos = Waiting.nanos(timeout);
        return awaitUntil(Waiting.deadline(nanos));
    }

    private boolean awaitUntil(long deadline) throws InterruptedException {
        SharedSemaphore.checkInterrupt();
        int sets = (int) INT.getVolatile(whole, SETS); // NOTE: before the flag (see set())
        return isSet() || Waiting.await(word, idle, () -> isSet() || (int) INT.getVolatile(whole, SETS) != sets,
                deadline, true);
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
