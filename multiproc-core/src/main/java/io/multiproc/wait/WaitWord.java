package io.multiproc.wait;

import io.multiproc.internal.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The place in shared memory where waiters of one structure sleep and wakers wake them: two 4-byte
 * words, a futex sequence and a count of registered sleepers, at 4-aligned offsets of a mapped segment.
 *
 * <h2>Implementation overview</h2>
 * An event count. Waiters that are about to sleep {@link #register()} (sleepers + 1, a full fence),
 * read {@link #sequence()}, re-check their condition, and only then {@link #sleep} while the sequence is
 * unchanged. Wakers change the structure's state with a volatile write or CAS and then call
 * {@link #wakeAll()}/{@link #wake(int)}, which bump the sequence and issue FUTEX_WAKE only if a sleeper
 * is registered: an uncontended release costs one volatile read here and no system call.
 * <p>No lost wake-up: both sides use sequentially consistent accesses (Dekker). If the waker read
 * sleepers == 0, its state change preceded the waiter's registration, so the waiter's re-check sees it;
 * otherwise the waker bumps the sequence after its state change, and the waiter either read the new
 * sequence (then its re-check sees the state) or FUTEX_WAIT finds the sequence changed and returns.
 * <p>No wake-up is spent on a waiter that leaves: a waiter whose sleep ended because the sequence moved
 * and that then leaves without success (timeout, interrupt) calls {@link #wake(int) wake(1)} on its way
 * out ({@link Waiting}), so the wake-up reaches the next sleeper. Correctness never rests on the
 * sleep's time limit (the tests run with it raised to seconds: {@code -Dmultiproc.test.maxSleepMillis}).
 * <p>Dead processes: a sleeper that dies leaves sleepers one too high, which only costs wakers a futex
 * call that wakes nobody. A waiter's first sleep lasts at most {@link #FIRST_SLEEP_NANOS}; each one that
 * times out with nothing changed doubles the next, up to its strategy's
 * {@link IdleStrategy#maxSleepNanos()} ({@link #MAX_SLEEP_NANOS} unless the strategy allows longer), and
 * a wake-up starts over. So every waiter re-checks what no wake-up announces (a dead lock owner, a dead
 * party of a barrier, an interrupt: a futex sleep does not notice {@link Thread#interrupt()}) within
 * 20 ms while things move and within 80 ms when idle, and an idle waiter wakes 12.5 times a second, not
 * 50. A sleep that times out goes straight back to sleep without spinning.
 *
 * <pre>{@code
 * WaitWord w = new WaitWord(segment, SEQ_OFFSET, SLEEPERS_OFFSET);
 * // waker:  state.setVolatile(...); w.wakeAll();
 * }</pre>
 */
public final class WaitWord {
    /** Longest single futex sleep: bounds how late an idle waiter notices a dead peer or an interrupt. */
    public static final long MAX_SLEEP_NANOS = testSleepNanos(80_000_000L);
    /**
     * Longest a default-strategy waiter yields before it sleeps, when its peer answered that fast recently:
     * a first run's interpreted peer answers a pipe or lock hand-off in 20-400 us, where sleeping cost each
     * side a futex call and a wake-up latency per message (BENCHMARKS.md, issue 13 "first-run waits").
     */
    public static final long MAX_YIELD_NANOS = 1_000_000L;
    /** Longest first sleep of a wait, and of the first after each wake-up. */
    public static final long FIRST_SLEEP_NANOS = testSleepNanos(20_000_000L);
    private static final VarHandle INT = JAVA_INT.varHandle();
    /** Per-thread scratch for the futex call's errno capture and timespec. */
    private static final ThreadLocal<MemorySegment> SCRATCH = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(Native.futexScratchSize(), 8));

    private final MemorySegment segment;
    /** Futex word; written by wakers (getAndAdd), read by sleepers and the kernel. */
    private final long seqOffset;
    /** Sleepers registered right now; getAndAdd by sleepers, volatile read by wakers. */
    private final long sleepersOffset;
    /**
     * The futex word as a bare address, not a slice of the mapping: a downcall given a segment holds its
     * arena's session for the whole call, and a sleeping thread would then stop another thread from
     * closing the object (IllegalStateException "session is acquired"). The kernel checks the address
     * itself (EFAULT once unmapped), and {@link #sleep} checks the mapping is still open first.
     * Made on the first sleep or wake, not in the constructor: most wait words never sleep (a lock
     * nobody contends; a lock makes its wait word only when first contended, for the same reason).
     * Racy single-check: any thread of this process may compute it; every result is equal, and the
     * segment object's fields are final, so a racing reader sees it whole.
     */
    private MemorySegment seqWord;
    /**
     * How long (ns) a waiter of this process yields before it sleeps, learnt from this word's recent waits
     * ({@link #learn}). Plain int: written and read by this process's waiting threads only, a heuristic
     * that tolerates a lost update (an int is never torn).
     */
    private int yieldNanos;

    public WaitWord(MemorySegment segment, long seqOffset, long sleepersOffset) {
        if ((seqOffset & 3) != 0 || (sleepersOffset & 3) != 0) {
            throw new IllegalArgumentException("seqOffset=" + seqOffset + " and sleepersOffset=" + sleepersOffset
                    + " must be 4-aligned");
        }
        this.segment = segment;
        this.seqOffset = seqOffset;
        this.sleepersOffset = sleepersOffset;
        Objects.checkFromIndexSize(seqOffset, 4, segment.byteSize());
        Objects.checkFromIndexSize(sleepersOffset, 4, segment.byteSize());
    }

    private MemorySegment seqWord() {
        MemorySegment w = seqWord;
        if (w == null) {
            w = MemorySegment.ofAddress(segment.address() + seqOffset);
            seqWord = w;
        }
        return w;
    }

    public int sequence() {
        return (int) INT.getVolatile(segment, seqOffset);
    }

    /** Counts this thread as a sleeper; a full fence. Pair with {@link #unregister()}. */
    public void register() {
        INT.getAndAdd(segment, sleepersOffset, 1);
    }

    public void unregister() {
        INT.getAndAdd(segment, sleepersOffset, -1);
    }

    /**
     * Sleeps while the sequence equals {@code observed}, at most {@code nanos} (callers cap it:
     * {@link Waiting} at the strategy's {@link IdleStrategy#maxSleepNanos()}, by default
     * {@link #MAX_SLEEP_NANOS}). Returns early on a wake, a changed sequence, or a signal.
     */
    public void sleep(int observed, long nanos) {
        long t = Math.max(0, nanos);
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("the shared object was closed while a thread waited on it");
        }
        Native.futexWait(seqWord(), observed, t, SCRATCH.get());
    }

    /** Wakes every registered sleeper (no system call when there is none). */
    public void wakeAll() {
        wake(Integer.MAX_VALUE);
    }

    /** Wakes up to {@code count} registered sleepers (no system call when there is none). */
    public void wake(int count) {
        if ((int) INT.getVolatile(segment, sleepersOffset) > 0) {
            INT.getAndAdd(segment, seqOffset, 1);
            if (Native.isAvailable() && segment.scope().isAlive()) {
                Native.futexWake(seqWord(), count, SCRATCH.get());
            }
        }
    }

    /**
     * How long a waiter of the default strategy should yield, past its fixed spin, before it sleeps:
     * long enough to catch a peer that answered recently within that time (see {@link #learn}).
     */
    int yieldNanos() {
        return yieldNanos;
    }

    /**
     * Learns from one finished wait that got past the fixed spin: {@code nanos} from the end of the
     * fixed spin until the condition held ({@code -1}: it never held, a timeout). A peer that answered
     * within {@link #MAX_YIELD_NANOS} is active: the next waits yield twice that long before sleeping,
     * so the peer's next answer finds the waiter awake (no futex wake in the peer, no wake-up latency
     * here). A longer wait (an idle peer) halves the budget, so idle waiters soon sleep at once again.
     */
    void learn(long nanos) {
        yieldNanos = nextYieldNanos(yieldNanos, nanos);
    }

    /** The rule of {@link #learn}, on its own for tests. */
    static int nextYieldNanos(int current, long waitedNanos) {
        if (waitedNanos >= 0 && waitedNanos <= MAX_YIELD_NANOS) {
            return (int) Math.min(MAX_YIELD_NANOS, Math.max(current, 2 * waitedNanos));
        }
        return current / 2;
    }

    /** Registered sleepers, for diagnostics and tests. */
    public int sleepers() {
        return (int) INT.getVolatile(segment, sleepersOffset);
    }

    /**
     * {@code nanos}, or for tests that show no wake-up depends on these limits, the value of
     * {@code -Dmultiproc.test.maxSleepMillis=N} given to the child JVM they start (for both limits; a bad
     * value fails at once).
     */
    private static long testSleepNanos(long nanos) {
        String ms = System.getProperty("multiproc.test.maxSleepMillis");
        if (ms == null) {
            return nanos;
        }
        long v;
        try {
            v = Long.parseLong(ms);
        } catch (NumberFormatException e) {
            v = -1;
        }
        if (v <= 0) {
            throw new IllegalArgumentException("multiproc.test.maxSleepMillis=" + ms + " must be a positive number of ms");
        }
        return v * 1_000_000L;
    }
}
