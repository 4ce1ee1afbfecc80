package io.multiproc.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A directory only this user can use: other local users are adversaries (DESIGN.md), so a directory
 * multiproc trusts (the segment registry in /dev/shm, the AOT cache in the temporary directory) is created
 * with mode 0700, and an existing one is used only if it is a real directory (not a symbolic link) owned by
 * this user; all checked without following symbolic links. One of ours with a looser mode (older versions
 * made them so) is set to 0700 first and then cleared of what others could have put in it meanwhile:
 * entries owned by another user, and symbolic links. Files in it are created with {@code CREATE_NEW} and
 * {@code NOFOLLOW_LINKS}, mode 0600. The one place this policy lives (decisions 031, 037).
 *
 * <pre>{@code
 * Path dir = PrivateDirectory.ensure(Path.of(System.getProperty("java.io.tmpdir"), "multiproc-aot-" + PrivateDirectory.userTag()));
 * PrivateDirectory.createFile(dir.resolve("x.tmp"));   // fails if anything, a symlink included, is there
 * }</pre>
 *
 * <p>Not part of the public API.
 */
public final class PrivateDirectory {
    /** Built on first use: System.getLogger boots java.util.logging (~20 ms on a program's first start). */
    private static final class Log {
        static final System.Logger LOG = System.getLogger("io.multiproc");
    }
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
    /** Group and other write bits: with one of them set, someone else may have planted entries. */
    private static final int WRITABLE_BY_OTHERS = 0022;

    private PrivateDirectory() {
    }

    /** {@link #ensure(Path, int, String)} for this user, the directory described by its path. */
    public static Path ensure(Path dir) throws IOException {
        return ensure(dir, currentUid(), "directory");
    }

    /**
     * Creates {@code dir} (mode 0700) if absent, else verifies it: a directory owned by {@code uid}, not a
     * symbolic link. One of ours with another mode is set to 0700, and if others could write it, entries
     * of other users and symbolic links are removed, with one warning naming them.
     *
     * @param what how messages name the directory ("the segment registry")
     * @throws IOException naming the path, its owner and its mode when it cannot be trusted
     */
    public static Path ensure(Path dir, int uid, String what) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException exists) {
            // made before, by us (checked now) or by someone else (refused below)
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int owner = (int) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (int) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        if (!a.isDirectory() || owner != uid) {
            throw new IOException("refusing " + what + " " + dir + ": it is "
                    + (a.isSymbolicLink() ? "a symbolic link (not a directory)" : a.isDirectory() ? "a directory" : "not a directory")
                    + " owned by uid=" + owner + " with mode=" + modeString(mode) + "; it must be a directory owned by uid="
                    + uid + " with mode 0700. Another local user may have made it: check it, remove it, and run again");
        }
        if (mode != 0700) {
            // NOTE: close it first, then remove what others may have put in it while it was open.
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
            List<String> planted = (mode & WRITABLE_BY_OTHERS) != 0 ? removeForeignEntries(dir, uid) : List.of();
            Log.LOG.log(System.Logger.Level.WARNING, "multiproc: " + what + " " + dir + " had mode " + modeString(mode)
                    + "; set it to 0700" + (planted.isEmpty() ? "" : " and removed entries of other users: " + planted));
        }
        return dir;
    }

    private static List<String> removeForeignEntries(Path dir, int uid) throws IOException {
        List<String> removed = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (Files.isSymbolicLink(p) || (int) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) != uid) {
                    Files.deleteIfExists(p);
                    removed.add(p.getFileName().toString());
                }
            }
        }
        return removed;
    }

    /** Creates a new empty file, mode 0600; fails if any entry (a symbolic link included) has that name. */
    public static Path createFile(Path file) throws IOException {
        Files.newByteChannel(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                PosixFilePermissions.asFileAttribute(OWNER_FILE)).close();
        return file;
    }

    /** True if {@code file} is a regular file (not a link) of this user that nobody else may write. */
    public static boolean isPrivateFile(Path file) {
        try {
            int uid = (int) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int mode = (int) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && uid == currentUid() && (mode & WRITABLE_BY_OTHERS) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * What names this user in the names of per-user directories ({@code multiproc-aot-TAG}): the user's
     * name, or {@code uid} and the number when the JDK has no name for it. A uid without a passwd entry
     * (OpenShift's arbitrary uids, {@code docker run --user 12345}) is {@code user.name=?} to the JDK: two
     * such users shared the name {@code multiproc-aot-?}, and the second, refused by the first's
     * directory, had no AOT cache (a warning each run) and lost its children's failure reports
     * ({@code failure()} empty).
     */
    public static String userTag() {
        String name = System.getProperty("user.name", "");
        if (!name.isEmpty() && !name.equals("?") && name.indexOf('/') < 0 && name.indexOf('\0') < 0) {
            return name;
        }
        try {
            return "uid" + currentUid();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot tell this process's user id from /proc/self: " + e.getMessage(), e);
        }
    }

    /** This process's user id (the owner of /proc/self). */
    public static int currentUid() throws IOException {
        return (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    private static String modeString(int mode) {
        return String.format("%04o", mode & 07777);
    }
}
