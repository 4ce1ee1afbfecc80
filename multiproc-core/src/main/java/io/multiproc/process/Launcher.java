package io.multiproc.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts child JVMs, always from one long-lived thread.
 *
 * <p>Why one thread: the child asks for SIGKILL when its parent dies (PR_SET_PDEATHSIG), and Linux
 * sends that signal when the parent <em>thread</em> that forked it exits, not the process. Starting
 * children from a user's short-lived thread would kill them when that thread ends.
 */
final class Launcher {
    static final String MAIN_CLASS = "io.multiproc.process.ChildMain";

    /** What the child JVM is for; its name is ChildMain's second argument. */
    enum Mode {
        /** Runs the task it is sent at once. */
        DIRECT,
        /** Boots, warms up and waits for a task. */
        SPARE,
        /**
         * Runs ChildMain's warm-up and the library's hot paths once so that the JDK records them in an
         * AOT cache, then exits. Does not follow its parent: the build finishes even after a short
         * program has exited (see {@link AotCache}).
         */
        TRAIN
    }
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "multiproc-launcher");
        t.setDaemon(true);
        return t;
    });

    private Launcher() {
    }

    /** Starts {@code java ... ChildMain} now, on the launcher thread, and returns the running process. */
    static Process launch(List<String> jvmOptions, Mode mode) {
        try {
            return launchAsync(jvmOptions, mode).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    static CompletableFuture<Process> launchAsync(List<String> jvmOptions, Mode mode) {
        List<String> command = command(jvmOptions, mode);
        return CompletableFuture.supplyAsync(() -> {
            try {
                // A training JVM's output is the JDK's report on the cache it writes: not the user's.
                ProcessBuilder.Redirect out = mode == Mode.TRAIN ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.INHERIT;
                return new ProcessBuilder(command)
                        .redirectInput(ProcessBuilder.Redirect.PIPE)
                        .redirectOutput(out)
                        .redirectError(out)
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start a child JVM: " + shown(command), e);
            }
        }, THREAD);
    }

    /**
     * Starts {@code command} on the launcher thread, with no input and its output discarded; used for
     * the AOT cache build, which must outlive a short program and so does not ask to die with it.
     */
    static CompletableFuture<Process> startDetached(List<String> command) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new ProcessBuilder(command)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + shown(command), e);
            }
        }, THREAD);
    }

    static List<String> command(List<String> jvmOptions, Mode mode) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.addAll(ModulePath.options());
        if (jvmOptions.isEmpty()) {
            cmd.addAll(AotCache.options());
        }
        // NOTE: a cache removed between the check and the child's start (another program of this user
        // pruned it) must not print the JDK's errors into the user's output; the child then starts
        // without it. The same options in the training run keep its report off the user's terminal.
        cmd.add("-Xlog:aot=off");
        cmd.add("-Xlog:cds=off");
        // NOTE: the JVM's monitor-deflation thread woke 4 times a second (every 250 ms) in every idle
        // child, spare and pool worker: the largest part of an idle pool's CPU (decision 168). Every 2 s
        // is enough for a child; the user's own options below may still set it.
        cmd.add("-XX:+UnlockDiagnosticVMOptions");
        cmd.add("-XX:AsyncDeflationInterval=2000");
        // What ChildMain's fast exit registers its last shutdown hook through (the same in the AOT
        // cache's training run, whose options the cache must match).
        cmd.add("--add-exports=java.base/jdk.internal.access="
                + (Launcher.class.getModule().isNamed() ? Launcher.class.getModule().getName() : "ALL-UNNAMED"));
        if (!jvmOptions.isEmpty() && mode != Mode.TRAIN) {
            // the user's own JVM options (agents, logging, JFR) may need the JVM's whole exit sequence
            cmd.add("-D" + ChildMain.FAST_EXIT_PROPERTY + "=false");
        }
        cmd.addAll(jvmOptions);
        List<String> options = cmd.subList(1, cmd.size());
        if (tooLongForExec(options)) {
            List<String> inFile = List.copyOf(options);
            options.clear();
            options.add("@" + ArgFiles.of(inFile));
        }
        cmd.add(MAIN_CLASS);
        cmd.add(Long.toString(ProcessHandle.current().pid()));
        cmd.add(mode.name());
        return cmd;
    }

    /**
     * Linux refuses to exec a command with one argument longer than MAX_ARG_STRLEN (128 KiB) or all of
     * them together beyond ARG_MAX (a quarter of the stack limit, often 2 MiB, the environment included):
     * "Argument list too long". A class path of a few thousand jars is that long (IntelliJ and Gradle pass
     * it to the parent in an {@code @argfile} for this reason), and so is a module path. Above these
     * margins the options go into an argument file of their own (decision 219).
     */
    static boolean tooLongForExec(List<String> options) {
        long total = 0;
        for (String o : options) {
            long bytes = o.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes > ARG_FILE_ABOVE_BYTES) {
                return true;
            }
            total += bytes + 1;
        }
        return total > ARG_FILE_ABOVE_TOTAL_BYTES;
    }

    /** Well below MAX_ARG_STRLEN (131,072 bytes with its NUL). */
    static final int ARG_FILE_ABOVE_BYTES = 64 * 1024;
    /** Well below the usual ARG_MAX of 2 MiB, which the environment shares. */
    static final int ARG_FILE_ABOVE_TOTAL_BYTES = 512 * 1024;

    /** A command for a message: the first 2,000 characters (an argument can be a 100 KiB class path). */
    private static String shown(List<String> command) {
        String all = String.join(" ", command);
        return all.length() <= 2_000 ? all : all.substring(0, 2_000) + "... (" + all.length() + " characters)";
    }
}
