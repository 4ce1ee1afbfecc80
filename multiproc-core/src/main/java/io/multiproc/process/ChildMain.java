package io.multiproc.process;

import io.multiproc.internal.Native;
import io.multiproc.internal.PlatformThreads;
import io.multiproc.internal.ProcessIdentity;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Entry point of every child JVM multiproc starts. Not for users to call.
 *
 * <h2>Implementation overview</h2>
 * <ol>
 *   <li>Ask for SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG), then check the parent is still
 *       the one that started us (it may have died before the prctl), on a second thread while the main
 *       thread boots, warms up or decodes its task. The signal belongs to the thread
 *       that asked for it and is forgotten when that thread ends, so the second thread never ends.</li>
 *   <li>A spare JVM warms the task machinery (lambda decoding, the exit logger), initializes the
 *       library's hot-path classes ({@link HotPaths}), then renames itself {@code mp-spare} (how the
 *       parent knows it has booted, {@link State}) and runs the hot paths on private
 *       memory, in the program's idle moments, until compiled or until a task arrives. Each step is skipped once a task is waiting (a
 *       start may take a spare still booting).</li>
 *   <li>Read one task frame from stdin, the control channel (see {@link TaskFrame}); EOF means the
 *       parent dismissed this spare or died, and the JVM exits quietly.</li>
 *   <li>A daemon thread checks every 100 ms (every second when prctl took effect) that the parent is
 *       still our parent (the fallback when prctl is unavailable) and halts the JVM otherwise. It sleeps rather than blocking in a read of
 *       stdin: HotSpot's exit waits up to 300 ms for threads blocked in native code.</li>
 *   <li>Decode the task; report "loaded" (the process name, see {@link ChildReport}), or the failure
 *       to decode it (in the report file the parent named) and exit 1.</li>
 *   <li>Run the task; if it threw, report the failure and print the stack trace to stderr. Then wait
 *       for the non-daemon threads it started (as a JVM after {@code main} does) and exit, 0 or 1
 *       (shutdown hooks run).</li>
 * </ol>
 */
public final class ChildMain {
    private ChildMain() {
    }

    public static void main(String[] args) throws Exception {
        long parentPid = Long.parseLong(args[0]);
        Launcher.Mode mode = Launcher.Mode.valueOf(args[1]);
        if (mode == Launcher.Mode.TRAIN) {
            train();
            System.exit(0); // the JDK writes the AOT cache at exit
        }
        boolean spare = mode == Launcher.Mode.SPARE;
        // Linking the prctl downcall (FFM's linker, the first stub) costs 100-180 ms of a fresh JVM;
        // overlap it with reading and decoding the task, in a spare too (one taken while booting has
        // its task waiting). Until it takes effect, a spare learns of its parent's death from the EOF
        // on stdin, a running child from the polling watcher.
        Thread follow = new Thread(() -> {
            followParent(parentPid);
            try {
                prepareExitNow();
            } finally {
                EXIT_PREPARED.countDown();
            }
            // NOTE: the kernel keeps the parent-death signal per thread and sends it only while the
            // thread that asked is alive, so this thread must live as long as the JVM.
            while (true) {
                LockSupport.park();
            }
        }, "multiproc-pdeathsig");
        follow.setDaemon(true);
        follow.start();
        DataInputStream control = new DataInputStream(new BufferedInputStream(new FileInputStream(FileDescriptor.in)));
        System.setIn(InputStream.nullInputStream());
        if (spare) {
            // A spare taken while still booting has its task waiting already: each step of the
            // warm-up is skipped once it is, so a start that waits for a booting spare never waits
            // longer than for a cold JVM.
            BooleanSupplier taskWaiting = () -> available(control) > 0;
            warmUp(taskWaiting);
            // NOTE: the classes the hot-path warm-up uses are initialized here, on the main thread at
            // normal priority, before this JVM reports itself booted: a task needing a class whose
            // initialization a paused (or starved) warm-up thread had begun would wait for that thread.
            boolean primed = HOT_PATHS && Native.isAvailable() && prime(taskWaiting);
            setState(State.SPARE);
            if (primed && !taskWaiting.getAsBoolean()) {
                warmHotPaths(parentPid);
            }
        }
        TaskFrame frame;
        try {
            frame = TaskFrame.read(control);
        } catch (EOFException dismissed) {
            Runtime.getRuntime().halt(0);
            return;
        }
        // The task wins: the warm-up stops before its next iteration (it also runs at the lowest
        // priority). Nothing waits for it: its objects live in memfd segments that no other process
        // knows and that vanish with this JVM, however it ends.
        TASK_ARRIVED = true;
        setState(State.RUNNING);
        watchParent(parentPid);
        exit(run(frame, parentPid));
    }

    /**
     * {@code -Dmultiproc.fastExit=false} makes a child exit through the JVM's whole exit sequence (see
     * {@link #exit}); the launcher sets it for children started with the user's own JVM options.
     */
    static final String FAST_EXIT_PROPERTY = "multiproc.fastExit";
    private static final boolean FAST_EXIT = !"false".equals(System.getProperty(FAST_EXIT_PROPERTY));
    /** Written by the follow thread once the exit hook is registered and {@code _exit} linked; read by the main thread at exit. */
    private static volatile boolean exitNowReady;
    /** Counted down by the follow thread once {@link #prepareExitNow} has returned, whatever it did. */
    private static final java.util.concurrent.CountDownLatch EXIT_PREPARED = new java.util.concurrent.CountDownLatch(1);
    /** Longest the exit waits for {@link #prepareExitNow}; a follow thread starved by a loaded machine must not hold it. */
    private static final long EXIT_PREPARE_WAIT_MILLIS = 100;
    /** The thread that called {@link #exit} and its code: written before System.exit, read by the exit hook it runs. */
    private static volatile Thread exitingThread;
    private static volatile int exitingCode;

    /**
     * Ends the child with {@code code} once its task ran: System.exit (shutdown hooks run, as they would),
     * then, right after the last system hook (files marked delete-on-exit deleted), {@code _exit(code)}.
     * HotSpot's own exit waits, in 10 ms steps for up to 10 s, while a JIT thread is compiling (the spare's
     * warm-up or the task left methods queued): 10-70 ms of a warm start+join went there. What the JVM's
     * exit does after the hooks (JVMTI VMDeath, -Xlog and JFR flushes, the perf-data file) matters only
     * for user JVM options, agents and tools, so the fast way is taken only for default options with
     * no JVM options in the environment; this JVM's perf-data file (what jps reads) is removed first.
     */
    private static void exit(int code) {
        forgetTaskExits();
        if (fastExitPossible()) {
            try {
                // A cold child's task may end before the follow thread has linked _exit (20-70 ms of a
                // fresh JVM): that wait is shorter than the JVM's own exit beside its JIT threads.
                EXIT_PREPARED.await(EXIT_PREPARE_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (exitNowReady) {
            exitingCode = code;
            exitingThread = Thread.currentThread();
        }
        System.exit(code);
    }

    /**
     * On the follow thread, off the task's path: links {@code _exit} (5-25 ms) and registers the hook that
     * calls it last. A user's own System.exit in the task runs the hook on another thread (or before
     * {@link #exit} named this one) and so exits the usual way, with the user's code.
     */
    private static void prepareExitNow() {
        if (!fastExitPossible()) {
            return;
        }
        try {
            Object access = Class.forName("jdk.internal.access.SharedSecrets").getMethod("getJavaLangAccess").invoke(null);
            java.lang.reflect.Method register = Class.forName("jdk.internal.access.JavaLangAccess")
                    .getMethod("registerShutdownHook", int.class, boolean.class, Runnable.class);
            if (!Native.linkExitNow()) {
                return;
            }
            register.invoke(access, EXIT_HOOK_SLOT, false, (Runnable) ChildMain::exitNowIfOurs);
            exitNowReady = true;
        } catch (ReflectiveOperationException | RuntimeException | Error e) {
            // the package is not exported to us (an unusual launch) or the slot is taken: the usual exit
        }
    }

    /**
     * Whether this child may end with {@code _exit}: default JVM options (none from the user, none in
     * the environment) and native access. When not, the exit does not wait for the follow thread.
     */
    private static boolean fastExitPossible() {
        return FAST_EXIT && Native.isAvailable() && !jvmOptionsInEnvironment();
    }

    /**
     * The last of the JDK's ten system shutdown-hook slots: 0 restores the console, 1 runs the
     * application's hooks and waits for them, 2 deletes files marked delete-on-exit.
     */
    private static final int EXIT_HOOK_SLOT = 9;

    private static void exitNowIfOurs() {
        Thread exiting = exitingThread;
        if (exiting == null || exiting != Thread.currentThread()) {
            return; // a user's System.exit: the JVM's own exit, with the user's code
        }
        flush();
        try {
            java.nio.file.Files.deleteIfExists(java.nio.file.Path.of("/tmp", "hsperfdata_" + System.getProperty("user.name"), Long.toString(ProcessHandle.current().pid())));
        } catch (java.io.IOException | RuntimeException e) {
            // the JVM's next start of this user removes files of dead processes anyway
        }
        Native.exitNow(exitingCode);
    }

    /** JVM options given through the environment (agents, -Xlog, JFR) may need the JVM's own exit. */
    private static boolean jvmOptionsInEnvironment() {
        for (String name : new String[] {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"}) {
            String v = System.getenv(name);
            if (v != null && (v.contains("-agent") || v.contains("-XX:") || v.contains("-Xlog") || v.contains("-verbose")
                    || v.contains("-Xrun"))) {
                return true;
            }
        }
        return false;
    }

    /** Name of a JVM multiproc did not start (CPython's main process name). */
    static final String MAIN_PROCESS = "MainProcess";
    /**
     * This JVM's identity, {@link ChildProcess#current()}: set once by {@link #becomeChild} in a child
     * before its task is decoded; read by any thread. Kept here, not in ChildProcess, so that a child
     * does not initialize ChildProcess (and its exit hook) unless its task uses it.
     */
    static volatile ProcessInfo current = new ProcessInfo(ProcessHandle.current().pid(), MAIN_PROCESS, false);
    /** This JVM's parent as its task frame told it ({@link ChildProcess#parent()}); set with {@link #current}. */
    static volatile ProcessInfo parent;

    private static void becomeChild(TaskFrame frame, long parentPid) {
        parent = new ProcessInfo(parentPid, frame.parentName(), frame.parentIsChild());
        current = new ProcessInfo(ProcessHandle.current().pid(), frame.name(), true);
    }

    /** Longest a training run may take before it gives up (it takes seconds). */
    private static final long TRAIN_DEADLINE_MILLIS = 300_000;

    /** Set by the main thread when a task (or the dismissal) arrives; read by the warm-up thread. */
    private static volatile boolean TASK_ARRIVED;

    /**
     * What this child JVM is doing, shown as its process name ({@code /proc/PID/comm}, what {@code ps}
     * and {@code top} print): the parent reads it to tell a booted spare from a booting one without a
     * second channel. A JVM still booting keeps the launcher's name, {@code java}.
     */
    enum State {
        /** Booted and warmed up; waiting for a task. */
        SPARE("mp-spare"),
        /** Running its task (spare or cold), not yet decoded. */
        RUNNING("mp-child"),
        /** Its task decoded: what {@link ChildProcess#start()} waits for (see {@link ChildReport}). */
        LOADED(ChildReport.LOADED_COMM);

        final String comm;

        State(String comm) {
            this.comm = comm;
        }

        /**
         * The name process {@code pid} shows now: one of the states' names, or {@code java} while it boots.
         * The one reader of what {@link #setState} writes (SpareJvms, ChildReport).
         *
         * @throws java.nio.file.NoSuchFileException when the process has gone; other IOExceptions when there is no /proc
         */
        static String nameOf(long pid) throws java.io.IOException {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "comm"),
                    java.nio.charset.StandardCharsets.US_ASCII).strip();
        }
    }

    /** Writes this JVM's process name; the thread-group leader's comm, which /proc/PID/comm shows. */
    private static void setState(State state) {
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/self/comm"), state.comm);
        } catch (java.io.IOException | RuntimeException e) {
            // without /proc the parent counts this JVM as booting a little longer; nothing else changes
        }
    }

    /**
     * Runs the library's hot paths ({@link HotPaths}) on a daemon thread until they are compiled or a task
     * arrives, whichever is first, in this program's idle moments: it starts once no sibling JVM boots
     * (see {@link #awaitSiblingsBooted}) and pauses while the parent or a sibling uses the CPU (see
     * {@link IdlePacer}). Then a full GC returns the young generation the warm-up filled.
     */
    private static void warmHotPaths(long parentPid) {
        Thread t = new Thread(() -> {
            if (WARM_UP_NICE > 0 && Native.isAvailable()) {
                Native.lowerThisThreadPriority(WARM_UP_NICE);
            }
            try {
                awaitSiblingsBooted(parentPid, () -> TASK_ARRIVED);
                IdlePacer pacer = PACE ? new IdlePacer(parentPid, () -> TASK_ARRIVED) : null;
                HotPaths.run(pacer == null ? () -> TASK_ARRIVED : pacer::stopOrPause);
                if (!TASK_ARRIVED && SPARE_GC) {
                    // NOTE: the warm-up's garbage filled a young generation of 100-150 MB; an idle
                    // spare then held 200-226 MB resident, and the kernel tore all of it down at the
                    // task's exit. After this GC G1 shrinks the heap: 88-96 MB (BENCHMARKS.md).
                    System.gc();
                }
            } catch (RuntimeException | Error e) {
                // only a warm-up; the task reports its own problems
            }
        }, "multiproc-warm-up");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Nice value of the warm-up thread; 0 (none) by default. At nice 19 a warm-up thread that was still
     * runnable when the task arrived got the CPU only after every other runnable thread of the machine
     * (tens of ms on 2 cores beside one booting JVM, seconds under load): each safepoint of the task and
     * the JVM's exit waited for it. For measuring: {@code -Dmultiproc.warmUpNice=19}.
     */
    private static final int WARM_UP_NICE = warmUpNice();

    /** The property's value; a bad one is said on stderr (a child has nobody else to tell) and taken as 0. */
    private static int warmUpNice() {
        String v = System.getProperty("multiproc.warmUpNice");
        if (v == null) {
            return 0;
        }
        try {
            int nice = Integer.parseInt(v.trim());
            if (nice >= 0 && nice <= 19) {
                return nice;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        System.err.println("multiproc: -Dmultiproc.warmUpNice=" + v + " must be a whole number from 0 to 19; using 0");
        return 0;
    }
    /** {@code -Dmultiproc.warmUpPacing=false}: the warm-up does not pause for busy siblings (for measuring). */
    static final boolean PACE = !"false".equals(System.getProperty("multiproc.warmUpPacing"));
    /** {@code -Dmultiproc.spareGc=false}: no full GC after the warm-up (for measuring what it costs). */
    static final boolean SPARE_GC = !"false".equals(System.getProperty("multiproc.spareGc"));

    /**
     * Paces the warm-up to this program's idle moments, instead of a nice value (see {@link #WARM_UP_NICE}):
     * every {@link #WINDOW_MILLIS} of warm-up it reads the CPU time of the parent and of each sibling JVM
     * ({@code /proc/PID/stat}, in clock ticks) and, while they used more than {@link #BUSY_TICKS} ticks in
     * the window, sleeps a window at a time. It also sleeps while other programs of the machine
     * (/proc/stat's busy ticks less this JVM's, the parent's and the siblings') kept all CPUs but one
     * busy ({@link #othersBusyTicks}): a CPython program beside this one then keeps its cores (decision
     * 152). A thread that sleeps is never runnable when the task arrives. Used by the warm-up thread only.
     */
    static final class IdlePacer {
        static final long WINDOW_MILLIS = 50;
        /** Clock ticks (10 ms each at the usual 100 Hz) in one window above which the program counts as busy: 40% of a core. */
        static final long BUSY_TICKS = 1;
        private final long parentPid;
        private final long me = ProcessHandle.current().pid();
        private final BooleanSupplier stop;
        private long windowStart = System.nanoTime();
        /** The parent's and siblings' ticks at the window's start. */
        private long ticks;
        /** This JVM's ticks at the window's start (its warm-up and JIT threads are not "others"). */
        private long ownTicks;
        /** The machine's busy ticks at the window's start ({@link #machineTicks}). */
        private long machineBusy;
        private final boolean otherPrograms;
        /** {@link #machineTicks()}, or in tests a view of the machine without the programs beside the test. */
        private final java.util.function.Supplier<long[]> machine;

        IdlePacer(long parentPid, BooleanSupplier stop) {
            this(parentPid, stop, true);
        }

        /** {@code otherPrograms} false: paces against the parent and siblings only (tests of that rule alone). */
        IdlePacer(long parentPid, BooleanSupplier stop, boolean otherPrograms) {
            this(parentPid, stop, otherPrograms, IdlePacer::machineTicks);
        }

        /** Pacing against other programs as {@code machine} (in {@link #machineTicks()}'s form) shows them. */
        IdlePacer(long parentPid, BooleanSupplier stop, boolean otherPrograms, java.util.function.Supplier<long[]> machine) {
            this.parentPid = parentPid;
            this.stop = stop;
            this.otherPrograms = otherPrograms;
            this.machine = machine;
            this.ticks = programTicks();
            this.ownTicks = cpuTicks(me);
            this.machineBusy = machine.get()[0];
        }

        /** True when the warm-up must stop; first sleeps while the program is busy. */
        boolean stopOrPause() {
            if (System.nanoTime() - windowStart < WINDOW_MILLIS * 1_000_000L) {
                return stop.getAsBoolean();
            }
            while (!stop.getAsBoolean()) {
                long now = programTicks();
                long own = cpuTicks(me);
                long[] machine = this.machine.get();
                long elapsedTicks = (System.nanoTime() - windowStart) / 10_000_000L; // 100 ticks a second in /proc
                long others = (machine[0] - machineBusy) - (own - ownTicks) - (now - ticks);
                boolean busy = now - ticks > BUSY_TICKS || otherPrograms && others >= othersBusyTicks(machine[1], elapsedTicks);
                ticks = now;
                ownTicks = own;
                machineBusy = machine[0];
                windowStart = System.nanoTime();
                if (!busy) {
                    return false;
                }
                try {
                    Thread.sleep(WINDOW_MILLIS);
                } catch (InterruptedException e) {
                    return true;
                }
            }
            return true;
        }

        /**
         * Ticks that other programs (not this JVM, its parent or siblings) may use in a window of
         * {@code elapsedTicks} before the warm-up pauses: 80% of all CPUs but one, so a warm-up runs only
         * on a core nobody else wants (decision 152); at least 2 ticks (a 1-CPU machine). Without /proc
         * ({@code cpus} 0) never reached.
         */
        static long othersBusyTicks(long cpus, long elapsedTicks) {
            return cpus == 0 ? Long.MAX_VALUE : Math.max(2, (cpus - 1) * elapsedTicks * 8 / 10);
        }

        /** The CPUs /proc/stat accounts for (its {@code cpuN} lines), 1 if it cannot be read. */
        static int machineCpus() {
            long[] m = machineTicks();
            return (int) Math.max(1, m[1]);
        }

        /**
         * From /proc/stat: {busy ticks of all CPUs (user, nice, system, irq, softirq), CPUs}; {0, 0}
         * without /proc. Idle, iowait and steal are not busy: nobody here runs in them.
         */
        static long[] machineTicks() {
            try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of("/proc/stat"),
                    java.nio.charset.StandardCharsets.US_ASCII)) {
                long busy = 0;
                long cpus = 0;
                for (String line = r.readLine(); line != null && line.startsWith("cpu"); line = r.readLine()) {
                    if (line.startsWith("cpu ")) {
                        String[] f = line.trim().split(" +");
                        busy = Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3])
                                + Long.parseLong(f[6]) + Long.parseLong(f[7]);
                    } else {
                        cpus++;
                    }
                }
                return new long[] {busy, cpus};
            } catch (java.io.IOException | RuntimeException noProc) {
                return new long[] {0, 0};
            }
        }

        /** CPU clock ticks the parent and this JVM's siblings have used (a sibling that exited drops out). */
        long programTicks() {
            long[] sum = {cpuTicks(parentPid)};
            forEachSibling(parentPid, me, pid -> {
                sum[0] += cpuTicks(pid);
                return false;
            });
            return sum[0];
        }
    }

    /** utime + stime of process {@code pid} in clock ticks, 0 if it is gone. */
    static long cpuTicks(long pid) {
        return ProcessIdentity.cpuTicks(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
    }

    /** Longest a spare's warm-up waits for its siblings to boot: a JVM stuck booting must not stop it for good. */
    static final long SIBLING_WAIT_MILLIS = 3_000;

    /**
     * Waits (at most {@link #SIBLING_WAIT_MILLIS}) while another child of {@code parentPid} is still
     * booting (its process name is still {@code java}: see {@link State}). The warm-up's JIT threads are
     * not niced and cost ~2 CPU-s; run beside the next spare's boot, they made that boot, and so the
     * second spare of a burst, about twice as slow on 2 cores. A spare that waits here has already
     * reported itself booted, so starts can take it.
     */
    static void awaitSiblingsBooted(long parentPid, BooleanSupplier stop) {
        long deadline = System.nanoTime() + SIBLING_WAIT_MILLIS * 1_000_000L;
        long me = ProcessHandle.current().pid();
        while (!stop.getAsBoolean() && System.nanoTime() - deadline < 0 && siblingBooting(parentPid, me)) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** True if a child of {@code parentPid} other than {@code me} is still booting (by its process name). */
    static boolean siblingBooting(long parentPid, long me) {
        return forEachSibling(parentPid, me, pid -> booting(nameOrGone(pid)));
    }

    /**
     * Calls {@code visit} with each child of {@code parentPid} but {@code me} until it returns true;
     * returns whether one did (false too when there is no /proc).
     */
    static boolean forEachSibling(long parentPid, long me, java.util.function.LongPredicate visit) {
        // NOTE: /proc/PID/task/TID/children lists the children each thread forked: the parent launches
        // from its launcher thread, so every thread's list is read.
        try (java.nio.file.DirectoryStream<java.nio.file.Path> tasks = java.nio.file.Files.newDirectoryStream(
                java.nio.file.Path.of("/proc", Long.toString(parentPid), "task"))) {
            for (java.nio.file.Path task : tasks) {
                String children;
                try {
                    children = java.nio.file.Files.readString(task.resolve("children"), java.nio.charset.StandardCharsets.US_ASCII);
                } catch (java.io.IOException gone) {
                    continue; // the thread ended
                }
                for (String pid : children.trim().split(" ")) {
                    if (!pid.isEmpty() && Long.parseLong(pid) != me && visit.test(Long.parseLong(pid))) {
                        return true;
                    }
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return false; // no /proc (or no children file): as if there were no siblings
        }
        return false;
    }

    /** A launched JVM is named {@code jspawnhelper} until it execs, then {@code java} until it renames itself. */
    private static boolean booting(String name) {
        return name.equals("java") || name.equals("jspawnhelper");
    }

    private static String nameOrGone(long pid) {
        try {
            return State.nameOf(pid);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** {@code -Dmultiproc.spareWarmUp=false} turns the hot-path warm-up off (for measuring what it buys). */
    private static final boolean HOT_PATHS = !"false".equals(System.getProperty("multiproc.spareWarmUp"));

    private static boolean prime(BooleanSupplier taskWaiting) {
        try {
            return HotPaths.initializeClasses(taskWaiting);
        } catch (RuntimeException | Error e) {
            return false; // only a warm-up; the task reports its own problems
        }
    }

    private static int available(InputStream in) {
        try {
            return in.available();
        } catch (java.io.IOException e) {
            return 1; // let the read find out
        }
    }

    /** Asks for SIGKILL when the parent dies, then checks it has not died already. */
    private static void followParent(long parentPid) {
        if (Native.isAvailable()) {
            Native.setParentDeathSignal(Native.SIGKILL);
        }
        if (ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L) != parentPid) {
            Runtime.getRuntime().halt(1); // the parent died before we could ask to follow it
        }
    }

    private static int run(TaskFrame frame, long parentPid) {
        becomeChild(frame, parentPid);
        SerializableTask task;
        try {
            task = TaskCodec.decode(frame.task());
        } catch (Throwable t) {
            ChildReport.write(frame.report(), ChildReport.LOAD_FAILED, t);
            return failed(frame, "could not load its task", t);
        }
        // NOTE: the one step of "loaded" on the success path: a start that waits reads it (ChildReport).
        setState(State.LOADED);
        markTaskExits(frame.report());
        int exitCode = 0;
        try {
            task.run();
        } catch (Throwable t) {
            ChildReport.write(frame.report(), ChildReport.TASK_FAILED, t);
            exitCode = failed(frame, "failed", t);
        }
        // Infrastructure threads (a Redis client's) end first, so that only the task's own threads are awaited.
        io.multiproc.internal.TaskEndHooks.runAll();
        // As a JVM after main and CPython's child after run(), whether the task returned or threw.
        awaitNonDaemonThreads();
        flush();
        return exitCode;
    }

    /** The hook {@link #markTaskExits} registered; removed by {@link #exit}. Main thread only. */
    private static Thread taskExitMark;

    /**
     * Registers the shutdown hook that tells the parent the task ended this JVM with its own System.exit
     * ({@link ChildReport#writeExited}): the JVM reports a child killed by signal N as exit code 128 + N,
     * so {@code System.exit(130)} would read as SIGINT (decision 204). SIGTERM, SIGINT and SIGHUP run the
     * hooks too, from their handler's thread ({@link #stoppedBySignal}): those leave no mark. This JVM's
     * own exit removes the hook first ({@link #forgetTaskExits}), so a task that returns costs no thread.
     * Runtime.halt runs no hook: a task's halt(n) above 128 still reads as a signal.
     */
    private static void markTaskExits(String reportFile) {
        if (reportFile.isEmpty()) {
            return;
        }
        Thread mark = new Thread(() -> {
            if (!stoppedBySignal()) {
                ChildReport.writeExited(reportFile);
            }
        }, "multiproc-exit-mark");
        try {
            Runtime.getRuntime().addShutdownHook(mark);
            taskExitMark = mark;
        } catch (IllegalStateException exiting) {
            // a thread of the task is exiting this JVM already
        }
    }

    private static void forgetTaskExits() {
        Thread mark = taskExitMark;
        if (mark != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(mark);
            } catch (IllegalStateException exiting) {
                // a thread of the task called System.exit meanwhile: its exit, its mark
            }
        }
    }

    /**
     * True when this JVM is shutting down because of SIGTERM, SIGINT or SIGHUP (decision 159): the JDK
     * calls exit from a thread it names for the signal ({@code "SIGTERM handler"}), which lives while the
     * shutdown hooks run. The one place that tells (ChildProcess's exit hook asks too).
     */
    static boolean stoppedBySignal() {
        for (Thread t : PlatformThreads.live()) {
            String name = t.getName();
            if (name.equals("SIGTERM handler") || name.equals("SIGINT handler") || name.equals("SIGHUP handler")) {
                return true;
            }
        }
        return false;
    }

    private static int failed(TaskFrame frame, String what, Throwable t) {
        System.err.println("Process " + frame.name() + " (pid " + ProcessHandle.current().pid() + ") " + what + ":");
        t.printStackTrace();
        flush();
        return 1;
    }

    /**
     * Joins every live non-daemon thread but this one, until none is left (a joined thread may have
     * started others): what the JVM's DestroyJavaVM does after {@code main} returns.
     */
    private static void awaitNonDaemonThreads() {
        Thread me = Thread.currentThread();
        // NOTE: a task that ends with its interrupt set (the restore-the-interrupt idiom) must not make the
        // child exit under its threads' feet; DestroyJavaVM does not give up either.
        boolean interrupted = false;
        while (true) {
            try {
                awaitNonDaemonThreads(me);
                break;
            } catch (InterruptedException e) {
                interrupted = true; // cleared by the throw: the next round waits
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitNonDaemonThreads(Thread me) throws InterruptedException {
        while (true) {
            Thread next = null;
            for (Thread t : PlatformThreads.live()) {
                if (t != me && !t.isDaemon() && !"DestroyJavaVM".equals(t.getName())) {
                    next = t;
                    break;
                }
            }
            if (next == null) {
                return;
            }
            next.join();
        }
    }

    private static void watchParent(long parentPid) {
        Thread watcher = new Thread(() -> {
            try {
                // With the parent-death signal in place this is only a second line of defence: look
                // less often (each look reads /proc), so that an idle child costs next to no CPU.
                // Every 5 s: a look costs ~0.5 ms of CPU where a wake-up is dear (decision 168).
                long interval = Native.isAvailable() ? 5000 : 100;
                while (ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L) == parentPid) {
                    Thread.sleep(interval);
                }
            } catch (InterruptedException ignored) {
                return;
            }
            Runtime.getRuntime().halt(1);
        }, "multiproc-parent-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    /**
     * Loads and compiles what running a task needs, so that a spare's first task does not pay for it.
     * Decoding a task spins a lambda class for it; the first spins run interpreted (~8 ms each), so a
     * handful of distinct ones are decoded here (~4 ms for the real task afterwards).
     */
    private static void warmUp(BooleanSupplier taskWaiting) {
        if (taskWaiting.getAsBoolean()) {
            return;
        }
        // NOTE: Runtime.exit looks up the "java.lang.Runtime" System.Logger to log the exit (JDK 17+);
        // the first lookup boots the logging machinery, ~330 classes and ~20 ms at the task's exit.
        System.getLogger("java.lang.Runtime").isLoggable(System.Logger.Level.DEBUG);
        try {
            // NOTE: each probe spins and decodes a lambda class (tens of ms in a booting JVM beside its
            // siblings); a task that came meanwhile (a pool's worker takes spares still booting) does
            // its own decoding: waiting for the remaining probes only delayed it.
            for (SerializableRunnable probe : probes()) {
                if (taskWaiting.getAsBoolean()) {
                    break;
                }
                TaskCodec.decode(TaskCodec.encode(probe)).run();
            }
        } catch (Exception e) {
            // only a warm-up; the real task will report any problem
        }
        openRegistry();
    }

    /**
     * Opens the segment registry as any process's first attach would (the class and its directory, the
     * lock file, the startup sweep of dead holders' segments): 20-50 ms that a pool worker's first attach
     * of its pipes paid while the pool waited for it (traced; decision 162). Creates nothing of its own.
     * NOTE: a task that names another registry root (a test property) must come to a cold JVM, as the
     * tests that use one do (JVM options).
     */
    private static void openRegistry() {
        try {
            io.multiproc.internal.SegmentRegistry.dir();
        } catch (RuntimeException e) {
            // the task's first attach meets the same problem and reports it
        }
    }

    /** Distinct lambdas (each its own call site and class), capturing what tasks typically capture. */
    private static java.util.List<SerializableRunnable> probes() {
        int n = 1;
        long l = 2;
        String s = "warm";
        long[] array = {3};
        Object o = java.util.List.of(4);
        Probe record = new Probe(n, s);
        return java.util.List.of(() -> { }, () -> blackhole(n), () -> blackhole(l + n), () -> blackhole(s),
                () -> blackhole(array[0]), () -> blackhole(o), () -> blackhole(record));
    }

    /**
     * A record in a task: JDK serialization decodes records through their canonical constructor (method
     * handles spun on first use), as it decodes the pipe ends a pool worker's task holds.
     */
    private record Probe(int n, String s) implements java.io.Serializable {
    }

    private static void blackhole(Object o) {
        if (o == ChildMain.class) {
            System.out.println(o);
        }
    }

    /**
     * The AOT cache's training run: the task machinery a spare warms, then the library's hot paths,
     * so that their classes and method profiles (JEP 515) are in the cache. Bounded: no deadline needed.
     */
    private static void train() {
        // A training run does not follow its parent (it must finish after a short program), so it
        // bounds itself: a run stuck for any reason must not stay behind.
        Thread deadline = new Thread(() -> {
            try {
                Thread.sleep(TRAIN_DEADLINE_MILLIS);
                Runtime.getRuntime().halt(2);
            } catch (InterruptedException ignored) {
                // exiting
            }
        }, "multiproc-train-deadline");
        deadline.setDaemon(true);
        deadline.start();
        warmUp(() -> false);
        if (Native.isAvailable()) {
            // What every child's pdeathsig thread links (30-70 ms of CPU in a cold child, on 2 cores
            // beside its siblings' boots): the linker's classes and method handles go into the cache.
            // Signal 0 clears the parent-death signal, which a training run does not want anyway.
            Native.setParentDeathSignal(0);
            Native.linkExitNow();
        }
        HotPaths.run(() -> false);
    }

    private static void flush() {
        System.out.flush();
        System.err.flush();
    }
}
