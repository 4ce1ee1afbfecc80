package io.multiproc.process;

import io.multiproc.internal.Native;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.concurrent.locks.LockSupport;

/**
 * Entry point of every child JVM multiproc starts. Not for users to call.
 *
 * <h2>Implementation overview</h2>
 * <ol>
 *   <li>Ask for SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG), then check the parent is still
 *       the one that started us (it may have died before the prctl). A spare does it before waiting;
 *       a cold child on a second thread while it decodes its task. The signal belongs to the thread
 *       that asked for it and is forgotten when that thread ends, so the second thread never ends.</li>
 *   <li>A spare JVM warms the task machinery (object streams, lambda deserialization) while it waits.</li>
 *   <li>Read one task frame from stdin, the control channel (see {@link TaskFrame}); EOF means the
 *       parent dismissed this spare or died, and the JVM exits quietly.</li>
 *   <li>A daemon thread checks every 100 ms (every second when prctl took effect) that the parent is
 *       still our parent (the fallback when prctl is unavailable) and halts the JVM otherwise. It sleeps rather than blocking in a read of
 *       stdin: HotSpot's exit waits up to 300 ms for threads blocked in native code.</li>
 *   <li>Run the task; exit 0, or print the stack trace to stderr and exit 1.</li>
 * </ol>
 */
public final class ChildMain {
    private ChildMain() {
    }

    public static void main(String[] args) throws Exception {
        long parentPid = Long.parseLong(args[0]);
        Launcher.Mode mode = Launcher.Mode.valueOf(args[1]);
        boolean spare = mode != Launcher.Mode.DIRECT;
        if (spare) {
            followParent(parentPid);
        } else {
            // Linking the prctl downcall costs tens of ms in a fresh JVM; overlap it with reading and
            // decoding the task. The polling watcher covers the moment before it takes effect.
            Thread follow = new Thread(() -> {
                followParent(parentPid);
                // NOTE: the kernel keeps the parent-death signal per thread and sends it only while the
                // thread that asked is alive, so this thread must live as long as the JVM.
                while (true) {
                    LockSupport.park();
                }
            }, "multiproc-pdeathsig");
            follow.setDaemon(true);
            follow.start();
        }
        DataInputStream control = new DataInputStream(new BufferedInputStream(new FileInputStream(FileDescriptor.in)));
        System.setIn(InputStream.nullInputStream());
        if (spare) {
            warmUp();
        }
        if (mode == Launcher.Mode.TRAIN) {
            train();
            System.exit(0);
        }
        TaskFrame frame;
        try {
            frame = TaskFrame.read(control);
        } catch (EOFException dismissed) {
            Runtime.getRuntime().halt(0);
            return;
        }
        watchParent(parentPid);
        System.exit(run(frame));
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

    private static int run(TaskFrame frame) {
        try {
            TaskCodec.decode(frame.task()).run();
            flush();
            return 0;
        } catch (Throwable t) {
            System.err.println("Process " + frame.name() + " (pid " + ProcessHandle.current().pid() + ") failed:");
            t.printStackTrace();
            flush();
            return 1;
        }
    }

    private static void watchParent(long parentPid) {
        Thread watcher = new Thread(() -> {
            try {
                // With the parent-death signal in place this is only a second line of defence: look
                // less often (each look reads /proc), so that an idle child costs next to no CPU.
                long interval = Native.isAvailable() ? 1000 : 100;
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
    private static void warmUp() {
        // NOTE: Runtime.exit looks up the "java.lang.Runtime" System.Logger to log the exit (JDK 17+);
        // the first lookup boots the logging machinery, ~330 classes and ~20 ms at the task's exit.
        System.getLogger("java.lang.Runtime").isLoggable(System.Logger.Level.DEBUG);
        try {
            for (SerializableRunnable probe : probes()) {
                TaskCodec.decode(TaskCodec.encode(probe)).run();
            }
        } catch (RuntimeException e) {
            // only a warm-up; the real task will report any problem
        }
    }

    /** Distinct lambdas (each its own call site and class), capturing what tasks typically capture. */
    private static java.util.List<SerializableRunnable> probes() {
        int n = 1;
        long l = 2;
        String s = "warm";
        long[] array = {3};
        Object o = java.util.List.of(4);
        return java.util.List.of(() -> { }, () -> blackhole(n), () -> blackhole(l + n), () -> blackhole(s),
                () -> blackhole(array[0]), () -> blackhole(o));
    }

    private static void blackhole(Object o) {
        if (o == ChildMain.class) {
            System.out.println(o);
        }
    }

    /** The typical path of a child, for the AOT cache to record: shared values, object streams. */
    private static void train() {
        try (io.multiproc.shared.SharedLong v = io.multiproc.shared.SharedLong.create(0)) {
            v.incrementAndGet();
        }
    }

    private static void flush() {
        System.out.flush();
        System.err.flush();
    }
}
