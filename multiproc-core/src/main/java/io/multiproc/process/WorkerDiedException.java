package io.multiproc.process;

import java.io.Serial;
import java.util.OptionalInt;

/**
 * A {@link Pool} worker JVM died (SIGKILL, {@code Runtime.halt}, the OOM killer, a crash) while it held
 * this task. Only the tasks that worker held fail with it; the pool starts a replacement and goes on.
 *
 * <pre>{@code
 * try {
 *     pool.applyAsync(() -> { Runtime.getRuntime().halt(9); return 0; }).get();
 * } catch (ExecutionException e) {
 *     WorkerDiedException died = (WorkerDiedException) e.getCause();
 *     System.out.println(died.pid() + " " + died.exitCode());   // 12345 9
 * }
 * }</pre>
 */
public class WorkerDiedException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final long pid;
    private final int exitCode;

    /**
     * @param pid      the worker's pid
     * @param exitCode as {@link ChildProcess#exitCode()} reports it: {@code -N} for signal N;
     *                 {@link Integer#MIN_VALUE} when it could not be learnt (the process was never reaped)
     * @param held     what the worker held, for the message
     */
    public WorkerDiedException(long pid, int exitCode, String held) {
        super("pool worker pid=" + pid + " died (" + describe(exitCode) + ") while it held " + held);
        this.pid = pid;
        this.exitCode = exitCode;
    }

    /** The dead worker's pid. */
    public long pid() {
        return pid;
    }

    /** Its exit code as {@link ChildProcess#exitCode()} reports it: {@code -N} when signal N killed it. */
    public int exitCode() {
        return exitCode;
    }

    /** The signal that killed the worker, if one did (and it is known). */
    public OptionalInt signal() {
        return exitCode < 0 && exitCode != Integer.MIN_VALUE ? OptionalInt.of(-exitCode) : OptionalInt.empty();
    }

    private static String describe(int exitCode) {
        return switch (exitCode) {
            case -9 -> "killed by signal 9, SIGKILL";
            case -15 -> "killed by signal 15, SIGTERM";
            case -6 -> "killed by signal 6, SIGABRT";
            case -11 -> "killed by signal 11, SIGSEGV";
            case Integer.MIN_VALUE -> "exit code unknown: the process was not reaped";
            default -> exitCode < 0 ? "killed by signal " + -exitCode : "exit code " + exitCode;
        };
    }
}
