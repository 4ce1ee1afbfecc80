package io.multiproc.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A parent JVM for {@link ParentDeathTest}: the test starts this class as its own JVM, with the test
 * class path, and watches its output, its exit and its children. Not a test itself.
 *
 * <p>Scenarios (first argument):
 * <ul>
 *   <li>{@code throwing}: a child prints {@code out-from-child} to stdout, then throws
 *       {@code IllegalStateException("boom-from-child")}; prints {@code exit-code=N} and returns.</li>
 *   <li>{@code orphan spare|cold}: a child waits until it has asked to die with its parent, prints
 *       {@code child-ready=N} (its pid) and sleeps 60 s; the parent prints {@code child-pid=N}, then
 *       sleeps until killed. {@code spare} makes sure the child is a spare JVM, {@code cold} turns
 *       spares off.</li>
 *   <li>{@code daemon-exit}: a daemon child sleeps 60 s; prints {@code child-pid=N} and returns.</li>
 *   <li>{@code nondaemon-exit MARKER}: a non-daemon child sleeps 1.5 s, then creates the file MARKER;
 *       prints {@code child-pid=N} and returns at once.</li>
 *   <li>{@code terminated sleeping|exiting MARKER}: a non-daemon child adds a shutdown hook that creates
 *       the file MARKER, prints {@code child-ready=N} and sleeps 60 s; the parent prints
 *       {@code child-pid=N}, then sleeps 60 s ({@code sleeping}) or prints {@code main-returned=1} and
 *       returns from main, so that its exit waits for the child ({@code exiting}).</li>
 *   <li>{@code daemon-hooks READY MARKER}: a daemon child adds a shutdown hook that works 1 s, then
 *       creates the file MARKER; it creates the file READY and sleeps 60 s. The parent prints
 *       {@code child-pid=N}, waits for READY and returns from main.</li>
 *   <li>{@code native-out}: a child writes {@code native-out-from-child} through C stdio ({@code puts},
 *       left in libc's buffer: stdout is a file) and returns; prints {@code exit-code=N}.</li>
 * </ul>
 */
public final class ParentScenario {
    static final String MAIN_CLASS = ParentScenario.class.getName();

    private ParentScenario() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "throwing" -> throwing();
            case "orphan" -> orphan(args[1]);
            case "daemon-exit" -> daemonExit();
            case "nondaemon-exit" -> nondaemonExit(args[1]);
            case "terminated" -> terminated(args[1], args[2]);
            case "native-out" -> nativeOut();
            case "daemon-hooks" -> daemonHooks(args[1], args[2]);
            default -> throw new IllegalArgumentException("scenario=" + args[0] + " is not known");
        }
    }

    private static void throwing() throws InterruptedException {
        ChildProcess child = ChildProcess.start(() -> {
            System.out.println("out-from-child");
            throw new IllegalStateException("boom-from-child");
        });
        child.join();
        System.out.println("exit-code=" + child.exitCode().orElse(Integer.MIN_VALUE));
    }

    private static void orphan(String mode) throws InterruptedException {
        switch (mode) {
            case "cold" -> ChildProcess.setSpareJvms(0);
            case "spare" -> awaitSpare();
            default -> throw new IllegalArgumentException("mode=" + mode + " is not spare or cold");
        }
        ChildProcess child = ChildProcess.start(() -> {
            awaitParentDeathSignal();
            System.out.println("child-ready=" + ProcessHandle.current().pid());
            System.out.flush();
            sleep(Duration.ofSeconds(60));
        });
        announce(child);
        Thread.sleep(Duration.ofSeconds(60));
    }

    private static void terminated(String mode, String marker) throws InterruptedException {
        if (!mode.equals("sleeping") && !mode.equals("exiting")) {
            throw new IllegalArgumentException("mode=" + mode + " is not sleeping or exiting");
        }
        ChildProcess child = ChildProcess.start(() -> {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    Files.writeString(Path.of(marker), "hooks ran");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
            System.out.println("child-ready=" + ProcessHandle.current().pid());
            System.out.flush();
            sleep(Duration.ofSeconds(60));
        });
        announce(child);
        if (mode.equals("sleeping")) {
            Thread.sleep(Duration.ofSeconds(60));
        } else {
            System.out.println("main-returned=1");
            System.out.flush();
        }
    }

    private static void nativeOut() throws InterruptedException {
        ChildProcess child = ChildProcess.start(() -> {
            java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
            java.lang.invoke.MethodHandle puts = linker.downcallHandle(linker.defaultLookup().find("puts").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.ADDRESS));
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                int unused = (int) puts.invokeExact(arena.allocateFrom("native-out-from-child"));
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        });
        child.join();
        System.out.println("exit-code=" + child.exitCode().orElse(Integer.MIN_VALUE));
    }

    private static void daemonExit() {
        ChildProcess child = ChildProcess.builder().daemon(true).target(() -> sleep(Duration.ofSeconds(60))).start();
        announce(child);
    }

    private static void daemonHooks(String ready, String marker) throws InterruptedException {
        ChildProcess child = ChildProcess.builder().daemon(true).target(() -> {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                sleep(Duration.ofMillis(1000)); // a hook's cleanup: flushing a file, closing a connection
                write(marker, "hooks ran");
            }));
            write(ready, "ready");
            sleep(Duration.ofSeconds(60));
        }).start();
        announce(child);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(Path.of(ready))) {
            if (System.nanoTime() > deadline || !child.isAlive()) {
                throw new IllegalStateException("the daemon child did not get ready: " + child);
            }
            Thread.sleep(10);
        }
    }

    private static void write(String file, String text) {
        try {
            Files.writeString(Path.of(file), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void nondaemonExit(String marker) {
        ChildProcess child = ChildProcess.start(() -> {
            sleep(Duration.ofMillis(1500));
            try {
                Files.writeString(Path.of(marker), "done");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        announce(child);
    }

    /** Runs one child (which starts a spare), then waits until that spare JVM is running. */
    private static void awaitSpare() throws InterruptedException {
        ChildProcess.start(() -> { }).join();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.current().children().noneMatch(ParentScenario::isSpare)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no spare JVM started within 10 s");
            }
            Thread.sleep(20);
        }
        Thread.sleep(300); // let the spare boot to the point where it waits for a task
    }

    /**
     * In a child: waits until ChildMain's thread that asks for the parent-death signal is done asking
     * (a cold child asks on that thread while its task already runs; a spare asked before it took the task).
     */
    private static void awaitParentDeathSignal() {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Thread.getAllStackTraces().entrySet().stream().anyMatch(e -> e.getKey().getName().equals("multiproc-pdeathsig")
                && Arrays.stream(e.getValue()).noneMatch(f -> f.getClassName().equals(LockSupport.class.getName())))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("thread multiproc-pdeathsig still busy after 10 s");
            }
            sleep(Duration.ofMillis(5));
        }
    }

    private static boolean isSpare(ProcessHandle p) {
        List<String> args = List.of(p.info().arguments().orElse(new String[0]));
        return p.isAlive() && args.contains(Launcher.MAIN_CLASS) && args.contains(Launcher.Mode.SPARE.name());
    }

    private static void announce(ChildProcess child) {
        System.out.println("child-pid=" + child.pid());
        System.out.flush();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
