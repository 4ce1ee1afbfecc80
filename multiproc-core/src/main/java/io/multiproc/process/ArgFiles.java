package io.multiproc.process;

import io.multiproc.internal.PrivateDirectory;
import io.multiproc.internal.ProcessIdentity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code java} launcher's argument files ({@code java @FILE}), for child JVM options too long for a
 * command line ({@link Launcher#tooLongForExec}, decision 219).
 *
 * <p>One file per distinct list of options, written once and kept for this JVM's life (every spare and
 * child of one class path uses the same). The file names a class path that children load code from, so
 * it is as private as a report file: it lives in the report directory ({@link ChildReport#directory()}:
 * mode 0700, checked without following links, files 0600 created {@code CREATE_NEW}) and is named like a
 * report ({@code PID.STARTTICKS-PIDNAMESPACE-argsN}), so that a sweep removes it once its JVM has exited.
 * Not deleted at this JVM's exit: a spare launched by then (a Pool's replacement, a spare's own
 * replacement) still has to read it, and printed "could not open" on the program's stderr when it was
 * gone. Writing a file sweeps the directory, so what exited programs left stays at about one file each
 * until the next program that needs one.
 */
final class ArgFiles {
    private static final ConcurrentHashMap<List<String>, Path> FILES = new ConcurrentHashMap<>();
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private ArgFiles() {
    }

    /** The argument file holding {@code options}, written on first use. */
    static Path of(List<String> options) {
        return FILES.computeIfAbsent(List.copyOf(options), ArgFiles::write);
    }

    private static Path write(List<String> options) {
        Path dir = ChildReport.directory();
        Path file = dir.resolve(ProcessIdentity.current() + "-" + ProcessIdentity.OWN_NAMESPACE + "-args" + SEQUENCE.incrementAndGet());
        try {
            PrivateDirectory.ensure(dir);
            ChildReport.sweep(dir);
            PrivateDirectory.createFile(file);
            // NOTE: the launcher turns the file's bytes into arguments as exec would turn a command line's:
            // in the platform's encoding of file names, the one ProcessBuilder uses for a command line.
            Files.writeString(file, format(options), encoding(), StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a child JVM: its options (a class path of "
                    + System.getProperty("java.class.path", "").length() + " characters, say) are longer than Linux"
                    + " takes on a command line, and the argument file for them cannot be written: " + file
                    + " (" + e + "); make java.io.tmpdir=" + System.getProperty("java.io.tmpdir") + " writable, or"
                    + " shorten the class path (a jar whose manifest Class-Path lists the others)", e);
        }
    }

    /**
     * One option a line, each in double quotes, in which the launcher reads a backslash as an escape:
     * spaces, quotes, {@code #} and backslashes in paths stay as they are.
     */
    static String format(List<String> options) {
        StringBuilder out = new StringBuilder();
        for (String o : options) {
            out.append('"');
            for (int i = 0; i < o.length(); i++) {
                char c = o.charAt(i);
                switch (c) {
                    case '\\' -> out.append("\\\\");
                    case '"' -> out.append("\\\"");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\f' -> out.append("\\f");
                    default -> out.append(c);
                }
            }
            out.append("\"\n");
        }
        return out.toString();
    }

    private static Charset encoding() {
        String name = System.getProperty("sun.jnu.encoding", System.getProperty("native.encoding"));
        try {
            return name == null ? Charset.defaultCharset() : Charset.forName(name);
        } catch (IllegalArgumentException e) {
            return Charset.defaultCharset();
        }
    }
}
