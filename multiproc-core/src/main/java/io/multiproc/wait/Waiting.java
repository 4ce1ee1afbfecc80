package io.multiproc.wait;

/**
 * The wait loop shared by every blocking structure: re-check, pause or sleep per the
 * {@link IdleStrategy}, honour the deadline and interrupts.
 *
 * <pre>{@code
 * boolean ok = Waiting.await(word, idle, () -> tryAcquire(), deadlineNanos, true);
 * }</pre>
 */
public final class Waiting {
    /** No deadline. */
    public static final long FOREVER = Long.MAX_VALUE;

    private Waiting() {
    }

    /** A condition a waiter re-checks; true ends the wait. May have effects (such as taking a lock). */
    @FunctionalInterface
    public interface Ready {
        boolean ready();

        /**
         * The same check, made right after the waiter registered itself as a sleeper (so it counts
         * itself in {@link WaitWord#sleepers()}); a lock overrides it so as not to mistake itself for
         * another sleeper.
         */
        default boolean readyAsSleeper() {
            return ready();
        }
    }

    /** The longest timeout in nanoseconds; a constant so that a timed call does not allocate it. */
    private static final java.time.Duration MAX_NANOS = java.time.Duration.ofNanos(Long.MAX_VALUE);

    /**
     * A timed call's timeout in nanoseconds, saturating at {@code Long.MAX_VALUE} (about 292 years), so
     * that "forever" written as a huge Duration waits instead of failing in {@code Duration.toNanos()}.
     *
     * @throws NullPointerException if {@code timeout} is null
     * @throws IllegalArgumentException naming the value if it is negative
     */
    public static long nanos(java.time.Duration timeout) {
        java.util.Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout=" + timeout + " must be >= 0");
        }
        return timeout.compareTo(MAX_NANOS) >= 0 ? Long.MAX_VALUE : timeout.toNanos();
    }

    /** The deadline ({@link System#nanoTime()} based) {@code nanos} from now, saturating; negative means 0. */
    public static long deadline(long nanos) {
        if (nanos <= 0) {
            return System.nanoTime();
        }
        long now = System.nanoTime();
        long d = now + nanos;
        return d < now ? FOREVER : d; // overflow (nanos > 0): forever, so that callers may compare with nanoTime too
    }

    /**
     * Called by a registered waiter right before it sleeps: announce the sleep where wakers look (a
     * lock sets its "waiters" bit). False means the state moved on, so the waiter re-checks instead.
     */
    @FunctionalInterface
    public interface BeforeSleep {
        boolean announce();
    }

    private static final BeforeSleep ALWAYS = () -> true;

    /**
     * A yield that returns later than this gave the core to another thread: the machine has more runnable
     * threads than cores, and a waiter that keeps yielding takes CPU from them (decision 118). A yield
     * with nothing else to run returns in about a microsecond.
     */
    static final long CROWDED_YIELD_NANOS = 100_000;

    /**
     * The strategy's longest sleep, checked before a wait registers anywhere: a user's strategy that
     * allows none (0 or less) would make every "sleep" a futex call that returns at once, a waiter
     * spinning on system calls where the strategy asked to sleep (decision 215).
     */
    private static long checkMaxSleep(IdleStrategy idle) {
        long max = idle.maxSleepNanos();
        if (max <= 0) {
            throw new IllegalArgumentException("idle=" + idle + ": maxSleepNanos()=" + max + " must be > 0");
        }
        return max;
    }

    /**
     * Waits until {@code ready} returns true or the deadline passes.
     *
     * @param interruptible throw InterruptedException when interrupted (else keep the interrupt status)
     * @return true if ready, false at the deadline
     */
    public static boolean await(WaitWord word, IdleStrategy idle, Ready ready, long deadline, boolean interruptible)
            throws InterruptedException {
        return await(word, idle, ready, ALWAYS, deadline, interruptible);
    }

    /**
     * Waits like {@link #await(WaitWord, IdleStrategy, Ready, long, boolean)}; before each sleep, after
     * registering and reading the sequence, {@code beforeSleep} announces it (or says to re-check).
     */
    public static boolean await(WaitWord word, IdleStrategy idle, Ready ready, BeforeSleep beforeSleep, long deadline,
                                boolean interruptible) throws InterruptedException {
        boolean interrupted = false;
        // True from a sleep that ended because the sequence moved (a wake-up, perhaps the one meant for
        // this waiter) until this waiter sleeps again. Leaving unsuccessfully in between passes it on.
        boolean woken = false;
        boolean done = false;
        long maxSleep = checkMaxSleep(idle);
        long nap = Math.min(WaitWord.FIRST_SLEEP_NANOS, maxSleep);
        // The default strategy yields a while longer when this word's recent waits ended soon after its
        // fixed spin (WaitWord.learn); yieldFrom is when this wait first reached a sleeping round.
        boolean adaptive = idle == IdleStrategy.blocking();
        // NOTE: a virtual thread never sleeps in a futex: the system call pins its carrier, and a holder
        // that is itself a virtual thread and unmounted (sleep, I/O) could then never run again to
        // release what its waiters wait for (decision 192). It pauses instead: the strategy's pause
        // parks (backoff up to ~1 ms for the default), which gives the carrier back.
        boolean mayBlock = !Thread.currentThread().isVirtual();
        long yieldFrom = 0;
        long lastYield = 0;
        boolean learning = false;
        try {
            for (int round = 0; ; round++) {
                if (ready.ready()) {
                    done = true;
                    if (learning) {
                        word.learn(System.nanoTime() - yieldFrom);
                    }
                    return true;
                }
                if (interruptible && Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long remaining = deadline == FOREVER ? Long.MAX_VALUE : deadline - System.nanoTime();
                if (remaining <= 0) {
                    if (learning) {
                        word.learn(-1);
                    }
                    return false;
                }
                if (mayBlock && idle.sleepAt(round)) {
                    if (adaptive) {
                        long now = System.nanoTime();
                        if (!learning) {
                            learning = true;
                            yieldFrom = now;
                            lastYield = now;
                        }
                        // NOTE: yielding, this waiter is not registered: a peer that answers now skips
                        // its futex wake, and this waiter sees the answer without a wake-up latency. A
                        // yield that took long means other threads wait for this core (a loaded machine):
                        // then this waiter sleeps rather than take turns with them.
                        if (now - yieldFrom < word.yieldNanos() && now - lastYield < CROWDED_YIELD_NANOS) {
                            Thread.yield();
                            lastYield = System.nanoTime();
                            continue;
                        }
                    }
                    boolean slept = false;
                    word.register();
                    try {
                        int seq = word.sequence();
                        if (ready.readyAsSleeper()) {
                            done = true;
                            if (learning) {
                                word.learn(System.nanoTime() - yieldFrom);
                            }
                            return true;
                        }
                        // NOTE: announced after the sequence is read: a waker that sees the announcement
                        // bumps the sequence afterwards, so this sleep cannot miss its wake-up.
                        if (beforeSleep.announce()) {
                            woken = false; // sleeping again: this waiter is in line once more
                            word.sleep(seq, Math.min(remaining, nap));
                            slept = true;
                        }
                        woken |= word.sequence() != seq;
                    } finally {
                        word.unregister();
                    }
                    if (!interruptible && Thread.interrupted()) {
                        interrupted = true;
                    }
                    if (woken || !slept) {
                        round = -1; // woken: spin again before the next sleep, as the holder may be about to release
                        nap = Math.min(WaitWord.FIRST_SLEEP_NANOS, maxSleep);
                    } else {
                        // NOTE: the sleep timed out (nothing changed): an idle waiter goes back to sleep
                        // without spinning again, for longer, so a long idle wait costs a re-check per sleep.
                        round--;
                        nap = Math.min(nap * 2, maxSleep);
                    }
                } else {
                    idle.pause(round);
                    if (!interruptible && Thread.interrupted()) {
                        interrupted = true; // parkNanos returns at once while interrupted: clear, restore later
                    }
                }
                if (round == Integer.MAX_VALUE - 1) {
                    round = IdleStrategy.Strategies.SPINS + IdleStrategy.Strategies.YIELDS;
                }
            }
        } finally {
            if (woken && !done) {
                // NOTE: this waiter may have taken the wake-up of a release meant for the next sleeper
                // (FUTEX_WAKE picked it) and now leaves on a timeout, an interrupt or an exception: pass
                // it on, so that no sleeper waits for a wake-up that was spent on a waiter that left.
                word.wake(1);
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
