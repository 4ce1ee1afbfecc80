package io.multiproc.process;

import io.multiproc.Multiproc;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Child JVMs started ahead of time, each booted, warmed up and blocked reading its control channel, so
 * that {@link ChildProcess#start()} only has to send the task. Spares are used only for children with
 * default JVM options. They die with this JVM like any child (their stdin closes and PR_SET_PDEATHSIG
 * fires).
 *
 * <h2>Policy</h2>
 * <ul>
 *   <li><b>How many.</b> {@code base} spares (default 1, {@code -Dmultiproc.spareJvms}; 0 turns spares
 *       off) and, on top, as many as the program's recent peak of concurrently running children, at
 *       least {@link Multiproc#cpuCount()} once a second child was started, and at least what a caller
 *       {@link #reserve reserved} (a Pool for its workers); never more than {@code max} (default
 *       {@code max(4, cpuCount)}, {@code -Dmultiproc.spareJvms.max}) unless reserved.</li>
 *   <li><b>When they boot.</b> One at a time, while no other JVM boots (a cold child, a spare taken
 *       before it had booted, another spare), and only on cores the program's children leave idle: while
 *       the running children plus the booting JVMs are fewer than cpuCount. A burst of k long-running
 *       children therefore gets its replacements after it, not during it, and back-to-back starts never
 *       wait for a JVM that shares the cores with another one booting. A replacement for a spare just
 *       taken waits while that child runs, up to {@link #REPLACEMENT_DELAY_NANOS}, if a booted spare is
 *       left (decision 125). Spares a Pool reserved boot up to
 *       {@code maxBooting} at once (the Pool waits for all of them). At most {@code maxBooting} JVMs (spares
 *       and cold children together; default cpuCount, {@code -Dmultiproc.maxBootingJvms}) boot at once:
 *       a cold start waits for a slot.</li>
 *   <li><b>Taking.</b> A start takes a booted spare if there is one, else the oldest spare still
 *       booting (it is further along than a new JVM would be), else waits for a spare whose launch is
 *       under way, and starts a JVM cold only when there is no spare at all. A spare taken while
 *       booting skips its warm-up. So back-to-back starts are never slower than cold ones.</li>
 *   <li><b>Retiring.</b> After {@code idleTimeout} without a start (default 30 s,
 *       {@code -Dmultiproc.spareJvms.idleTimeout=SECONDS}), the burst spares exit and {@code base}
 *       remain. An idle spare costs 80-96 MB of resident memory once warmed (BENCHMARKS.md, "Starts").</li>
 * </ul>
 *
 * <h2>For the Pool</h2>
 * {@link #reserve(int) reserve(k)} keeps k spares (booting now, on idle cores) until the next idle
 * period, and {@link #awaitBooted(int, Duration) awaitBooted(k, timeout)} waits until k have booted; a
 * Pool calls them before starting k workers with default JVM options, which then take the spares.
 *
 * <h2>Implementation overview</h2>
 * All state is guarded by {@code LOCK}. One daemon thread ({@code multiproc-spares}) runs {@link #tick}:
 * drops dead spares, retires after the idle timeout, and boots spares while the policy allows; it
 * re-runs every {@link #TICK_MILLIS} while a JVM is booting or spares are missing, and otherwise sleeps
 * until the next retirement. Starts, child exits and reservations wake it. Launches themselves happen on
 * the {@link Launcher} thread (decision 003). A JVM counts as booting until its process name says it has
 * booted ({@link ChildMain.State}, read from {@code /proc/PID/comm}): spares rename themselves when they
 * wait for a task, cold children when their task starts.
 */
final class SpareJvms {
    static final String PROPERTY = "multiproc.spareJvms";
    static final String MAX_PROPERTY = "multiproc.spareJvms.max";
    static final String IDLE_PROPERTY = "multiproc.spareJvms.idleTimeout";
    static final String BOOTING_PROPERTY = "multiproc.maxBootingJvms";
    static final int DEFAULT = 1;
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    static final int LIMIT = 64;
    /** How often the spares thread looks again while a JVM boots or spares are missing. */
    static final long TICK_MILLIS = 10;
    /**
     * How long a replacement spare waits after a start while the child runs and a booted spare is left
     * ({@code -Dmultiproc.spareJvms.replacementDelayMillis}, 0 for none).
     */
    static final long REPLACEMENT_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(
            millisProperty("multiproc.spareJvms.replacementDelayMillis", 250));
    /** Longest wait of a cold start for a boot slot; a JVM stuck booting must not block starts forever. */
    static final long SLOT_WAIT_MILLIS = 5_000;
    /**
     * JVMs of the default command in a row that exit before they boot (spares, and children with
     * default options that die at their start), after which no more spares are booted (decisions 218, 259).
     */
    static final int DEATHS_BEFORE_GIVING_UP = 3;

    /** Built on first use: System.getLogger boots java.util.logging (~20 ms on a program's first start). */
    private static final class Log {
        static final System.Logger LOG = System.getLogger("io.multiproc");
    }

    private static final Object LOCK = new Object();
    /** Spares not yet taken, booting or booted, oldest first. */
    private static final ArrayDeque<Process> SPARES = new ArrayDeque<>();
    /** Children still booting: cold ones, and spares taken before they had booted. */
    private static final List<Process> CHILDREN_BOOTING = new ArrayList<>();
    /** Dismissed spares still booting (they exit once booted). */
    private static final List<Process> OTHERS_BOOTING = new ArrayList<>();
    private static final ScheduledExecutorService TICKER = io.multiproc.internal.DaemonScheduler.create("multiproc-spares");

    private static int base = intProperty(PROPERTY, DEFAULT);
    private static int max = intProperty(MAX_PROPERTY, Math.min(LIMIT, Math.max(4, Multiproc.cpuCount())));
    private static int maxBooting = Math.max(1, intProperty(BOOTING_PROPERTY, Multiproc.cpuCount()));
    private static long idleNanos = idleProperty();
    /** Launch requests handed to the launcher thread that have not returned a process yet. */
    private static int launching;
    /** Of those, the spares. */
    private static int launchingSpares;
    /** Peak of concurrently running children since the last idle period. */
    private static int peak;
    /** Children started since the last idle period. */
    private static int started;
    /** Spares asked for by {@link #reserve} since the last idle period. */
    private static int reserved;
    private static long lastDemandNanos = System.nanoTime();
    /** When {@link #take} last gave a start a spare (or found none). */
    private static long lastStartNanos = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
    /** The spare {@link #take} gave last: its replacement waits while it runs (decision 125). */
    private static Process lastTaken;
    private static ScheduledFuture<?> nextTick;
    private static long nextTickAt = Long.MAX_VALUE;
    /**
     * JVMs that died before they booted since a spare was last seen booted (decisions 218, 259): spares
     * that exited on their own (the spares thread, in dropDeadSpares) and children with default options
     * that died at their start (the starting or settling thread, in {@link #couldNotBoot}). Under LOCK.
     */
    private static int diedInARow;

    private SpareJvms() {
    }

    // ---- configuration ----

    static int checkCount(int count) {
        if (count < 0 || count > LIMIT) {
            throw new IllegalArgumentException("spareJvms=" + count + " must be between 0 and " + LIMIT);
        }
        return count;
    }

    static int target() {
        synchronized (LOCK) {
            return base;
        }
    }

    /** Sets the base count; 0 turns spares off (existing ones exit). Also after spares were given up on. */
    static void setTarget(int count) {
        checkCount(count);
        synchronized (LOCK) {
            base = count;
            diedInARow = 0;
            dismissExtra();
        }
        tickNow();
    }

    static void setMax(int count) {
        checkCount(count);
        synchronized (LOCK) {
            max = count;
            dismissExtra();
        }
        tickNow();
    }

    static int max() {
        synchronized (LOCK) {
            return max;
        }
    }

    static Duration idleTimeout() {
        synchronized (LOCK) {
            return Duration.ofNanos(idleNanos);
        }
    }

    static void setIdleTimeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout=" + timeout + " must be > 0");
        }
        synchronized (LOCK) {
            idleNanos = io.multiproc.wait.Waiting.nanos(timeout);
        }
        tickNow();
    }

    static int maxBooting() {
        synchronized (LOCK) {
            return maxBooting;
        }
    }

    static void setMaxBooting(int count) {
        if (count < 1 || count > LIMIT) {
            throw new IllegalArgumentException("maxBootingJvms=" + count + " must be between 1 and " + LIMIT);
        }
        synchronized (LOCK) {
            maxBooting = count;
        }
        tickNow();
    }

    /** For tests: settings back to their defaults, the burst history forgotten, extra spares dismissed. */
    static void resetToDefaults() {
        synchronized (LOCK) {
            base = intProperty(PROPERTY, DEFAULT);
            max = intProperty(MAX_PROPERTY, Math.min(LIMIT, Math.max(4, Multiproc.cpuCount())));
            maxBooting = Math.max(1, intProperty(BOOTING_PROPERTY, Multiproc.cpuCount()));
            idleNanos = idleProperty();
            peak = 0;
            started = 0;
            reserved = 0;
            diedInARow = 0;
            dismissExtra();
        }
        tickNow();
    }

    // ---- what ChildProcess and Pool call ----

    /**
     * Asks for {@code count} spare JVMs to be kept (booting now, on idle cores) until the next idle
     * period: what a Pool calls before starting {@code count} workers, or to keep its replacements warm.
     * Starting with default JVM options then takes them. Package-private: the Pool's internal API.
     */
    static void reserve(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count=" + count + " must be >= 0");
        }
        synchronized (LOCK) {
            // NOTE: a pool larger than the limit (Pool.create() on a host of more than 64 CPUs) keeps
            // LIMIT spares; its other workers start cold, as the spare setting's own limit says
            reserved = Math.max(reserved, Math.min(count, LIMIT));
            lastDemandNanos = System.nanoTime();
        }
        tickNow();
    }

    /** Waits until at least {@code count} spares have booted (or fewer are wanted); false on timeout. */
    static boolean awaitBooted(int count, Duration timeout) throws InterruptedException {
        long deadline = io.multiproc.wait.Waiting.deadline(io.multiproc.wait.Waiting.nanos(timeout));
        while (true) {
            synchronized (LOCK) {
                if (booted() >= Math.min(count, wanted())) {
                    return true;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(TICK_MILLIS);
        }
    }

    /**
     * Called when a start with default JVM options begins, before its task is serialized: if there is no
     * spare at all (booted, booting or being launched), launches one now, so the JVM boots while this
     * JVM serializes the task (the program's first start spends 100-300 ms there, loading classes) and
     * {@link #take} finds it. A start whose task turns out not to be serializable leaves it a spare.
     */
    static void launchForStart() {
        synchronized (LOCK) {
            if (base > 0 && SPARES.isEmpty() && launchingSpares == 0 && booting() < maxBooting) {
                launchSpare();
            }
        }
    }

    /**
     * A spare for a child about to start, or null if there is none (booted or booting).
     *
     * @param running this JVM's running children, the one about to start included
     */
    static Process take(int running) {
        Process p;
        synchronized (LOCK) {
            lastDemandNanos = System.nanoTime();
            lastStartNanos = lastDemandNanos;
            started++;
            peak = Math.max(peak, running);
            p = base == 0 ? null : pollBootedFirst();
            // NOTE: a spare whose launch is under way (a few ms on the launcher thread) is as good as
            // one booting: wait for it rather than boot a second JVM next to it.
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SLOT_WAIT_MILLIS);
            while (p == null && base > 0 && launchingSpares > 0 && System.nanoTime() - deadline < 0) {
                try {
                    LOCK.wait(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                p = pollBootedFirst();
            }
            lastTaken = p;
            if (p != null && !hasBooted(p)) {
                CHILDREN_BOOTING.add(p); // no spare boots beside it until it has (see tick)
            }
        }
        tickNow();
        return p;
    }

    /**
     * Starts a child JVM cold (no spare), once fewer than {@code maxBooting} JVMs are booting (waiting
     * at most {@link #SLOT_WAIT_MILLIS} for a slot), and counts it as booting until its task starts.
     */
    static Process launchCold(List<String> jvmOptions) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SLOT_WAIT_MILLIS);
        synchronized (LOCK) {
            while (booting() >= maxBooting && System.nanoTime() - deadline < 0) {
                try {
                    LOCK.wait(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            launching++;
        }
        Process p = null;
        try {
            p = Launcher.launch(jvmOptions, Launcher.Mode.DIRECT);
            return p;
        } finally {
            synchronized (LOCK) {
                launching--;
                if (p != null) {
                    CHILDREN_BOOTING.add(p);
                }
            }
            tickNow();
        }
    }

    /** The pids of the spares this JVM keeps now (booted or booting): for tests. */
    static java.util.Set<Long> sparePids() {
        synchronized (LOCK) {
            java.util.Set<Long> pids = new java.util.HashSet<>();
            for (Process p : SPARES) {
                pids.add(p.pid());
            }
            return pids;
        }
    }

    /** A child of this JVM exited: its core may be free for a spare to boot. */
    static void childExited() {
        tickNow();
    }

    /**
     * Closing its stdin makes a waiting spare exit quietly. A spare still booting exits only once
     * booted, so it keeps its boot slot until then. Caller holds LOCK.
     */
    private static void dismiss(Process spare) {
        if (!hasBooted(spare)) {
            OTHERS_BOOTING.add(spare);
        }
        try {
            spare.getOutputStream().close();
        } catch (IOException ignored) {
            spare.destroyForcibly();
        }
    }

    static void dismissAll() {
        synchronized (LOCK) {
            base = 0;
            for (Process p : SPARES) {
                dismiss(p);
            }
            SPARES.clear();
        }
    }

    /** For tests and benchmarks: spares not yet taken (booted or booting). */
    static List<Process> spares() {
        synchronized (LOCK) {
            return List.copyOf(SPARES);
        }
    }

    /** For tests: how many spares the policy wants now. */
    static int wantedNow() {
        synchronized (LOCK) {
            return wanted();
        }
    }

    /** For tests: the most JVMs seen booting at once since the last call (spares and cold children). */
    static int takeMostBooting() {
        synchronized (LOCK) {
            int m = mostBooting;
            mostBooting = booting();
            return m;
        }
    }

    private static int mostBooting;

    // ---- the policy (callers hold LOCK) ----

    private static int wanted() {
        if (base == 0) {
            return 0;
        }
        int burst = Math.max(peak, started >= 2 ? Multiproc.cpuCount() : 0);
        int want = Math.max(base, Math.min(burst, max));
        return Math.min(LIMIT, Math.max(want, reserved));
    }

    /** Dismisses spares beyond what the policy wants, newest first; returns what it wants. */
    private static int dismissExtra() {
        int want = wanted();
        while (SPARES.size() > want) {
            dismiss(SPARES.pollLast());
        }
        return want;
    }

    private static int running() {
        return ChildProcess.runningCount();
    }

    /** JVMs booting now: spares not yet booted, cold children whose task has not started, dismissed spares not yet booted, launches. */
    private static int booting() {
        int n = launching;
        for (Process p : SPARES) {
            if (!hasBooted(p)) {
                n++;
            }
        }
        OTHERS_BOOTING.removeIf(p -> hasBooted(p));
        CHILDREN_BOOTING.removeIf(p -> hasBooted(p));
        n += OTHERS_BOOTING.size() + CHILDREN_BOOTING.size();
        mostBooting = Math.max(mostBooting, n);
        return n;
    }

    private static int booted() {
        int n = 0;
        for (Process p : SPARES) {
            if (hasBooted(p)) {
                n++;
            }
        }
        return n;
    }

    private static Process pollBootedFirst() {
        dropDeadSpares();
        for (Iterator<Process> it = SPARES.iterator(); it.hasNext(); ) {
            Process p = it.next();
            if (hasBooted(p)) {
                it.remove();
                return p;
            }
        }
        return SPARES.pollFirst();
    }

    /**
     * Removes spares that exited although no start took them and nobody dismissed them. A JVM that cannot
     * boot at all exits within a second: multiproc not on {@code java.class.path} (a Spring Boot jar,
     * whose libraries are nested), a JVM option from {@code JAVA_TOOL_OPTIONS} it refuses, too little
     * memory. Replacing it for ever booted a JVM about twice a second for as long as the program ran,
     * each printing its error on the program's stderr; so after {@link #DEATHS_BEFORE_GIVING_UP} in a row
     * with none seen booted in between (a start's own spare that died at its start counts too, see
     * {@link #couldNotBoot}), spares are turned off (one warning), and starts go cold, where the error
     * reaches the caller as a ChildStartException. A spare killed now and then after it booted (the OOM
     * killer) does not add up: one seen booted starts the count again. Decisions 218 and 259.
     */
    private static void dropDeadSpares() {
        for (Iterator<Process> it = SPARES.iterator(); it.hasNext(); ) {
            Process p = it.next();
            if (!p.isAlive()) {
                it.remove();
                diedBeforeBooting(p);
            } else if (diedInARow > 0 && seenBooted(p)) {
                diedInARow = 0;
            }
        }
    }

    /**
     * A JVM a start took (a spare, or a cold JVM of the default command) died before it could run its
     * task: its stdin was closed when the task was sent, or it exited with the JVM launcher's code 1 and
     * no report. It counts as a spare that could not boot: the start that takes the first spare is how
     * most programs meet it, and leaving it out let one or two more JVMs fail before spares were given
     * up (decision 259).
     */
    static void couldNotBoot(Process jvm) {
        synchronized (LOCK) {
            diedBeforeBooting(jvm);
        }
        tickNow(); // spares given up: those still booting are dismissed
    }

    /** Counts a JVM that died before it booted; {@link #DEATHS_BEFORE_GIVING_UP} in a row turn spares off. Caller holds LOCK. */
    private static void diedBeforeBooting(Process died) {
        diedInARow++;
        if (diedInARow >= DEATHS_BEFORE_GIVING_UP && base > 0) {
            base = 0;
            // a spare whose task could not be sent was destroyed a moment ago: it may not have exited yet
            Object exitCode = died.isAlive() ? "unknown" : died.exitValue();
            Log.LOG.log(System.Logger.Level.WARNING, "multiproc: " + diedInARow + " spare JVMs in a row exited before"
                    + " they booted (the last: pid " + died.pid() + ", exit code " + exitCode + "; its error is on"
                    + " stderr above), so no more spare JVMs are started and children start cold. \"Could not find or load"
                    + " main class " + Launcher.MAIN_CLASS + "\" means multiproc is not on java.class.path (a Spring Boot"
                    + " jar's nested libraries): run the application with java -cp, or give children its jars with"
                    + " ChildProcess.builder().classPath(...); an option of JAVA_TOOL_OPTIONS that a second JVM cannot"
                    + " use (a debugger's fixed port: \"bind failed\") fails every child. ChildProcess.setSpareJvms(n)"
                    + " turns spares on again");
        }
    }

    /** Dead counts as booted: it no longer uses a boot slot. */
    private static boolean hasBooted(Process p) {
        if (!p.isAlive()) {
            return true;
        }
        String comm = nameOf(p);
        return comm == null || isBootedName(comm); // gone, or no /proc: do not hold a slot for it
    }

    /**
     * Its process name says it booted. NOTE: not {@link #hasBooted}: a JVM reaped by the JDK's process
     * reaper a moment before {@link Process#isAlive()} turns false has no /proc entry left, which for
     * the boot slots counts as booted; here it reset the count of spares that could not boot (decision 259).
     */
    private static boolean seenBooted(Process p) {
        String comm = nameOf(p);
        return comm != null && isBootedName(comm);
    }

    /** Its /proc/PID/comm, or null when it has gone (or there is no /proc). */
    private static String nameOf(Process p) {
        try {
            return ChildMain.State.nameOf(p.pid());
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean isBootedName(String comm) {
        return comm.equals(ChildMain.State.SPARE.comm) || comm.equals(ChildMain.State.RUNNING.comm)
                || comm.equals(ChildMain.State.LOADED.comm);
    }

    // ---- the spares thread ----

    private static void tickNow() {
        schedule(0);
    }

    private static void schedule(long delayNanos) {
        synchronized (LOCK) {
            long at = System.nanoTime() + delayNanos;
            if (nextTick != null && !nextTick.isDone() && nextTickAt - at <= 0) {
                return; // an earlier tick is already due
            }
            if (nextTick != null) {
                nextTick.cancel(false);
            }
            nextTickAt = at;
            nextTick = TICKER.schedule(SpareJvms::tick, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    private static void tick() {
        long again;
        synchronized (LOCK) {
            nextTick = null;
            nextTickAt = Long.MAX_VALUE;
            long now = System.nanoTime();
            dropDeadSpares();
            long idleFor = now - lastDemandNanos;
            if (idleFor >= idleNanos) {
                peak = 0;
                started = 0;
                reserved = 0;
            }
            int want = dismissExtra();
            int booting = booting();
            int cores = Multiproc.cpuCount();
            // NOTE: a booting JVM keeps more than one core busy (its JIT and GC threads). A spare booting
            // beside a booting child, or beside the spare the next start will take, made back-to-back
            // starts slower than cold ones: unless a Pool reserved spares for its workers (it waits for
            // all of them), spares boot one at a time and only while no child boots.
            int bootLimit = reserved > 0 ? maxBooting : 1;
            // A child still booting is also running: count its core once.
            int busy = Math.max(0, running() - CHILDREN_BOOTING.size());
            // NOTE: a replacement's boot beside a child that has just started (its task loading, its
            // first compilations, often its whole run and exit) took the cores it was using: while a
            // booted spare is left for the next start, the replacement waits until that child has run
            // REPLACEMENT_DELAY or exited.
            // (The taken process, not the running count: the start registers its child after take.)
            boolean deferred = reserved == 0 && lastTaken != null && lastTaken.isAlive()
                    && now - lastStartNanos < REPLACEMENT_DELAY_NANOS && booted() > 0;
            while (!deferred && SPARES.size() + launching < want && booting < bootLimit && busy + booting < cores) {
                launchSpare();
                booting++;
            }
            LOCK.notifyAll(); // cold starts waiting for a boot slot look again
            boolean missing = SPARES.size() + launching < want;
            if (booting > 0) {
                again = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
            } else if (missing && deferred) {
                again = Math.max(TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS), REPLACEMENT_DELAY_NANOS - (now - lastStartNanos));
            } else if (missing && busy + booting < cores) {
                again = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
            } else if (missing && SPARES.size() <= base) {
                // NOTE: every core is taken by a running child (an idle pool's workers count): nothing
                // boots until one exits or starts, and both wake this thread (childExited, take). Looking
                // again every 10 ms meant 100 wake-ups a second, for as long as the children ran.
                return;
            } else if (SPARES.size() > base) {
                again = Math.max(0, idleNanos - idleFor) + TimeUnit.MILLISECONDS.toNanos(1);
            } else {
                return;
            }
        }
        schedule(again);
    }

    /** Caller holds LOCK. */
    private static void launchSpare() {
        launching++;
        launchingSpares++;
        java.util.concurrent.CompletableFuture<Process> launched;
        try {
            launched = Launcher.launchAsync(List.of(), Launcher.Mode.SPARE);
        } catch (RuntimeException | Error e) {
            // NOTE: the command is built before the launch goes async: counted launches that never
            // happen would make every later take() wait for them
            launching--;
            launchingSpares--;
            throw e;
        }
        launched.whenComplete((proc, err) -> {
            synchronized (LOCK) {
                launching--;
                launchingSpares--;
                LOCK.notifyAll();
                if (proc != null) {
                    // NOTE: a spare's exit wakes the spares thread. A tick that read the /proc entry of a
                    // spare reaped a moment before isAlive() turned false counted it booted, found nothing
                    // missing and slept; nothing else looked at that dead spare until the next start:
                    // 30 s and more with spares neither booted nor given up (decision 259).
                    proc.onExit().thenRun(SpareJvms::tickNow);
                    if (SPARES.size() < wanted()) {
                        SPARES.addLast(proc);
                    } else {
                        dismiss(proc);
                    }
                }
            }
            tickNow();
        });
    }

    // ---- system properties ----

    private static int intProperty(String name, int defaultValue) {
        String v = System.getProperty(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            return checkCount(Integer.parseInt(v.trim()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + name + "=" + v + " must be a whole number between 0 and " + LIMIT);
        }
    }

    private static long millisProperty(String name, long defaultValue) {
        String v = System.getProperty(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            long millis = Long.parseLong(v.trim());
            if (millis < 0 || millis > 60_000) {
                throw new NumberFormatException();
            }
            return millis;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + name + "=" + v + " must be a whole number of milliseconds between 0 and 60000");
        }
    }

    private static long idleProperty() {
        String v = System.getProperty(IDLE_PROPERTY);
        if (v == null) {
            return DEFAULT_IDLE_TIMEOUT.toNanos();
        }
        try {
            double seconds = Double.parseDouble(v.trim());
            if (!(seconds > 0) || seconds > 1e9) {
                throw new NumberFormatException();
            }
            return (long) (seconds * 1e9);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + IDLE_PROPERTY + "=" + v + " must be a number of seconds > 0");
        }
    }
}
