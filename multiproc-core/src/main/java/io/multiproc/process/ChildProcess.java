package io.multiproc.process;

import io.multiproc.internal.InFlight;
import io.multiproc.internal.RemoteFailure;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A task running in another JVM: Python's {@code multiprocessing.Process}.
 *
 * <pre>{@code
 * try (SharedLong counter = SharedLong.create(0)) {
 *     ChildProcess p = ChildProcess.start(() -> counter.addAndGet(42));
 *     p.join();
 *     System.out.println(p.exitCode() + " " + counter.get());   // OptionalInt[0] 42
 * }
 * ChildProcess w = ChildProcess.builder().name("w1").daemon(true).jvmOptions(List.of("-Xmx64m"))
 *         .target(() -> doWork()).start();
 * }</pre>
 *
 * <p>The child runs the same {@code java} with the same class path and
 * {@code --enable-native-access=ALL-UNNAMED}. The target travels through the {@link io.multiproc.codec.Codec}
 * (a lambda as JDK serialization behind its allow-list), so it must be a serializable lambda or object;
 * shared objects it captures re-attach in the child. The child's
 * stdout and stderr are the parent's. The child dies when the parent dies, however it dies. When this
 * JVM exits normally, daemon children are terminated (SIGTERM, and at most {@link #SIGNAL_EXIT_GRACE} for
 * their shutdown hooks before SIGKILL) and the others are waited for, as in Python.
 * When it is stopped by SIGTERM, SIGINT or SIGHUP, every child gets SIGTERM and at most
 * {@link #SIGNAL_EXIT_GRACE} to end before it is killed: a program told to stop does not wait for its
 * children's work (decision 159).
 *
 * <p><b>Start fails when the child cannot load its task.</b> When the task's class comes from a class
 * loader the child does not have (a parent running under {@code mvn exec:java}, a Spring Boot fat jar,
 * jshell, {@code java Hello.java}, a plugin's loader), or the child has JVM options or a class path of
 * its own, {@link #start()} returns only once the child has decoded its task (or at most
 * {@link #LOAD_REPORT_TIMEOUT} later), and throws {@link ChildStartException} naming the missing class and
 * the fix, {@link Builder#classPath(List)}, if it could not. A task of the application's class path
 * starts without that wait; should the child still fail to load something (an object the task holds,
 * from another loader), {@link #failure()} is that same ChildStartException. A task's uncaught
 * exception is available as {@link #failure()}.
 *
 * <p>After the task returns, the child waits for the non-daemon threads it started, runs its shutdown
 * hooks and exits, as a JVM (and CPython's child) does.
 *
 * <p>Exit codes, as Python reports them: empty while running, 0 after a normal return, 1 when the task
 * threw (its stack trace is on the child's stderr), {@code -N} when killed by signal N. A task that
 * calls {@code System.exit(n)} reports n (0-255; the child tells its parent that it exited on its own,
 * decision 204); one that calls {@code Runtime.halt(n)} with n above 128 reads as killed by signal
 * n - 128, since the JVM reports a signal death as 128 + N and a halt leaves no word.
 *
 * <p>Thread-safety: all methods may be called from any thread.
 */
public final class ChildProcess implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Set<ChildProcess> ACTIVE = ConcurrentHashMap.newKeySet();
    /** Started children whose exit was not yet settled (their report file may still be there). */
    private static final Set<ChildProcess> UNSETTLED = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcess::atExit, "multiproc-children-exit"));
    }

    /**
     * Longest {@link #start()} waits for the child's "task loaded" report (a cold JVM on a loaded
     * machine takes seconds to boot); after that it returns and the child goes on.
     */
    public static final Duration LOAD_REPORT_TIMEOUT = Duration.ofSeconds(60);
    /** The longest name: it travels in the task frame (modified UTF-8, at most 65,535 bytes, 3 per char). */
    static final int MAX_NAME_CHARS = 4_096;
    private final String name;
    private final boolean daemon;
    private final List<String> jvmOptions;
    /**
     * Dropped once the child has its task (as CPython's Process.start drops its target and args): what
     * the lambda captured is the program's to let go, so a Manager's queue given to a child goes with the
     * parent's last reference to it (decision 169). Written under startLock.
     */
    private SerializableTask target;
    private final Object startLock = new Object();
    /** Set once by start(); read by every other method. */
    private volatile Process process;
    /** Set by close() (any thread); start() refuses, or kills the child it has just published. */
    private volatile boolean closed;
    /** Where the child writes its failure, if it has one ({@link ChildReport}); set by start(). */
    private volatile java.nio.file.Path reportFile;
    /** What the exited child reported, taken once by {@link #settleLocked()}; written under startLock. */
    private ChildReport.Report reported;
    /** Completed by settle() once the child has exited and its report is read. */
    private final CompletableFuture<ChildProcess> exited = new CompletableFuture<>();
    /** The task's failure re-created; written by settle() before {@link #exited} completes. */
    private volatile Throwable failure;
    /** The task ended its JVM with System.exit (its report says so); written by settle() before {@link #exited} completes. */
    private volatile boolean exitedOnItsOwn;
    /** {@link #kill()} or {@link #close()} sent SIGKILL: an exit code of 137 is that signal's, whatever the report says. */
    private volatile boolean killedHere;

    private ChildProcess(Builder b) {
        this.name = b.name != null ? b.name : defaultName();
        this.daemon = b.daemon;
        this.jvmOptions = childOptions(b);
        this.target = b.target;
    }

    /**
     * {@code ChildProcess-N} in the main JVM; in a child, its own name then {@code :N}, as CPython names a
     * child's children {@code Process-1:1}: a default name never repeats one of the process tree.
     */
    private static String defaultName() {
        int n = COUNTER.incrementAndGet();
        ProcessInfo me = ChildMain.current;
        return me.multiprocChild() ? me.name() + ":" + n : "ChildProcess-" + n;
    }

    /**
     * The builder's JVM options, then the marked system properties, then the class path: a second
     * {@code -cp} after the launcher's own (the parent's {@code java.class.path}); the last one counts.
     */
    private static List<String> childOptions(Builder b) {
        List<String> options = new ArrayList<>(b.jvmOptions);
        for (String property : b.systemProperties) {
            String value = System.getProperty(property);
            if (value != null) {
                options.add("-D" + property + "=" + value);
            }
        }
        if (!b.classPath.isEmpty()) {
            StringBuilder cp = new StringBuilder(System.getProperty("java.class.path"));
            for (Path entry : b.classPath) {
                cp.append(File.pathSeparatorChar).append(entry.toAbsolutePath());
            }
            options.add("-cp");
            options.add(cp.toString());
        }
        return List.copyOf(options);
    }

    /**
     * Starts {@code target} in a new child JVM with default settings. Any lambda fits, one that throws
     * checked exceptions too; a {@link SerializableRunnable} is a {@link SerializableTask}.
     *
     * @throws ChildStartException if the child could not load the task (see {@link Builder#classPath})
     */
    public static ChildProcess start(SerializableTask target) {
        return builder().target(target).start();
    }

    /**
     * This process: its pid, its name ({@code "MainProcess"} unless multiproc started it) and whether
     * it is a multiproc child. CPython's {@code current_process()}.
     */
    public static ProcessInfo current() {
        return ChildMain.current;
    }

    /**
     * The process that started this one, if multiproc did (CPython's {@code parent_process()}, which is
     * None in the main process).
     */
    public static Optional<ProcessInfo> parent() {
        return Optional.ofNullable(ChildMain.parent);
    }


    public static Builder builder() {
        return new Builder();
    }

    /** The children of this JVM that are still running. */
    public static List<ChildProcess> activeChildren() {
        ACTIVE.removeIf(c -> !c.isAlive());
        return List.copyOf(ACTIVE);
    }

    /**
     * How many spare JVMs to keep booted for fast starts when the program is idle (default 1; also
     * {@code -Dmultiproc.spareJvms}). 0 turns spares off; existing extra spares exit. On top of these,
     * spares follow the program's recent peak of concurrently running children (at least
     * {@link io.multiproc.Multiproc#cpuCount()} once a second child was started), up to
     * {@link #setMaxSpareJvms}, and retire after {@link #setSpareJvmsIdleTimeout} without a start.
     * When three spares in a row exit before they are used (a JVM that cannot boot: multiproc not on
     * {@code java.class.path}, a refused JVM option), spares are turned off with one warning; this turns
     * them on again.
     */
    public static void setSpareJvms(int count) {
        SpareJvms.setTarget(count);
    }

    public static int spareJvms() {
        return SpareJvms.target();
    }

    /**
     * The most spares kept after a burst of starts (default {@code max(4, cpuCount)}; also
     * {@code -Dmultiproc.spareJvms.max}). Each idle spare costs ~40-60 MB of resident memory.
     */
    public static void setMaxSpareJvms(int count) {
        SpareJvms.setMax(count);
    }

    public static int maxSpareJvms() {
        return SpareJvms.max();
    }

    /**
     * How long spares above {@link #spareJvms()} stay after the last start (default 30 s; also
     * {@code -Dmultiproc.spareJvms.idleTimeout=SECONDS}).
     */
    public static void setSpareJvmsIdleTimeout(Duration timeout) {
        SpareJvms.setIdleTimeout(Objects.requireNonNull(timeout, "timeout"));
    }

    public static Duration spareJvmsIdleTimeout() {
        return SpareJvms.idleTimeout();
    }

    /**
     * How many JVMs (spares and cold children) may boot at the same time (default cpuCount; also
     * {@code -Dmultiproc.maxBootingJvms}); a cold start beyond that waits for one of them to boot.
     */
    public static void setMaxBootingJvms(int count) {
        SpareJvms.setMaxBooting(count);
    }

    public static int maxBootingJvms() {
        return SpareJvms.maxBooting();
    }

    /**
     * Prepares fast child starts now instead of on the first start: boots the spare JVMs and, when the
     * class path is made of jars, builds the JDK AOT cache that cold starts use (once per class path).
     *
     * @param timeout how long to wait for the cache; a huge one waits until it is built
     * @return true if the AOT cache is ready within {@code timeout}
     * @throws IllegalArgumentException naming the value if {@code timeout} is negative
     */
    public static boolean prepareFastStarts(Duration timeout) throws InterruptedException {
        long nanos = io.multiproc.wait.Waiting.nanos(timeout);
        SpareJvms.reserve(SpareJvms.target());
        return AotCache.await(nanos);
    }

    /** This JVM's children that are still running (the count the spare policy follows). */
    static int runningCount() {
        int n = 0;
        for (ChildProcess c : ACTIVE) {
            if (c.isAlive()) {
                n++;
            }
        }
        return n;
    }

    /**
     * Starts the child. The target is serialized first, so a target that cannot be serialized fails
     * here with IllegalArgumentException naming the class. When the task's class comes from a class
     * loader other than the application's, or the child has JVM options or a class path of its own,
     * returns only once the child has decoded its task (see the class comment).
     *
     * @throws ChildStartException if the child could not load its task, or exited before it did
     * @throws IllegalStateException if already started
     */
    public ChildProcess start() {
        return start(mustConfirmLoad());
    }

    /**
     * True if {@link #start()} must wait for the child to say it loaded its task (decision 076): the
     * child has a command line of its own (JVM options, a class path: it may not even boot), or the
     * task's class comes from a class loader the child does not have (its lambdas are defined by the
     * capturing class's loader). A task of the application's class path needs no wait: the child
     * loads from that same class path, so a burst of starts is not serialized behind each child's boot.
     */
    private boolean mustConfirmLoad() {
        SerializableTask t = target; // null once started: start then refuses a second start
        return !jvmOptions.isEmpty() || t != null && !onChildClassPath(t.getClass());
    }

    /** Defined by the bootstrap, platform or application class loader, which every child has. */
    static boolean onChildClassPath(Class<?> type) {
        ClassLoader loader = type.getClassLoader();
        return loader == null || loader == ClassLoader.getPlatformClassLoader() || loader == ClassLoader.getSystemClassLoader();
    }

    /**
     * Starts the child; with {@code confirmLoad}, returns only once it has decoded its task (or exited,
     * or {@link #LOAD_REPORT_TIMEOUT} passed). The Pool starts its workers without waiting, all at
     * once, and learns of a worker that could not load its task from {@link #failure()}.
     */
    ChildProcess start(boolean confirmLoad) {
        synchronized (startLock) {
            if (process != null) {
                throw new IllegalStateException("child '" + name + "' was already started (pid " + process.pid() + ")");
            }
            if (closed) {
                throw new IllegalStateException("child '" + name + "' was closed before it was started");
            }
            if (jvmOptions.isEmpty()) {
                SpareJvms.launchForStart();
            }
            java.nio.file.Path file = ChildReport.newFile();
            InFlight flight = InFlight.here();
            int mark = flight.beginSend();
            TaskFrame frame;
            List<String> carried;
            try {
                ProcessInfo me = ChildMain.current;
                frame = new TaskFrame(name, daemon, me.name(), me.multiprocChild(), file.toString(),
                        io.multiproc.internal.ChildTaskEncoding.encode(() -> TaskCodec.encode(target)));
                carried = flight.sentSince(mark);
            } finally {
                flight.endSend(mark);
            }
            Process p = jvmOptions.isEmpty() ? SpareJvms.take(runningCount() + 1) : null;
            try {
                if (p == null || !send(p, frame, carried)) {
                    if (p != null) {
                        SpareJvms.couldNotBoot(p); // the spare died before its task reached it
                    }
                    p = SpareJvms.launchCold(jvmOptions);
                    if (!send(p, frame, carried)) {
                        p.destroyForcibly();
                        throw new IllegalStateException("child '" + name + "' (pid " + p.pid() + ") died before it got its task");
                    }
                }
            } catch (RuntimeException | Error e) {
                // A JVM taken or launched for this start and not handed its task (a carried segment was
                // removed meanwhile, say) waits on its stdin for good: a spare nobody lists any more, or a
                // cold JVM counted as booting forever, which would hold a boot slot.
                if (p != null) {
                    p.destroyForcibly();
                }
                throw e;
            }
            process = p;
            target = null;
            reportFile = file;
            ACTIVE.add(this);
            UNSETTLED.add(this);
            // NOTE: settle() takes startLock, so a child that exits at once is settled only after
            // awaitLoaded has looked at it (an exit it sees first, it settles itself).
            p.onExit().thenRun(() -> {
                ACTIVE.remove(this);
                SpareJvms.childExited();
                settle();
            });
            if (closed) { // close() ran while this start was under way and may not have seen the process
                p.destroyForcibly();
                throw new IllegalStateException("child '" + name + "' was closed while it started; it was killed");
            }
            if (confirmLoad) {
                awaitLoaded(p);
            }
            return this;
        }
    }

    /**
     * Waits for the child to say it loaded its task. Loaded, or still running: return. Could not load:
     * throw, naming the class. Exited 1 without a report: throw with the exit code (a child that cannot
     * even load multiproc says so on its stderr, "Could not find or load main class"). Called under startLock.
     */
    private void awaitLoaded(Process p) {
        boolean loaded;
        try {
            loaded = ChildReport.awaitLoaded(p, LOAD_REPORT_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return; // the child goes on; this thread's caller sees the interrupt
        }
        if (loaded || p.isAlive()) {
            return;
        }
        // Exited before "loaded" was seen: a task that loaded and ended at once, or a child that could not load it.
        settleLocked();
        if (reported != null && reported.couldNotLoad()) {
            throw (ChildStartException) failure;
        }
        if (diedAtStart()) {
            throw ChildStartException.diedAtStart(this, p.pid(), p.exitValue());
        }
    }

    /**
     * Exited with the JVM launcher's code 1 without a report: it never ran ChildMain far enough to write
     * one ("Could not find or load main class", a JVM option refused). A task's exceptions and its own
     * System.exit are reported. Once settled.
     */
    private boolean diedAtStart() {
        return reported == null && process.exitValue() == 1;
    }

    /** Once the child has exited: takes its report, if any, and completes onExit. */
    private void settle() {
        synchronized (startLock) {
            settleLocked();
        }
    }

    /**
     * Under startLock, once: takes the exited child's report (deleting its file), re-creates its
     * failure (a load failure as a {@link ChildStartException}), completes {@link #exited}.
     */
    private void settleLocked() {
        if (exited.isDone()) {
            return;
        }
        reported = ChildReport.take(reportFile);
        if (jvmOptions.isEmpty() && diedAtStart()) {
            SpareJvms.couldNotBoot(process);
        }
        if (reported != null && reported.exitedOnItsOwn()) {
            exitedOnItsOwn = true;
        } else if (reported != null) {
            Throwable t = reported.failure().toThrowable(RemoteFailure.ANY_CLASS);
            failure = reported.couldNotLoad() ? ChildStartException.couldNotLoad(this, process.pid(), t) : t;
        }
        UNSETTLED.remove(this);
        exited.complete(this);
    }

    /**
     * Sends the task, after recording the child as a holder of the shared objects it carries: they
     * outlive this process's handles (closed right after start, say) until the child has attached.
     */
    private static boolean send(Process p, TaskFrame frame, List<String> carried) {
        InFlight.holdForProcess(carried, p.pid());
        try {
            frame.write(new DataOutputStream(p.getOutputStream()));
            return true;
        } catch (IOException dead) {
            p.destroyForcibly();
            return false;
        }
    }

    /** Waits until the child exits. */
    public void join() throws InterruptedException {
        started().waitFor();
    }

    /**
     * Waits at most {@code timeout} for the child to exit.
     *
     * @return true if it has exited
     */
    public boolean join(Duration timeout) throws InterruptedException {
        long nanos = io.multiproc.wait.Waiting.nanos(timeout);
        return started().waitFor(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Empty while running (or not started); 0 normal; 1 uncaught exception; n after the task's own
     * {@code System.exit(n)} (0-255, as CPython's {@code sys.exit(n)}); -N killed by signal N.
     */
    public OptionalInt exitCode() {
        Process p = process;
        if (p == null || p.isAlive()) {
            return OptionalInt.empty();
        }
        if (!exited.isDone()) {
            settle();
        }
        int v = p.exitValue();
        // NOTE: the JVM reports a death by signal N as 128 + N, as it would System.exit(128 + N): the
        // child's report tells a task's own exit apart (decision 204); a SIGKILL this JVM sent wins
        boolean signal = v > 128 && v <= 128 + 64 && (!exitedOnItsOwn || killedHere && v == 128 + 9);
        return OptionalInt.of(signal ? -(v - 128) : v);
    }

    /**
     * The task's uncaught exception, re-created in this JVM (its class when it can be, else
     * {@link io.multiproc.RemoteException}; the child's stack trace either way). A child that could not
     * load its task (a class from another loader, see {@link Builder#classPath}) fails with a
     * {@link ChildStartException} whose cause is the child's exception. Empty while the child runs,
     * after a normal exit, and when it was killed.
     */
    public Optional<Throwable> failure() {
        Process p = process;
        if (p == null || p.isAlive()) {
            return Optional.empty();
        }
        settle();
        return Optional.ofNullable(failure);
    }

    /**
     * Completes with this child once it has exited and its {@link #failure()} is known: CPython's
     * {@code sentinel}. Use {@code CompletableFuture.anyOf} to wait for the first of several children.
     */
    public CompletableFuture<ChildProcess> onExit() {
        return exited.copy();
    }

    public boolean isAlive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** Sends SIGTERM (the child's shutdown hooks run). */
    public void terminate() {
        started().destroy();
    }

    /** Sends SIGKILL. */
    public void kill() {
        Process p = started();
        if (p.isAlive()) {
            killedHere = true;
        }
        p.destroyForcibly();
    }

    public long pid() {
        return started().pid();
    }

    public String name() {
        return name;
    }

    public boolean daemon() {
        return daemon;
    }

    /**
     * Kills the child if it is still running and waits for it to be gone; a child not started yet will
     * not start ({@code start()} then throws IllegalStateException). Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        // NOTE: a start under way publishes its process and then reads closed, this reads process after
        // writing closed (both volatile): one of the two sees the other, so its child is killed either way
        Process p = process;
        if (p != null && p.isAlive()) {
            killedHere = true;
            p.destroyForcibly();
            p.onExit().join();
        }
    }

    /** The running process, for the pool's exit callbacks (started children only). */
    Process process() {
        return started();
    }

    private Process started() {
        Process p = process;
        if (p == null) {
            throw new IllegalStateException("child '" + name + "' was not started");
        }
        return p;
    }

    @Override
    public String toString() {
        Process p = process;
        String state = p == null ? "initial" : p.isAlive() ? "started" : "stopped exitcode=" + exitCode().getAsInt();
        return "ChildProcess[name=" + name + (p == null ? "" : ", pid=" + p.pid()) + ", " + state + (daemon ? ", daemon" : "") + "]";
    }

    /**
     * Set when this JVM's exit hook begins; read by a Pool, which must not replace workers that this exit
     * terminates (a replacement's pipes, made after the registry's exit hook, would outlive the program).
     */
    private static volatile boolean exiting;

    /** True once this JVM's exit hook has begun to stop its children. */
    static boolean exiting() {
        return exiting;
    }

    private static void atExit() {
        exiting = true;
        SpareJvms.dismissAll();
        List<ChildProcess> daemons = new ArrayList<>();
        for (ChildProcess c : List.copyOf(ACTIVE)) {
            if (c.daemon && c.isAlive()) {
                c.process.destroy();
                daemons.add(c);
            }
        }
        long daemonGraceEnd = System.nanoTime() + SIGNAL_EXIT_GRACE.toNanos();
        try {
            if (shutdownBySignal() || !awaitNonDaemonChildren()) {
                terminateAll();
            } else {
                awaitTerminated(daemons, daemonGraceEnd);
            }
        } catch (InterruptedException e) {
            return;
        }
        // NOTE: a child that failed left its report file; the JDK's exit callbacks that take them may
        // not run before this JVM is gone, so whatever has exited is settled here.
        for (ChildProcess c : List.copyOf(UNSETTLED)) {
            if (!c.process.isAlive()) {
                c.settle();
            }
        }
    }

    /**
     * Waits for every non-daemon child, as a normal exit does in Python; false as soon as a signal asks
     * this JVM to stop meanwhile (the JDK runs no second set of hooks for it: this wait is the only one).
     */
    private static boolean awaitNonDaemonChildren() throws InterruptedException {
        for (ChildProcess c : List.copyOf(ACTIVE)) {
            if (!c.daemon) {
                while (!c.process.waitFor(SIGNAL_POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                    if (shutdownBySignal()) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** SIGTERM to every child still running; SIGKILL to those still running {@link #SIGNAL_EXIT_GRACE} later. */
    private static void terminateAll() throws InterruptedException {
        List<ChildProcess> all = List.copyOf(ACTIVE);
        for (ChildProcess c : all) {
            if (c.isAlive()) {
                c.process.destroy();
            }
        }
        awaitTerminated(all, System.nanoTime() + SIGNAL_EXIT_GRACE.toNanos());
    }

    /**
     * Waits until {@code graceEnd} ({@link System#nanoTime()}) for children sent SIGTERM, so that their
     * shutdown hooks run to their end (CPython joins its terminated daemons at exit, decision 205); SIGKILL
     * to those still running then: a child that ignores SIGTERM does not hold this JVM's exit.
     */
    private static void awaitTerminated(List<ChildProcess> terminated, long graceEnd) throws InterruptedException {
        for (ChildProcess c : terminated) {
            if (!c.process.waitFor(Math.max(0, graceEnd - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                c.process.destroyForcibly();
            }
        }
    }

    private static final long SIGNAL_POLL_MILLIS = 100;

    /**
     * True when this JVM is shutting down because of SIGTERM, SIGINT or SIGHUP (decision 159): the JDK
     * calls exit from a thread it names for the signal ({@code "SIGTERM handler"}), which lives while the
     * shutdown hooks run. A program told to stop must not wait for its non-daemon children as a normal
     * exit does: that wait may be forever, and {@code kill PID} would not stop the program.
     */
    static boolean shutdownBySignal() {
        return ChildMain.stoppedBySignal();
    }

    /** How long a JVM stopped by a signal lets its children end on SIGTERM before it kills them. */
    static final Duration SIGNAL_EXIT_GRACE = Duration.ofSeconds(2);

    /** The java launcher's options that take their value as the next element ({@code -cp path}). */
    private static final Set<String> OPTIONS_WITH_A_VALUE = Set.of("-cp", "-classpath", "--class-path", "-p", "--module-path",
            "--upgrade-module-path", "--add-modules", "--limit-modules", "--add-reads", "--add-exports", "--add-opens",
            "--patch-module", "--enable-native-access");
    /** Options that would replace the child's main class (the launcher runs a jar or a module instead). */
    private static final Set<String> OPTIONS_THAT_REPLACE_THE_MAIN = Set.of("-jar", "--jar", "-m", "--module");

    /**
     * An immutable copy of JVM options; NullPointerException naming a null element, IllegalArgumentException
     * naming one that cannot be a JVM option: blank, or not starting with '-' (or '@', an argument file)
     * unless it is the value of an option that takes one ({@code -cp} then its path), or one that would
     * run something else than the child ({@code -jar}). The launcher would take a stray element for the
     * main class, and run it with the child's arguments.
     */
    static List<String> checkedOptions(List<String> jvmOptions) {
        boolean valueExpected = false;
        for (int i = 0; i < jvmOptions.size(); i++) {
            String o = Objects.requireNonNull(jvmOptions.get(i), "jvmOptions element");
            if (valueExpected) {
                valueExpected = false;
                continue;
            }
            if (OPTIONS_THAT_REPLACE_THE_MAIN.contains(o)) {
                throw new IllegalArgumentException("jvmOptions element " + i + "='" + o + "' would run something else than the child");
            }
            if (o.isBlank() || !o.startsWith("-") && !o.startsWith("@")) {
                throw new IllegalArgumentException("jvmOptions element " + i + "='" + o + "' is not a JVM option: options start "
                        + "with '-', one element each (a value such as -cp's path follows its option)");
            }
            valueExpected = OPTIONS_WITH_A_VALUE.contains(o);
        }
        if (valueExpected) {
            throw new IllegalArgumentException("jvmOptions element " + (jvmOptions.size() - 1) + "='" + jvmOptions.getLast()
                    + "' needs its value as the next element");
        }
        return List.copyOf(jvmOptions);
    }

    /** Settings for a child; {@link #start()} builds and starts it, {@link #build()} only builds it. */
    public static final class Builder {
        private String name;
        private boolean daemon;
        private List<String> jvmOptions = List.of();
        private List<Path> classPath = List.of();
        private List<String> systemProperties = List.of();
        private SerializableTask target;

        private Builder() {
        }

        /**
         * The child's name, shown in its failure messages (default {@code ChildProcess-N}; in a child, that
         * child's name then {@code :N}).
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.length() > MAX_NAME_CHARS) {
                throw new IllegalArgumentException("name of " + name.length() + " characters (\"" + name.substring(0, 40)
                        + "...\") is too long: at most " + MAX_NAME_CHARS);
            }
            this.name = name;
            return this;
        }

        /** A daemon child is terminated when this JVM exits; others are waited for. */
        public Builder daemon(boolean daemon) {
            this.daemon = daemon;
            return this;
        }

        /** Extra options for the child's {@code java} command, such as {@code -Xmx64m}. */
        public Builder jvmOptions(List<String> jvmOptions) {
            this.jvmOptions = checkedOptions(jvmOptions);
            return this;
        }

        /**
         * Class path entries the child needs beyond this JVM's {@code java.class.path}: the directories
         * or jars of a class loader the task's classes came from (mvn exec:java, Spring Boot's nested
         * jars unpacked, a plugin's URLClassLoader). The child's class path is {@code java.class.path}
         * followed by these. A child with a class path of its own boots cold (no spare JVM).
         */
        public Builder classPath(List<Path> classPath) {
            for (Path p : classPath) {
                Objects.requireNonNull(p, "classPath element");
            }
            this.classPath = List.copyOf(classPath);
            return this;
        }

        /**
         * Names of this JVM's system properties to pass on to the child as {@code -Dname=value} (with
         * their values at {@link #build()}); unset ones are skipped. Nothing else is passed on: a child
         * sees only the JDK's defaults and these. A child with properties boots cold (no spare JVM).
         */
        public Builder systemProperties(Collection<String> names) {
            for (String n : names) {
                Objects.requireNonNull(n, "systemProperties element");
                if (n.isEmpty() || n.contains("=")) {
                    throw new IllegalArgumentException("systemProperties element='" + n + "' must be a property name");
                }
            }
            this.systemProperties = List.copyOf(names);
            return this;
        }

        /** The task; a lambda that throws checked exceptions fits, and so does a {@link SerializableRunnable}. */
        public Builder target(SerializableTask target) {
            this.target = Objects.requireNonNull(target, "target");
            return this;
        }

        /** Builds the child without starting it. */
        public ChildProcess build() {
            if (target == null) {
                throw new IllegalStateException("target=null: set a target before building a ChildProcess");
            }
            return new ChildProcess(this);
        }

        public ChildProcess start() {
            return build().start();
        }
    }
}
