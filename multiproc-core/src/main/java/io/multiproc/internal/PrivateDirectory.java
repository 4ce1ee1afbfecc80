package io.multiproc.internal;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * A directory only this user can use: other local users are adversaries (DESIGN.md), so a directory
 * multiproc trusts is created with mode 0700, and an existing one is used only if it is a real directory
 * (not a symbolic link), owned by this user and writable by nobody else; all checked without following
 * symbolic links. Files in it are created with {@code CREATE_NEW} and {@code NOFOLLOW_LINKS}, mode 0600.
 *
 * <pre>{@code
 * Path dir = PrivateDirectory.ensure(Path.of(System.getProperty("java.io.tmpdir"), "multiproc-aot-" + user));
 * PrivateDirectory.createFile(dir.resolve("x.tmp"));   // fails if anything, a symlink included, is there
 * }</pre>
 *
 * <p>Not part of the public API.
 */
public final class PrivateDirectory {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
    /** Group and other write bits: with one of them set, someone else may have planted entries. */
    private static final int WRITABLE_BY_OTHERS = 0022;

    private PrivateDirectory() {
    }

    /**
     * Creates {@code dir} (mode 0700) if absent, else verifies it. An existing directory of this user
     * that others can read but not write (an older multiproc made it 0755) is tightened to 0700.
     *
     * @throws IOException naming the path, its owner and its mode when it cannot be trusted
     */
    public static Path ensure(Path dir) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException exists) {
            // verified below, whoever made it
        }
        int uid = (int) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (int) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        boolean isDirectory = Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS);
        if (!isDirectory || uid != currentUid() || (mode & WRITABLE_BY_OTHERS) != 0) {
            throw new IOException("refusing directory " + dir + ": owner uid=" + uid + ", mode=" + modeString(mode)
                    + (isDirectory ? "" : " (not a directory)") + "; it must be a directory owned by uid="
                    + currentUid() + " with mode 0700");
        }
        if ((mode & 0777) != 0700) {
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        }
        return dir;
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

    /** This process's user id (the owner of /proc/self). */
    public static int currentUid() throws IOException {
        return (int) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    private static String modeString(int mode) {
        return String.format("0%o", mode & 07777);
    }
}
