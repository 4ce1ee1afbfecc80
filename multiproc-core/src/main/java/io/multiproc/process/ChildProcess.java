package io.multiproc.process;

import io.multiproc.internal.InFlight;

import java.io.DataOutputStream;
import java.io.IOException;
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
 * JVM exits normally, daemon children are terminated and the others are waited for, as in Python.
 *
 * <p>Exit codes, as Python reports them: empty while running, 0 after a normal return, 1 when the task
 * threw (its stack trace is on the child's stderr), {@code -N} when killed by signal N. A task that
 * calls {@code System.exit(n)} reports n, except that n above 128 reads as a signal (the JVM reports a
 * signal death as 128 + N).
 *
 * <p>Thread-safety: all methods may be called from any thread.
 */
public final class ChildProcess implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Set<ChildProcess> ACTIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ChildProcess::atExit, "multiproc-children-exit"));
    }

    private final String name;
    private final boolean daemon;
    private final List<String> jvmOptions;
    private final SerializableRunnable target;
    private final Object startLock = new Object();
    /** Set once by start(); read by every other method. */
    private volatile Process process;

    private ChildProcess(Builder b) {
        this.name = b.name != null ? b.name : "ChildProcess-" + COUNTER.incrementAndGet();
        this.daemon = b.daemon;
        this.jvmOptions = List.copyOf(b.jvmOptions);
        this.target = b.target;
    }

    /** Starts {@code target} in a new child JVM with default settings. */
    public static ChildProcess start(SerializableRunnable target) {
        return builder().target(target).start();
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
     * @return true if the AOT cache is ready within {@code timeout}
     */
    public static boolean prepareFastStarts(Duration timeout) throws InterruptedException {
        SpareJvms.reserve(SpareJvms.target());
        return AotCache.await(timeout);
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
     * here with IllegalArgumentException naming the class.
     *
     * @throws IllegalStateException if already started
     */
    public ChildProcess start() {
        synchronized (startLock) {
            if (process != null) {
                throw new IllegalStateException("child '" + name + "' was already started (pid " + process.pid() + ")");
            }
            if (jvmOptions.isEmpty()) {
                SpareJvms.launchForStart();
            }
            InFlight flight = InFlight.here();
            int mark = flight.beginSend();
            TaskFrame frame;
            List<String> carried;
            try {
                frame = new TaskFrame(name, daemon, TaskCodec.encode(target));
                carried = flight.sentSince(mark);
            } finally {
                flight.endSend(mark);
            }
            Process p = jvmOptions.isEmpty() ? SpareJvms.take(runningCount() + 1) : null;
            if (p == null || !send(p, frame, carried)) {
                p = SpareJvms.launchCold(jvmOptions);
                if (!send(p, frame, carried)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("child '" + name + "' (pid " + p.pid() + ") died before it got its task");
                }
            }
            process = p;
            ACTIVE.add(this);
            p.onExit().thenRun(() -> {
                ACTIVE.remove(this);
                SpareJvms.childExited();
            });
            return this;
        }
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
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout=" + timeout + " must be >= 0");
        }
        return started().waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Empty while running (or not started); 0 normal; 1 uncaught exception; -N killed by signal N. */
    public OptionalInt exitCode() {
        Process p = process;
        if (p == null || p.isAlive()) {
            return OptionalInt.empty();
        }
        int v = p.exitValue();
        return OptionalInt.of(v > 128 && v <= 128 + 64 ? -(v - 128) : v);
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
        started().destroyForcibly();
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

    /** Kills the child if it is still running and waits for it to be gone. Idempotent. */
    @Override
    public void close() {
        Process p = process;
        if (p != null && p.isAlive()) {
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

    private static void atExit() {
        SpareJvms.dismissAll();
        for (ChildProcess c : List.copyOf(ACTIVE)) {
            if (c.daemon && c.isAlive()) {
                c.process.destroy();
            }
        }
        for (ChildProcess c : List.copyOf(ACTIVE)) {
            if (!c.daemon) {
                try {
                    c.process.waitFor();
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** An immutable copy of JVM options; NullPointerException naming a null element. */
    static List<String> checkedOptions(List<String> jvmOptions) {
        for (String o : jvmOptions) {
            Objects.requireNonNull(o, "jvmOptions element");
        }
        return List.copyOf(jvmOptions);
    }

    /** Settings for a child; {@link #start()} builds and starts it, {@link #build()} only builds it. */
    public static final class Builder {
        private String name;
        private boolean daemon;
        private List<String> jvmOptions = List.of();
        private SerializableRunnable target;

        private Builder() {
        }

        /** The child's name (default {@code ChildProcess-N}), shown in its failure messages. */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
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

        public Builder target(SerializableRunnable target) {
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
