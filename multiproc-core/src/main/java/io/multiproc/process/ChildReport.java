package io.multiproc.process;

import io.multiproc.internal.PrivateDirectory;
import io.multiproc.internal.ProcessIdentity;
import io.multiproc.internal.RemoteFailure;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * What a child tells its parent; the control channel (the child's stdin, decision 001) only goes the
 * other way. Nothing is created for a child that succeeds (decision 075).
 * <ul>
 *   <li><b>Loaded</b> costs the child one write: it renames itself {@code mp-loaded}
 *       ({@link ChildMain.State#LOADED}, {@code /proc/self/comm}) once its task is decoded, the same
 *       mechanism as {@code mp-spare}; a parent that must know reads {@code /proc/PID/comm} until it says
 *       so or the child has exited ({@link #awaitLoaded}).</li>
 *   <li><b>A failure</b> (the task could not be decoded, or it threw) is written by the child, just
 *       before it exits 1, to its <em>report file</em>: a path the parent chose and sent in the task
 *       frame, in a private directory of this user ({@link PrivateDirectory}: 0700, files 0600, created
 *       {@code CREATE_NEW}), outside /dev/shm. Content: one kind byte ({@link #LOAD_FAILED} or
 *       {@link #TASK_FAILED}), then the {@link RemoteFailure} in the task codec. The parent reads and
 *       deletes it once the child has exited ({@link #take}), from the JDK's exit callback: the file
 *       lives from the child's failure to the parent's reaping of it.</li>
 *   <li><b>An exit of the task's own</b> ({@code System.exit(n)} on any thread of the task) is marked the
 *       same way, with the one byte {@link #EXITED} ({@link #writeExited}, from a shutdown hook): the JVM
 *       reports a child killed by signal N as exit code 128 + N, so without the mark
 *       {@code System.exit(130)} would read as SIGINT (decision 204). A child that returns, throws, or is
 *       stopped by a signal leaves no mark.</li>
 *   <li>A file is left behind only when the parent dies between the two (its children die with it); the
 *       file is named for the parent ({@code PID.STARTTICKS-PIDNAMESPACE-SEQ}), and the next parent that takes a
 *       report removes those whose parent is dead ({@link #sweep}).</li>
 * </ul>
 */
final class ChildReport {
    static final byte LOAD_FAILED = 'L';
    static final byte TASK_FAILED = 'F';
    /** The task ended the JVM itself (System.exit): the exit code is the task's, not a signal's. */
    static final byte EXITED = 'X';
    static final String LOADED_COMM = "mp-loaded";
    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** What an exited child reported; {@code failure} is null for {@link #EXITED}. */
    record Report(byte kind, RemoteFailure failure) {
        boolean couldNotLoad() {
            return kind == LOAD_FAILED;
        }

        boolean exitedOnItsOwn() {
            return kind == EXITED;
        }
    }

    private ChildReport() {
    }

    /** The directory of this user's report files; created by the first child that fails. */
    static Path directory() {
        return Path.of(System.getProperty("java.io.tmpdir"), "multiproc-reports-" + PrivateDirectory.userTag());
    }

    /**
     * A fresh report file path for a child about to start (nothing is created): named for this JVM, so
     * that a sweep can tell whose files are orphans.
     */
    static Path newFile() {
        return directory().resolve(ProcessIdentity.current() + "-" + ProcessIdentity.OWN_NAMESPACE + "-" + SEQUENCE.incrementAndGet());
    }

    // ---------------------------------------------------------------- child side

    /** Writes the failure to {@code file}; a child that cannot write it still exits 1, which the parent sees. */
    static void write(String file, byte kind, Throwable t) {
        if (file.isEmpty()) {
            return;
        }
        try {
            byte[] bytes = TaskCodec.encode(RemoteFailure.of(t));
            Path path = Path.of(file);
            PrivateDirectory.ensure(path.getParent());
            PrivateDirectory.createFile(path);
            try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                out.write(kind);
                out.write(bytes);
            }
        } catch (IOException | RuntimeException cannotReport) {
            // the exit code still tells; the stack trace is on stderr
        }
    }

    /**
     * Marks that the task ended the JVM with its own System.exit; nothing if {@code file} exists already
     * (the task's failure was reported) or cannot be written (the exit code then reads as it did).
     */
    static void writeExited(String file) {
        if (file.isEmpty()) {
            return;
        }
        try {
            Path path = Path.of(file);
            PrivateDirectory.ensure(path.getParent());
            PrivateDirectory.createFile(path);
            try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                out.write(EXITED);
            }
        } catch (IOException | RuntimeException cannotReport) {
            // a failure report is there already, or the directory is unusable
        }
    }

    // ---------------------------------------------------------------- parent side

    /**
     * Waits until the child says loaded or exits, at most {@code timeout}: spins briefly, then looks
     * every 50 µs growing to 1 ms (a look is one read of a /proc file, ~10 µs).
     *
     * @return true if the child reported loaded (or there is no /proc to tell), false if it exited (then
     *         {@code child.isAlive()} is false on return) or the timeout passed first
     */
    static boolean awaitLoaded(Process child, Duration timeout) throws InterruptedException {
        return awaitLoaded(child, timeout, ChildMain.State::nameOf);
    }

    /** A read of a process's name ({@code /proc/PID/comm}); a seam for the test of a read that races the child's reaping. */
    @FunctionalInterface
    interface NameReader {
        String nameOf(long pid) throws IOException;
    }

    static boolean awaitLoaded(Process child, Duration timeout, NameReader names) throws InterruptedException {
        boolean loaded = lookUntilLoaded(child, timeout, names);
        if (!loaded && !Files.exists(Path.of("/proc", Long.toString(child.pid())))) {
            // NOTE: the kernel reaps before the JDK's reaper thread records the exit: wait for that.
            child.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        return loaded;
    }

    private static boolean lookUntilLoaded(Process child, Duration timeout, NameReader names) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 50_000;
        int failedReads = 0;
        for (int round = 0; ; round++) {
            try {
                if (names.nameOf(child.pid()).equals(LOADED_COMM)) {
                    return true;
                }
                failedReads = 0;
            } catch (NoSuchFileException gone) {
                return false;
            } catch (IOException | RuntimeException unreadable) {
                if (!Files.isDirectory(Path.of("/proc/self"))) {
                    return true; // no /proc: nothing can tell, so start does not wait
                }
                // NOTE: a child reaped between the open and the read of its comm fails the read with
                // ESRCH ("No such process") while Process.isAlive() can still say true: the JDK's reaper
                // records the exit only after waitpid returns. Such a child is exiting, not loaded; a read
                // that keeps failing for a child still listed in /proc gives up after ~0.1 s.
                if (!Files.exists(Path.of("/proc", Long.toString(child.pid()))) || !child.isAlive()) {
                    return false;
                }
                if (++failedReads > 100) {
                    return true;
                }
            }
            if (!child.isAlive() || System.nanoTime() - deadline > 0) {
                return false;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (round < 20) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(pause);
                pause = Math.min(pause * 2, 1_000_000);
            }
        }
    }

    /**
     * Reads and deletes an exited child's report file: null if there is none (the child succeeded, was
     * killed, or could not write it) or it is unreadable (cut short by a kill, not this user's).
     */
    static Report take(Path file) {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        sweep(file.getParent());
        try {
            if (!PrivateDirectory.isPrivateFile(file)) {
                return null;
            }
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length == 1 && bytes[0] == EXITED) {
                return new Report(EXITED, null);
            }
            if (bytes.length < 2 || (bytes[0] != LOAD_FAILED && bytes[0] != TASK_FAILED)) {
                return null;
            }
            Object f = TaskCodec.decodeObject(java.util.Arrays.copyOfRange(bytes, 1, bytes.length));
            return f instanceof RemoteFailure failure ? new Report(bytes[0], failure) : null;
        } catch (IOException | RuntimeException unreadable) {
            return null;
        } finally {
            deleteQuietly(file);
        }
    }

    /**
     * Removes report files whose parent died before it could take them. Runs only when a report is
     * taken (a child failed) or an argument file is written ({@link ArgFiles}, named the same way), over a
     * directory that holds only those.
     */
    static void sweep(Path dir) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                // PID.STARTTICKS-PIDNAMESPACE-SEQ (or -argsN); a parent of another pid namespace is not ours to judge
                String[] parts = f.getFileName().toString().split("-");
                ProcessIdentity parent = parts.length == 3 ? ProcessIdentity.parse(parts[0]) : null;
                if (parent != null && parts[1].equals(Long.toString(ProcessIdentity.OWN_NAMESPACE)) && !parent.isAlive()) {
                    deleteQuietly(f);
                }
            }
        } catch (IOException | RuntimeException e) {
            // only housekeeping
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // another process of this user removed it, or will
        }
    }
}
