package io.multiproc.sync;

import io.multiproc.codec.SharedHandle;
import io.multiproc.codec.BufferSink;
import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.CodecException;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.InFlight;
import io.multiproc.internal.MappedObject;
import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.Releases;
import io.multiproc.internal.SharedSegments;
import io.multiproc.process.SerializableRunnable;
import io.multiproc.wait.IdleStrategy;
import io.multiproc.wait.WaitWord;
import io.multiproc.wait.Waiting;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.multiproc.sync.BarrierLayout.BROKEN;
import static io.multiproc.sync.BarrierLayout.DEATHS;
import static io.multiproc.sync.BarrierLayout.NONE;
import static io.multiproc.sync.BarrierLayout.PARTIES;
import static io.multiproc.sync.BarrierLayout.STATE;
import static io.multiproc.sync.BarrierLayout.TRIPPED;
import static io.multiproc.sync.BarrierLayout.USERS;
import static io.multiproc.sync.BarrierLayout.outcomeSlot;
import static io.multiproc.sync.BarrierLayout.userSlot;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A barrier for a fixed number of parties in any processes: Python's {@code multiprocessing.Barrier},
 * with {@link java.util.concurrent.CyclicBarrier}'s vocabulary.
 *
 * <pre>{@code
 * try (SharedBarrier step = SharedBarrier.create(3, () -> System.out.println("all arrived"))) {
 *     for (int i = 0; i < 2; i++) {
 *         ChildProcess.start(() -> { for (int r = 0; r < 10; r++) step.await(); });
 *     }
 *     for (int r = 0; r < 10; r++) step.await(Duration.ofSeconds(5));
 * }
 * }</pre>
 *
 * <p>{@link #await()} returns the arrival index: {@code parties - 1} for the first to arrive, 0 for
 * the last, which also runs the action (if any) before the others are released; parties arriving for
 * the next pass meanwhile wait until the action has ended (their timeout counts). A timeout, an
 * interrupt, {@link #abort()}, a {@link #reset()} while parties wait, or the death of a process using
 * the barrier breaks the current generation: its waiters get {@link BrokenBarrierException} (the one
 * that timed out gets {@link TimeoutException}), and later calls do too until {@link #reset()}. Once
 * the last party has arrived, a timeout or an interrupt no longer breaks the pass: the waiter waits for
 * the action to end and returns normally (keeping its interrupt), as with {@code CyclicBarrier}.
 *
 * <h2>Implementation overview</h2>
 * One CAS-ed long holds the generation and the arrivals. The last arrival completes the generation (the
 * same CAS), runs the action, records TRIPPED in the generation's outcome entry, starts the next generation
 * and wakes everyone; waiters leave when their generation's outcome is set, and no pass trips while an
 * action runs, so an outcome never lands in the ring entry of a later generation. Breaking CASes the
 * outcome from NONE to BROKEN, so a generation either trips or breaks, never both. Dead parties: the barrier keeps its own table of the processes using it
 * (one entry per process, {@link BarrierLayout#USERS} at most: one more fails to attach), written only
 * by the barrier, so no cleanup elsewhere can hide a death. A process enters its token with its first
 * handle and removes it with its last (or at a normal exit). While waiting, each waiter looks (every
 * 100 ms) for entries whose process died; it CASes such an entry to 0 (so a death counts once), adds
 * it to the barrier's deaths word and breaks its generation and the current one (within about 150 ms of
 * the death). Every waiter also breaks its own generation once the deaths word differs from what it
 * read when it arrived. Once every party of a pass has arrived, only the death of the party running
 * the action breaks it: its waiters check the tripper the layout records (until it is recorded, any
 * death counts), so a waiter of an earlier pass learns of that death even when a waiter of the next
 * pass found it first. A process attaching to a full table does the same with the dead entries it
 * finds before giving up.
 */
public final class SharedBarrier extends MappedObject implements Serializable {
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final long DEATH_CHECK_NANOS = 100_000_000L;
    /** {@link #afterAction}: an abort (or a break of the next pass) came last while the action ran. */
    private static final int ABORTED = 1;
    /** {@link #afterAction}: a reset came last while the action ran. */
    private static final int RESET = 2;
    private static final long ME = ProcessIdentity.current().token();

    /**
     * The barriers this process has handles on, by segment name: how many handles, so that the process's
     * user entry goes with its last handle, and the segment, to remove the entry at a normal exit.
     */
    private static final Map<String, Use> USES = new HashMap<>(); // guarded by itself
    private static boolean exitHookAdded; // guarded by USES

    private static final class Use {
        final MemorySegment whole;
        int handles = 1;

        Use(MemorySegment whole) {
            this.whole = whole;
        }
    }

    final transient WaitWord word;
    private final transient IdleStrategy idle;
    private final transient int parties;
    /** The creator's own action, or the stored one decoded on the first trip in another process. */
    private transient Runnable action;
    /** Set once this handle has given up its share of the process's user entry. */
    private final transient AtomicBoolean left = new AtomicBoolean();

    private SharedBarrier(SharedSegments.Mapping mapping, IdleStrategy idle) {
        super(mapping);
        this.idle = Objects.requireNonNull(idle, "idle");
        this.word = new WaitWord(whole, BarrierLayout.SEQ, BarrierLayout.SLEEPERS);
        this.parties = whole.get(JAVA_INT, PARTIES);
        try {
            enter();
        } catch (RuntimeException | Error e) {
            mapping.release();
            throw e;
        }
    }

    /** A barrier for {@code parties > 0} parties, without action. */
    public static SharedBarrier create(int parties) {
        return create(parties, null, IdleStrategy.blocking());
    }

    /**
     * A barrier for {@code parties > 0} parties whose last arrival in each generation runs
     * {@code action} (encoded now through the default codec, so it can run in any process; null for none).
     */
    public static SharedBarrier create(int parties, SerializableRunnable action) {
        return create(parties, action, IdleStrategy.blocking());
    }

    /** A barrier for {@code parties > 0} parties, without action, whose waiters in this process use {@code idle}. */
    public static SharedBarrier create(int parties, IdleStrategy idle) {
        return create(parties, null, idle);
    }

    /** Like {@link #create(int, SerializableRunnable)}, with waiters in this process using {@code idle}. */
    public static SharedBarrier create(int parties, SerializableRunnable action, IdleStrategy idle) {
        Objects.requireNonNull(idle, "idle");
        if (parties <= 0) {
            throw new IllegalArgumentException("parties=" + parties + " must be > 0");
        }
        byte[] code = action == null ? new byte[0] : serialize(action);
        if (code.length > BarrierLayout.MAX_ACTION_BYTES) {
            throw new IllegalArgumentException("action of " + code.length + " serialized bytes is larger than "
                    + BarrierLayout.MAX_ACTION_BYTES);
        }
        SharedBarrier b = new SharedBarrier(SyncSegments.create(BarrierLayout.MAGIC, BarrierLayout.VERSION, BarrierLayout.KIND,
                BarrierLayout.ACTION + Math.max(8, code.length), seg -> {
                    seg.set(JAVA_INT, PARTIES, parties);
                    seg.set(JAVA_INT, BarrierLayout.LAST_BROKEN, -1); // none: generations start at 0
                    seg.set(JAVA_INT, BarrierLayout.ACTION_LENGTH, code.length);
                    MemorySegment.copy(code, 0, seg, JAVA_BYTE, BarrierLayout.ACTION, code.length);
                }), idle);
        // NOTE: the creator runs the action object it was given. Decoding the stored copy here would
        // attach a second handle to every shared object the action captures, held until this JVM exits.
        b.action = action;
        return b;
    }

    public static SharedBarrier attach(String name) {
        return new SharedBarrier(SyncSegments.attach(name, "SharedBarrier", BarrierLayout.MAGIC, BarrierLayout.VERSION,
                BarrierLayout.KIND), IdleStrategy.blocking());
    }

    /**
     * Detaches this handle; the last handle of this process also removes the process from the barrier's
     * users, so that its exit is not taken for a death. Idempotent.
     */
    @Override
    public void close() {
        // NOTE: this handle's waiters, woken, see it closed; they break their pass (the other parties would
        // wait for them for ever) and fail. Their pins keep the mapping.
        closeWaking(() -> {
            if (left.compareAndSet(false, true)) {
                leave(); // NOTE: before unmapping, while this handle still maps the table
            }
        }, word::wakeAll);
    }

    /** Records this process as a user of the barrier, with its first handle (see {@link BarrierLayout}). */
    private void enter() {
        synchronized (USES) {
            Use use = USES.get(name());
            if (use != null) {
                use.handles++;
                return;
            }
            claimUserEntry();
            USES.put(name(), new Use(whole));
            if (!exitHookAdded) {
                exitHookAdded = true;
                try {
                    Runtime.getRuntime().addShutdownHook(new Thread(SharedBarrier::leaveAllAtExit, "multiproc-barriers-exit"));
                } catch (IllegalStateException exiting) {
                    // attached during this JVM's exit: its entry stays, and its users may take the exit for a death
                }
            }
        }
    }

    private void claimUserEntry() {
        for (;;) {
            for (int i = 0; i < USERS; i++) {
                if (LONG.compareAndSet(whole, userSlot(i), 0L, ME)) {
                    return;
                }
            }
            if (removeDeadUsers() == 0) {
                throw new IllegalStateException("SharedBarrier '" + name() + "' is already used by " + USERS
                        + " processes, the most one barrier can tell the deaths of");
            }
            breakFilling(); // those dead users will never arrive
        }
    }

    /** The close's leave, as an action that does not reach this object (decision 169). */
    @Override
    protected Runnable releaseMore() {
        AtomicBoolean gone = left;
        String name = name();
        MemorySegment table = whole;
        return () -> {
            if (gone.compareAndSet(false, true)) {
                leave(name, table);
            }
        };
    }

    private void leave() {
        leave(name(), whole);
    }

    private static void leave(String name, MemorySegment whole) {
        synchronized (USES) {
            Use use = USES.get(name);
            if (use == null || --use.handles > 0) {
                return; // null: already removed at exit
            }
            USES.remove(name);
            removeMyEntry(whole);
        }
    }

    private static void removeMyEntry(MemorySegment whole) {
        for (int i = 0; i < USERS; i++) {
            if (LONG.compareAndSet(whole, userSlot(i), ME, 0L)) {
                return;
            }
        }
    }

    /**
     * A normal exit is no death: remove this process's entries, or the parties left waiting would take
     * its exit (it closed nothing, as programs often do) for a crash and break.
     */
    private static void leaveAllAtExit() {
        synchronized (USES) {
            for (Use use : USES.values()) {
                removeMyEntry(use.whole);
            }
            USES.clear();
        }
    }

    /**
     * Removes the entries of users that died (CAS to 0: whoever wins counts that death, once, in the
     * deaths word); how many this call removed.
     */
    private int removeDeadUsers() {
        int dead = 0;
        for (int i = 0; i < USERS; i++) {
            long slot = userSlot(i);
            long token = (long) LONG.getVolatile(whole, slot);
            if (token != 0 && token != ME && !ProcessIdentity.isAlive(token)
                    && LONG.compareAndSet(whole, slot, token, 0L)) {
                INT.getAndAdd(whole, DEATHS, 1);
                dead++;
            }
        }
        return dead;
    }

    public int getParties() {
        ensureOpen();
        return parties;
    }

    /**
     * Parties waiting right now: 0 once the current generation is broken (its waiters leave with an
     * exception, as {@code CyclicBarrier} and Python's {@code n_waiting} count them).
     */
    public int getNumberWaiting() {
        ensureOpen();
        long s = (long) LONG.getVolatile(whole, STATE);
        if (complete(s)) {
            return 0; // the last party runs the action; the next pass's arrivals wait for it outside
        }
        int gen = generationOf(s);
        // NOTE: a break leaves the arrivals in the state word (only a trip or reset starts a new one)
        return outcomeOf((long) LONG.getVolatile(whole, outcomeSlot(gen)), gen) == BROKEN ? 0 : (int) s;
    }

    /** True if the current generation was broken (and not yet {@link #reset()}). */
    public boolean isBroken() {
        ensureOpen();
        long s = (long) LONG.getVolatile(whole, STATE);
        if (complete(s)) {
            return afterAction(s) == ABORTED; // the next pass, whose entry is written when the action ends
        }
        int gen = generationOf(s);
        return outcomeOf((long) LONG.getVolatile(whole, outcomeSlot(gen)), gen) == BROKEN;
    }

    /** Waits until all parties have arrived; returns this party's arrival index. */
    public int await() throws InterruptedException, BrokenBarrierException {
        ensureOpen();
        try {
            return pinnedAwait(Waiting.FOREVER);
        } catch (TimeoutException impossible) {
            throw new AssertionError(impossible);
        }
    }

    /**
     * Waits at most {@code timeout}; on timeout the barrier breaks and this call throws TimeoutException.
     */
    public int await(Duration timeout) throws InterruptedException, BrokenBarrierException, TimeoutException {
        ensureOpen();
        long nanos = Waiting.nanos(timeout);
        return pinnedAwait(Waiting.deadline(nanos));
    }

    /**
     * A wait pins the mapping, so that a close() by another thread of this process cannot unmap the
     * barrier under it: the waiter then sees the handle closed, breaks its pass if it is still missing
     * parties, and throws IllegalStateException naming the barrier.
     */
    private int pinnedAwait(long deadline) throws InterruptedException, BrokenBarrierException, TimeoutException {
        SharedSegments.Mapping pin = pinOpen();
        try {
            return doAwait(deadline);
        } finally {
            pin.release();
        }
    }

    private int doAwait(long deadline) throws InterruptedException, BrokenBarrierException, TimeoutException {
        if (isBroken()) {
            throw broken(); // NOTE: before the interrupt, which it leaves set, as CyclicBarrier does
        }
        if (Thread.interrupted()) {
            breakFilling();
            throw new InterruptedException();
        }
        for (;;) {
            if (isBroken()) {
                throw broken();
            }
            int deaths = deaths(); // NOTE: before arriving: a death found after this breaks the pass it joins
            long s = (long) LONG.getVolatile(whole, STATE);
            int gen = generationOf(s);
            if (complete(s)) {
                // NOTE: no arrival while the last party of gen runs the action (as CyclicBarrier and CPython's
                // Barrier): a pass that tripped meanwhile would let passes lap the outcome ring, so that
                // gen's outcome, written late, took the entry of a pass 64 generations on (decision 236)
                awaitPassEnd(gen, deadline);
                continue;
            }
            int arrived = (int) s + 1;
            // NOTE: the last arrival's CAS completes gen; the state moves on only once its outcome is set
            if (LONG.compareAndSet(whole, STATE, s, s + 1)) {
                if (arrived == parties) {
                    recordTripper(gen);
                    trip(gen);
                    return 0;
                }
                awaitOutcome(gen, deadline, deaths);
                return parties - arrived;
            }
        }
    }

    private void trip(int gen) throws BrokenBarrierException {
        long slot = outcomeSlot(gen);
        if (outcomeOf((long) LONG.getVolatile(whole, slot), gen) == BROKEN) {
            // a waiter gave up just before this trip was claimed: no action for a broken generation
            endPass(gen, false);
            throw broken();
        }
        try {
            Runnable a = action();
            if (a != null) {
                a.run();
            }
        } catch (RuntimeException | Error e) {
            breakGeneration(gen);
            endPass(gen, false); // as CyclicBarrier: broken for later parties too, until reset()
            throw e;
        }
        long stale = (long) LONG.getVolatile(whole, slot);
        if (outcomeOf(stale, gen) != NONE || isLater(stale, gen)
                || !LONG.compareAndSet(whole, slot, stale, (long) gen << 2 | TRIPPED)) {
            endPass(gen, false); // broken while the action ran (a user died): for later parties too
            throw broken();
        }
        endPass(gen, true);
    }

    /**
     * Generation {@code gen}, complete, has its outcome: starts the next generation, broken if the last
     * {@link #abort()} or break of it came after the last {@link #reset()} during the action, or if neither
     * came and gen did not trip (as CyclicBarrier); then wakes everyone. Called by gen's last party, or by
     * whoever found that party dead; a no-op if the state has moved on already.
     */
    private void endPass(int gen, boolean tripped) {
        for (;;) {
            long s = (long) LONG.getVolatile(whole, STATE);
            if (generationOf(s) != gen || !complete(s)) {
                break;
            }
            int after = afterAction(s);
            if (after == ABORTED || after == 0 && !tripped) {
                breakGeneration(gen + 1); // NOTE: before the state shows gen + 1, so no party finds it whole
            }
            if (LONG.compareAndSet(whole, STATE, s, (long) (gen + 1) << 32)) {
                break;
            }
        }
        word.wakeAll();
    }

    /**
     * Breaks the pass arrivals join now: the current generation, or while its action runs the next one,
     * by recording in the state that it is to start broken (its ring entry is not written before the
     * action ends, so no entry beyond the next generation's is ever written).
     */
    private void breakFilling() {
        for (;;) {
            long s = (long) LONG.getVolatile(whole, STATE);
            if (!complete(s)) {
                breakGeneration(generationOf(s));
                return;
            }
            if (afterAction(s) == ABORTED || LONG.compareAndSet(whole, STATE, s, withAfterAction(s, ABORTED))) {
                return;
            }
        }
    }

    /**
     * Generation {@code gen} is complete and broken, and its last party is dead or not recorded yet: ends
     * the pass unless that party is recorded now and alive (it will end the pass itself, after the action).
     */
    private void endPassOfGoneTripper(int gen) {
        long tripper = tripperOf(gen);
        if (tripper == 0 || !ProcessIdentity.isAlive(tripper)) {
            endPass(gen, false);
        }
    }

    /**
     * An arrival while the last party of {@code gen} runs the action waits until the pass has ended, or
     * ends it itself if that party died. At its deadline, or on an interrupt, it breaks the pass it
     * was going to join (as a party of that pass would) and throws.
     */
    private void awaitPassEnd(int gen, long deadline) throws InterruptedException, TimeoutException {
        int deaths = deaths();
        long[] lastDeathCheck = {System.nanoTime()};
        boolean ended;
        try {
            ended = Waiting.await(word, idle, () -> {
                long s = (long) LONG.getVolatile(whole, STATE);
                if (generationOf(s) != gen || !complete(s) || isClosed()) {
                    return true;
                }
                // as its waiters do: any death counts while the tripper is unknown
                return endedByDeath(gen, tripperOf(gen), deaths, lastDeathCheck);
            }, deadline, true);
        } catch (InterruptedException e) {
            breakFilling();
            throw e;
        }
        if (isClosed()) {
            throw closedException();
        }
        if (!ended) {
            breakFilling();
            throw new TimeoutException("SharedBarrier '" + name() + "': timed out waiting for " + parties + " parties");
        }
    }

    private void awaitOutcome(int gen, long deadline, int deaths) throws InterruptedException, BrokenBarrierException, TimeoutException {
        boolean done;
        boolean interrupted = false;
        try {
            done = waitForOutcome(gen, deadline, true, deaths);
        } catch (InterruptedException e) {
            if (giveUp(gen)) {
                throw e;
            }
            interrupted = true; // every party had arrived: keep the interrupt, report the pass
            done = false;
        }
        if (!done && !interrupted) {
            if (SyncFaults.ENABLED) {
                SyncFaults.at(SyncFaults.Point.BARRIER_TIMED_OUT);
            }
            if (giveUp(gen)) {
                throw new TimeoutException("SharedBarrier '" + name() + "': timed out waiting for " + parties + " parties");
            }
        }
        if (done) {
            failIfClosedWithoutOutcome(gen);
        } else {
            // the last party runs the action: its outcome decides, or its death (found by anyone) breaks gen
            waitForOutcome(gen, Waiting.FOREVER, false, deaths);
            failIfClosedWithoutOutcome(gen);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (outcome(gen) == BROKEN) {
            throw broken();
        }
    }

    /**
     * A waiter of {@code gen} that left its wait because this handle was closed: it breaks {@code gen} if
     * parties are still missing (they would wait for it for ever) and throws; a pass that had every party
     * stands.
     */
    private void failIfClosedWithoutOutcome(int gen) {
        if (isClosed() && outcome(gen) == NONE) {
            giveUp(gen);
            throw closedException();
        }
    }

    /**
     * Waits until generation {@code gen} has an outcome, or breaks it on a death that concerns it; false
     * at the deadline; true as well once this handle is closed. While parties are missing, any user's
     * death found since the deaths word read {@code deaths} (by this waiter or any other) concerns it;
     * once every party arrived, only its tripper's (any death's while the tripper is not recorded yet).
     */
    private boolean waitForOutcome(int gen, long deadline, boolean interruptible, int deaths) throws InterruptedException {
        long[] lastDeathCheck = {System.nanoTime()};
        return Waiting.await(word, idle, () -> {
            if (outcome(gen) != NONE || isClosed()) {
                return true;
            }
            long s = (long) LONG.getVolatile(whole, STATE);
            long tripper = generationOf(s) == gen && !complete(s) ? 0 : tripperOf(gen);
            return endedByDeath(gen, tripper, deaths, lastDeathCheck);
        }, deadline, interruptible);
    }

    /**
     * One look, from a wait on generation {@code gen}'s pass, for a death that ends it: true if it broke and
     * ended the pass. {@code tripper} is the party running the action (0 while not known: then any death
     * since the deaths word read {@code deaths} counts); {@code lastDeathCheck[0]} paces the scan for dead users.
     */
    private boolean endedByDeath(int gen, long tripper, int deaths, long[] lastDeathCheck) {
        if (tripper == 0 && deaths() != deaths) {
            breakGeneration(gen);
            endPassOfGoneTripper(gen);
            return true;
        }
        long now = System.nanoTime();
        if (now - lastDeathCheck[0] >= DEATH_CHECK_NANOS) {
            lastDeathCheck[0] = now;
            if (removeDeadUsers() > 0) {
                breakFilling(); // parties yet to arrive for the next pass wait for the dead one too
                if (tripper == 0) {
                    breakGeneration(gen);
                    endPassOfGoneTripper(gen);
                    return true;
                }
            }
            if (tripper != 0 && !ProcessIdentity.isAlive(tripper)) {
                breakGeneration(gen); // the action's runner died: no outcome will come
                endPass(gen, false);
                return true;
            }
        }
        return false;
    }

    /** Records this process as the party running generation {@code gen}'s action (see {@link BarrierLayout}). */
    private void recordTripper(int gen) {
        long slot = BarrierLayout.tripperSlot(gen);
        LONG.setVolatile(whole, slot, Long.MIN_VALUE);
        LONG.setVolatile(whole, slot + 8, ME);
        LONG.setVolatile(whole, slot, (long) gen);
    }

    /** The token of the process running generation {@code gen}'s action, or 0 if not recorded (yet, or any more). */
    private long tripperOf(int gen) {
        long slot = BarrierLayout.tripperSlot(gen);
        if ((long) LONG.getVolatile(whole, slot) != gen) {
            return 0;
        }
        long token = (long) LONG.getVolatile(whole, slot + 8);
        return (long) LONG.getVolatile(whole, slot) == gen ? token : 0;
    }

    private int deaths() {
        return (int) INT.getVolatile(whole, DEATHS);
    }

    /**
     * A waiter of {@code gen} whose time ran out or who was interrupted: true if {@code gen} is broken
     * (this call breaks it if need be), so the waiter reports its own reason; false if the last party
     * had already arrived, so the waiter waits for that party's outcome instead.
     */
    private boolean giveUp(int gen) {
        // NOTE: once the last arrival's CAS has completed gen, every party was there, and the pass stands
        // (as in CyclicBarrier and CPython's Barrier, where a late waiter gets the lock only after the
        // action). A reset moves STATE on, after it broke gen.
        long s = (long) LONG.getVolatile(whole, STATE);
        if (generationOf(s) == gen && !complete(s)) {
            return breakGeneration(gen);
        }
        return outcome(gen) == BROKEN;
    }

    /**
     * Marks generation {@code gen} broken unless it tripped; true if this call (or an earlier one) broke
     * it. Only that generation: a waiter that gives up after a reset breaks its old generation, never
     * the new one (a barrier-wide "broken" flag did, so every later await failed until the next reset).
     */
    private boolean breakGeneration(int gen) {
        long slot = outcomeSlot(gen);
        for (;;) {
            long entry = (long) LONG.getVolatile(whole, slot);
            int outcome = outcomeOf(entry, gen);
            if (outcome == TRIPPED) {
                return false;
            }
            if (outcome == BROKEN || isLater(entry, gen)) {
                return true; // NOTE: a later generation's entry: gen ended long ago; never overwrite it
            }
            raiseLastBroken(gen); // NOTE: before the entry, so a waiter that finds it taken later knows
            if (LONG.compareAndSet(whole, slot, entry, (long) gen << 2 | BROKEN)) {
                word.wakeAll();
                return true;
            }
        }
    }

    /**
     * Generation {@code gen}'s outcome, for its waiters. A waiter not scheduled while 64 later passes went by
     * finds its entry taken by a later generation: gen ended then (passes do not trip while an action runs,
     * and only the current and next generations' entries are written), and it tripped unless some
     * generation from gen on broke: then BROKEN, which may be wrong, but never waits for ever.
     */
    private int outcome(int gen) {
        long entry = (long) LONG.getVolatile(whole, outcomeSlot(gen));
        int outcome = outcomeOf(entry, gen);
        if (outcome == NONE && isLater(entry, gen)) {
            return (int) INT.getVolatile(whole, BarrierLayout.LAST_BROKEN) - gen >= 0 ? BROKEN : TRIPPED;
        }
        return outcome;
    }

    /** Makes the last-broken word at least {@code gen} (wrapping as int). */
    private void raiseLastBroken(int gen) {
        for (;;) {
            int last = (int) INT.getVolatile(whole, BarrierLayout.LAST_BROKEN);
            if (last - gen >= 0 || INT.compareAndSet(whole, BarrierLayout.LAST_BROKEN, last, gen)) {
                return;
            }
        }
    }

    private static int outcomeOf(long entry, int gen) {
        return (int) (entry >>> 2) == gen ? (int) (entry & 3) : NONE;
    }

    /** True if ring entry {@code entry} is that of a generation after {@code gen} (wrapping as int). */
    private static boolean isLater(long entry, int gen) {
        return (int) (entry >>> 2) - gen > 0;
    }

    private static int generationOf(long state) {
        return (int) (state >>> 32);
    }

    /** True while the generation in {@code state} has all its parties and its last one runs the action. */
    private boolean complete(long state) {
        return (state & 0xFFFF_FFFFL) >= parties;
    }

    /**
     * Of a complete generation's state: 0, or which of {@link #abort()} (or a break of the next pass) and
     * {@link #reset()} came last while the action ran: {@link #ABORTED} or {@link #RESET}.
     */
    private int afterAction(long state) {
        return (int) ((state & 0xFFFF_FFFFL) - parties);
    }

    private long withAfterAction(long state, int after) {
        return (state & ~0xFFFF_FFFFL) | (parties + (long) after);
    }

    /** Breaks the barrier: waiting and later parties get BrokenBarrierException until {@link #reset()}. */
    public void abort() {
        ensureOpen();
        breakFilling();
    }

    /**
     * Returns the barrier to its initial state: parties waiting now get BrokenBarrierException, later
     * ones start a new generation.
     */
    public void reset() {
        ensureOpen();
        for (;;) {
            long s = (long) LONG.getVolatile(whole, STATE);
            int gen = generationOf(s);
            if (complete(s)) {
                // NOTE: the pass stands, as if this reset came after its action (CyclicBarrier's reset() waits
                // for the lock the action holds): the last party starts the next generation whole
                if (afterAction(s) == RESET || LONG.compareAndSet(whole, STATE, s, withAfterAction(s, RESET))) {
                    return;
                }
                continue;
            }
            if ((int) s > 0) {
                breakGeneration(gen);
            }
            if (LONG.compareAndSet(whole, STATE, s, (long) (gen + 1) << 32)) {
                word.wakeAll();
                return;
            }
        }
    }

    private BrokenBarrierException broken() {
        return new BrokenBarrierException("SharedBarrier '" + name() + "' is broken");
    }

    private Runnable action() {
        Runnable a = action;
        if (a == null) {
            int len = whole.get(JAVA_INT, BarrierLayout.ACTION_LENGTH);
            if (len == 0) {
                return null;
            }
            // NOTE: the shared objects the action captures are attached here and closed by nobody: they are
            // let go once this handle (which keeps the action) is no longer reached, not at this JVM's exit
            InFlight flight = InFlight.here();
            int mark = flight.beginCollect();
            try {
                a = (Runnable) BuiltinCodec.taskCodec().decode(new SegmentSource().reset(whole, BarrierLayout.ACTION, len));
            } catch (CodecException | ClassCastException e) {
                throw new IllegalStateException("SharedBarrier '" + name() + "': cannot decode its action: " + e.getMessage(), e);
            } finally {
                Releases.releaseWhenUnreachable(flight.endCollect(mark));
            }
            action = a;
        }
        return a;
    }

    /** The action's bytes through the task codec (a lambda, like a child's task); fails here, naming the class, if it cannot travel. */
    private static byte[] serialize(SerializableRunnable action) {
        BufferSink sink = new BufferSink(256);
        try {
            BuiltinCodec.taskCodec().encode(action, sink); // code the program itself sends: the task list
        } catch (CodecException e) {
            throw new IllegalArgumentException("action cannot be sent to other processes: " + e.getMessage(), e);
        }
        return sink.toByteArray();
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return closedString();
        }
        return "SharedBarrier[name=" + name() + ", parties=" + parties + ", waiting=" + getNumberWaiting()
                + (isBroken() ? ", broken" : "") + "]";
    }

    @Serial
    Object writeReplace() {
        return new Handle(nameInFlight());
    }

    record Handle(String name) implements Serializable, SharedHandle {
        @Serial
        Object readResolve() throws ObjectStreamException {
            try {
                return SharedBarrier.attach(name);
            } catch (RuntimeException e) {
                throw SyncSegments.cannotResolve("SharedBarrier", name, e);
            }
        }
    }
}
