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
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "multiproc-launcher");
        t.setDaemon(true);
        return t;
    });

    private Launcher() {
    }

    /** Starts {@code java ... ChildMain} now, on the launcher thread, and returns the running process. */
    static Process launch(List<String> jvmOptions, boolean spare) {
        try {
            return launchAsync(jvmOptions, spare).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    static CompletableFuture<Process> launchAsync(List<String> jvmOptions, boolean spare) {
        List<String> command = command(jvmOptions, spare);
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new ProcessBuilder(command)
                        .redirectInput(ProcessBuilder.Redirect.PIPE)
                        .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start a child JVM: " + String.join(" ", command), e);
            }
        }, THREAD);
    }

    static List<String> command(List<String> jvmOptions, boolean spare) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.addAll(AotCache.options());
        cmd.addAll(jvmOptions);
        cmd.add(MAIN_CLASS);
        cmd.add(Long.toString(ProcessHandle.current().pid()));
        cmd.add(spare ? "spare" : "direct");
        return cmd;
    }
}
