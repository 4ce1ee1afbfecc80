package io.multiproc.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Every native call multiproc makes, in one place (Linux, x86_64 and aarch64).
 *
 * <p>Downcall handles are created only when native access is enabled for this module: creating one
 * while access is off already makes the JDK print its warning. Callers ask {@link #isAvailable()} and
 * take their pure-Java fallback otherwise; {@link #logFallbackOnce(String)} then names the flag once.
 *
 * <pre>{@code
 * if (Native.isAvailable()) Native.setParentDeathSignal(Native.SIGKILL);
 * }</pre>
 *
 * <p>Not part of the public API.
 */
public final class Native {
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;

    private static final int PR_SET_PDEATHSIG = 1;
    private static final int PRIO_PROCESS = 0;
    private static final int MFD_CLOEXEC = 1;
    private static final int O_RDWR = 2;
    private static final int FUTEX_WAIT = 0;
    private static final int FUTEX_WAKE = 1;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;
    private static final int ETIMEDOUT = 110;

    private static final boolean AVAILABLE = Native.class.getModule().isNativeAccessEnabled();
    private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();
    private static final System.Logger LOG = System.getLogger("io.multiproc");
    /** Written once by {@code Files}' static initializer; read by any thread (a stale false only costs a write). */
    private static volatile boolean fallocateLinked;
    /** Written once by {@code ExitNow}'s static initializer; read by the thread that exits. */
    private static volatile boolean exitLinked;

    private Native() {
    }

    /**
     * Handles are built lazily, one holder class each, so that nothing is linked when access is off and
     * a child JVM that needs only prctl does not pay for linking the rest (each handle costs ms).
     */
    private static final class Linking {
        static final Linker LINKER = Linker.nativeLinker();
        static final SymbolLookup LIBC = LINKER.defaultLookup();

        static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
            return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), descriptor, options);
        }
    }

    private static final class Errno {
        static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    }

    private static final class Prctl {
        static final MethodHandle PRCTL = Linking.downcall("prctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    }

    private static final class Close {
        static final MethodHandle CLOSE = Linking.downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** What {@link #fallocate} needs; {@code fallocateLinked} turns true once all of it is linked. */
    private static final class Files {
        static final MethodHandle OPEN = Linking.downcall("open",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
        static final MethodHandle POSIX_FALLOCATE = Linking.downcall("posix_fallocate",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
        static final MethodHandle CLOSE = Close.CLOSE;

        static {
            fallocateLinked = true;
        }
    }

    /** Only for error messages: never linked on a path that succeeds. */
    private static final class Strerror {
        static final MethodHandle STRERROR = Linking.downcall("strerror",
                FunctionDescriptor.of(ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(256, ValueLayout.JAVA_BYTE)), JAVA_INT));
    }

    private static final class Memfd {
        static final MethodHandle MEMFD_CREATE = Linking.downcall("memfd_create",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.captureCallState("errno"));
    }

    private static final class Priority {
        static final MethodHandle SETPRIORITY = Linking.downcall("setpriority",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }

    /** Linked ahead by {@link #linkExitNow} (a child's exit must not pay the 5-25 ms of linking a handle). */
    private static final class ExitNow {
        static final MethodHandle EXIT = Linking.downcall("_exit", FunctionDescriptor.ofVoid(JAVA_INT));
        /** {@code fflush(NULL)}: libc's own buffers, which the JVM's exit (libc's exit) would have flushed. */
        static final MethodHandle FLUSH_ALL = Linking.downcall("fflush", FunctionDescriptor.of(JAVA_INT, ADDRESS));

        static {
            exitLinked = true;
        }
    }

    private static final class Futex {
        static final long NR = futexSyscallNumber();
        static final MethodHandle SYSCALL = Linking.downcall("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
                Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

        private static long futexSyscallNumber() {
            String arch = System.getProperty("os.arch");
            return switch (arch) {
                case "amd64", "x86_64" -> 202;
                case "aarch64", "arm64" -> 98;
                default -> throw new UnsupportedOperationException("os.arch=" + arch + " is not supported (x86_64, aarch64)");
            };
        }
    }

    /**
     * The flag that gives this library native access: {@code ALL-UNNAMED} on the class path, the module's
     * name on the module path (decision 081).
     */
    public static final String FLAG = "--enable-native-access="
            + (Native.class.getModule().isNamed() ? Native.class.getModule().getName() : "ALL-UNNAMED");

    /** True when this module may call native code ({@link #FLAG}). */
    public static boolean isAvailable() {
        return AVAILABLE;
    }

    /** Logs, once per JVM, that {@code feature} runs on its slower pure-Java fallback and why. */
    public static void logFallbackOnce(String feature) {
        if (FALLBACK_LOGGED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "multiproc: native access is off, so " + feature
                    + " uses a slower pure-Java fallback; run java with " + FLAG);
        }
    }

    /** prctl(PR_SET_PDEATHSIG, signal): this process gets {@code signal} when its parent thread dies. */
    public static void setParentDeathSignal(int signal) {
        requireAvailable();
        int rc;
        try {
            rc = (int) Prctl.PRCTL.invokeExact(PR_SET_PDEATHSIG, (long) signal);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (rc != 0) {
            throw new IllegalStateException("prctl(PR_SET_PDEATHSIG, " + signal + ") failed: rc=" + rc);
        }
    }

    /**
     * memfd_create(name, MFD_CLOEXEC): an anonymous shared-memory file that has no name in any directory,
     * so nothing is left behind however this process ends. Open it as {@code /proc/self/fd/FD}, then
     * {@link #closeFd} the descriptor.
     *
     * @return the file descriptor, or minus the error number
     */
    public static int memfdCreate(String name) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Errno.CAPTURE);
            int fd = (int) Memfd.MEMFD_CREATE.invokeExact(capture, arena.allocateFrom(name), MFD_CLOEXEC);
            return fd >= 0 ? fd : -(int) Errno.ERRNO.get(capture, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(fd) for a descriptor from {@link #memfdCreate}. */
    public static void closeFd(int fd) {
        requireAvailable();
        try {
            int ignored = (int) Close.CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Lowers the scheduling priority of the calling thread only, to nice value {@code nice} (0 to 19).
     * On Linux {@code setpriority(PRIO_PROCESS, 0, nice)} applies to the calling thread, not the whole
     * process, and threads it starts later inherit it. An unprivileged thread cannot raise its priority
     * back, so call this only on a thread that never runs user work.
     *
     * @return true if the priority was changed
     */
    public static boolean lowerThisThreadPriority(int nice) {
        if (nice < 0 || nice > 19) {
            throw new IllegalArgumentException("nice=" + nice + " must be between 0 and 19");
        }
        requireAvailable();
        try {
            return (int) Priority.SETPRIORITY.invokeExact(PRIO_PROCESS, 0, nice) == 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Links {@link #exitNow} now (5-25 ms in a JVM that linked little before), so that an exit needing it
     * later does not pay for it; call it off the critical path. False if native access is off.
     */
    public static boolean linkExitNow() {
        if (!AVAILABLE) {
            return false;
        }
        try {
            return ExitNow.EXIT != null;
        } catch (RuntimeException | Error e) {
            return false;
        }
    }

    /** True once {@link #linkExitNow} has linked {@link #exitNow} in this JVM. */
    public static boolean isExitNowLinked() {
        return exitLinked;
    }

    /**
     * Ends this process at once with {@code status} ({@code _exit(2)}): no shutdown hooks, no JVM exit
     * sequence, Java streams not flushed. Only for a child whose hooks already ran (see ChildMain). Output
     * that native code left in C stdio's buffers (a library's printf into a file or pipe) is flushed
     * first; native {@code atexit} handlers do not run.
     */
    public static void exitNow(int status) {
        requireAvailable();
        try {
            int unused = (int) ExitNow.FLUSH_ALL.invokeExact(MemorySegment.NULL);
            ExitNow.EXIT.invokeExact(status);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        throw new IllegalStateException("_exit(" + status + ") returned");
    }

    /**
     * Reserves {@code size} bytes of backing store for the file at {@code path} (posix_fallocate), so that
     * a full /dev/shm fails here rather than with SIGBUS on a later page fault. Also sets the file size.
     *
     * @return 0 on success, else the error number (for example 28, ENOSPC)
     */
    public static int fallocate(String path, long size) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(Errno.CAPTURE);
            int fd = (int) Files.OPEN.invokeExact(capture, arena.allocateFrom(path), O_RDWR, 0);
            if (fd < 0) {
                return (int) Errno.ERRNO.get(capture, 0L);
            }
            try {
                return (int) Files.POSIX_FALLOCATE.invokeExact(fd, 0L, size);
            } finally {
                int ignored = (int) Files.CLOSE.invokeExact(fd);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * True once {@link #fallocate} has been linked in this JVM, so calling it costs no more linking:
     * ShmFiles then prefers it to writing zeros at any size.
     */
    public static boolean isFallocateLinked() {
        return fallocateLinked;
    }

    /** The C library's text for an error number, for messages. */
    public static String strerror(int errno) {
        if (!AVAILABLE) {
            return "errno " + errno;
        }
        try {
            MemorySegment s = (MemorySegment) Strerror.STRERROR.invokeExact(errno);
            return s.getString(0) + " (errno " + errno + ")";
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /**
     * futex(FUTEX_WAIT) on a shared (not private) 32-bit word: sleeps while {@code *address == expected},
     * at most {@code timeoutNanos} (negative: no limit).
     *
     * @return 0 when woken (or spuriously), or the errno: EAGAIN if the word differed, ETIMEDOUT, EINTR
     */
    public static int futexWait(MemorySegment word, int expected, long timeoutNanos, MemorySegment scratch) {
        requireAvailable();
        try {
            MemorySegment timeout = MemorySegment.NULL;
            if (timeoutNanos >= 0) {
                timeout = scratch.asSlice(timespecOffset(), 16, 8);
                timeout.set(JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
                timeout.set(JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
            }
            long rc = (long) Futex.SYSCALL.invokeExact(scratch, Futex.NR, word, FUTEX_WAIT, expected,
                    timeout, MemorySegment.NULL, 0);
            return rc == 0 ? 0 : (int) Errno.ERRNO.get(scratch, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** futex(FUTEX_WAKE) on a shared 32-bit word; returns how many waiters were woken. */
    public static int futexWake(MemorySegment word, int count, MemorySegment scratch) {
        requireAvailable();
        try {
            long rc = (long) Futex.SYSCALL.invokeExact(scratch, Futex.NR, word, FUTEX_WAKE, count,
                    MemorySegment.NULL, MemorySegment.NULL, 0);
            return (int) rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Bytes a caller must allocate (8-aligned) for the {@code scratch} argument of the futex calls. */
    public static long futexScratchSize() {
        return timespecOffset() + 16;
    }

    /** The timespec follows the errno capture, rounded up to its 8-byte alignment. */
    private static long timespecOffset() {
        return (Errno.CAPTURE.byteSize() + 7) & ~7L;
    }

    public static boolean isTimeout(int errno) {
        return errno == ETIMEDOUT;
    }

    public static boolean isRetry(int errno) {
        return errno == EAGAIN || errno == EINTR;
    }

    private static void requireAvailable() {
        if (!AVAILABLE) {
            throw new IllegalStateException("native access is off; run java with " + FLAG);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }
}
