package io.multiproc.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Files under /dev/shm: name rules, creation with reserved space, mapping. A name {@code N} is the file
 * {@code /dev/shm/N}, which is what CPython's {@code SharedMemory(name="N")} opens through shm_open("/N").
 *
 * <p>Not part of the public API.
 */
public final class ShmFiles {
    public static final Path SHM_DIR = Path.of("/dev/shm");
    /** Leaves room below NAME_MAX (255) for the registry's record names ({@code name@pid.start}). */
    public static final int MAX_NAME_BYTES = 200;
    private static final long PAGE = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    private ShmFiles() {
    }

    /** Checks a segment name and returns its path. */
    public static Path path(String name) {
        validateName(name);
        return SHM_DIR.resolve(name);
    }

    public static void validateName(String name) {
        if (name == null) {
            throw new IllegalArgumentException("name=null must not be null");
        }
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("name='" + name + "' is not a valid segment name");
        }
        if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("name='" + name.replace("\0", "\\0")
                    + "' must not contain '/' or NUL");
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("name='" + name + "' is too long: " + bytes + " bytes (at most "
                    + MAX_NAME_BYTES + ")");
        }
    }

    /** A fresh random name: {@code prefix} followed by {@code hexBytes} random bytes in hex. */
    public static String randomName(String prefix, int hexBytes) {
        byte[] b = new byte[hexBytes];
        RANDOM.nextBytes(b);
        return prefix + HexFormat.of().formatHex(b);
    }

    /** Creates the file exclusively (0600, as CPython does); FileAlreadyExistsException if taken. */
    public static FileChannel createNew(Path path) throws IOException {
        return FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }

    public static FileChannel openExisting(Path path) throws IOException {
        try {
            return FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (java.nio.file.NoSuchFileException e) {
            // The one message for every attach of a missing name (docs/decisions/058).
            throw new java.nio.file.NoSuchFileException(path.toString(), null,
                    "no shared memory segment named '" + path.getFileName() + "'");
        }
    }

    /**
     * Gives the file its size and reserves the memory behind it now. tmpfs allocates pages lazily, so
     * without this a full /dev/shm shows up later as SIGBUS in whichever process touches the page.
     */
    public static void reserve(FileChannel channel, Path path, long size) throws IOException {
        long free = freeBytes();
        if (free >= 0 && size > free) {
            throw noSpace(path, size, "not enough free space");
        }
        if (Native.isAvailable()) {
            int err = Native.fallocate(path.toString(), size);
            if (err != 0) {
                throw noSpace(path, size, Native.strerror(err));
            }
            return;
        }
        Native.logFallbackOnce("reserving /dev/shm space");
        // Writing one byte into every page makes tmpfs allocate it, or fail with ENOSPC now.
        ByteBuffer zero = ByteBuffer.allocate(1);
        try {
            for (long off = 0; off < size; off += PAGE) {
                channel.write(zero.clear(), off);
            }
            channel.write(zero.clear(), size - 1);
        } catch (IOException e) {
            throw noSpace(path, size, e.getMessage());
        }
    }

    private static IOException noSpace(Path path, long size, String why) {
        return new IOException("cannot reserve size=" + size + " bytes for " + path + " (" + why
                + "); /dev/shm has " + freeBytes() + " bytes free");
    }

    private static long freeBytes() {
        try {
            return Files.getFileStore(SHM_DIR).getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    public static MemorySegment map(FileChannel channel, long size, Arena arena) throws IOException {
        return channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
    }
}
