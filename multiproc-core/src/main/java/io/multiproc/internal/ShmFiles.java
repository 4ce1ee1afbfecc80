package io.multiproc.internal;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
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
    /**
     * Longest name of a segment the registry may record ({@link #path}): leaves room below NAME_MAX (255)
     * for the registry's record names ({@code name@pid.start}).
     */
    public static final int MAX_NAME_BYTES = 200;
    /**
     * Longest name of a segment that is only opened or removed ({@link #existingPath}): NAME_MAX, what
     * /dev/shm and so CPython's {@code SharedMemory(name=..., create=True)} accept.
     */
    public static final int MAX_EXISTING_NAME_BYTES = 255;
    /**
     * Below this size {@link #reserve} writes zeros through the channel instead of calling
     * posix_fallocate: linking the first native downcall costs a fresh JVM 150-400 ms (FFM's linker
     * classes, then spinning the stub), while writing zeros costs a second pass over the memory, ~0.4 ms
     * per MiB here; the two meet near 600 MiB. Once the native call is linked it is used at any size.
     */
    static final long FALLOCATE_MIN_BYTES = 512L << 20;
    private static final int ZERO_CHUNK = 1 << 20;

    private ShmFiles() {
    }

    /** Checks a segment name, at most {@link #MAX_NAME_BYTES} bytes, and returns its path. */
    public static Path path(String name) {
        validateName(name);
        return SHM_DIR.resolve(name);
    }

    /**
     * Checks the name of a segment someone else made, which this process opens or removes without
     * recording it (CPython's names go up to {@link #MAX_EXISTING_NAME_BYTES} bytes), and returns its path.
     */
    public static Path existingPath(String name) {
        validateName(name, MAX_EXISTING_NAME_BYTES);
        return SHM_DIR.resolve(name);
    }

    /** Whether the registry can record {@code name} (a valid name of at most {@link #MAX_NAME_BYTES} bytes). */
    public static boolean fitsRegistry(String name) {
        return name.getBytes(StandardCharsets.UTF_8).length <= MAX_NAME_BYTES;
    }

    public static void validateName(String name) {
        validateName(name, MAX_NAME_BYTES);
    }

    private static void validateName(String name, int maxBytes) {
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
        if (bytes > maxBytes) {
            throw new IllegalArgumentException("name='" + name + "' is too long: " + bytes + " bytes (at most "
                    + maxBytes + (maxBytes < MAX_EXISTING_NAME_BYTES
                            ? "; a segment made elsewhere can be attached with up to " + MAX_EXISTING_NAME_BYTES : "")
                    + ")");
        }
    }

    /**
     * A fresh random name: {@code prefix} followed by {@code hexBytes} random bytes in hex. The bytes come
     * from the kernel's /dev/urandom, read directly: {@code SecureRandom}'s first use costs a fresh JVM
     * 55-78 ms (security providers), a read costs one system call. Names need not be secret (anyone can
     * list /dev/shm) but must not be predictable, so another user cannot take the next name first;
     * files are created O_EXCL, so a collision only retries with a new name.
     */
    public static String randomName(String prefix, int hexBytes) {
        return prefix + HexFormat.of().formatHex(Urandom.bytes(hexBytes));
    }

    /** The kernel's random source, opened on first use and kept open; SecureRandom if it cannot be read. */
    private static final class Urandom {
        private static final InputStream IN = open();
        private static volatile SecureRandom fallback;

        static byte[] bytes(int n) {
            byte[] b = new byte[n];
            if (IN != null) {
                try {
                    // NOTE: read(2) on /dev/urandom is thread-safe and returns up to 256 bytes whole.
                    if (IN.readNBytes(b, 0, n) == n) {
                        return b;
                    }
                } catch (IOException e) {
                    // fall through to SecureRandom
                }
            }
            SecureRandom r = fallback;
            if (r == null) {
                fallback = r = new SecureRandom();
            }
            r.nextBytes(b);
            return b;
        }

        private static InputStream open() {
            try {
                return new FileInputStream("/dev/urandom");
            } catch (IOException e) {
                return null;
            }
        }
    }

    /**
     * {@code DEV:INO} of the file at {@code path} (not following a link: what unlinking the name removes),
     * or null where the platform cannot tell; NoSuchFileException if there is none. Two files that had the
     * same name one after the other (one unlinked, then a new one created) have different identities.
     */
    public static String fileIdentity(Path path) throws IOException {
        java.util.Map<String, Object> a;
        try {
            a = Files.readAttributes(path, "unix:dev,ino", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            return null;
        }
        return a.get("dev") + ":" + a.get("ino");
    }

    /** Creates the file exclusively (0600, as CPython does); FileAlreadyExistsException if taken. */
    public static FileChannel createNew(Path path) throws IOException {
        return FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }

    /**
     * Opens this process's own memfd through its {@code /proc/self/fd/N} entry, read-write. That entry
     * is a symbolic link by nature, so it is followed; {@link #openExisting} (any name in /dev/shm) never
     * follows one.
     */
    public static FileChannel openOwnDescriptor(int fd) throws IOException {
        return FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /**
     * Opens a segment someone made, read-write. A symbolic link is refused, as glibc's shm_open (so
     * CPython's SharedMemory) refuses it with O_NOFOLLOW: another local user's link must not make this
     * process map, and write, the file it points to.
     */
    public static FileChannel openExisting(Path path) throws IOException {
        try {
            return FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            // The one message for every attach of a missing name (docs/decisions/058).
            throw new java.nio.file.NoSuchFileException(path.toString(), null,
                    "no shared memory segment named '" + path.getFileName() + "'");
        } catch (IOException e) {
            if (Files.isSymbolicLink(path)) {
                java.nio.file.FileSystemException refused = new java.nio.file.FileSystemException(path.toString(), null,
                        "shared memory segment '" + path.getFileName() + "' is a symbolic link, which is never"
                        + " followed (CPython's shm_open refuses it too)");
                refused.initCause(e);
                throw refused;
            }
            throw e;
        }
    }

    /**
     * Gives the new, empty file its size and reserves the memory behind it now. tmpfs allocates pages
     * lazily, so without this a full /dev/shm shows up later as SIGBUS in whichever process touches the
     * page. Small and medium files are filled with zeros through {@code channel} (no native call to
     * link, see {@link #FALLOCATE_MIN_BYTES}); large ones use posix_fallocate.
     */
    public static void reserve(FileChannel channel, Path path, long size) throws IOException {
        interruptSetAside(() -> {
            reserveNow(channel, path, size);
            return null;
        });
    }

    private static void reserveNow(FileChannel channel, Path path, long size) throws IOException {
        long free = freeBytes();
        if (free >= 0 && size > free) {
            throw noSpace(path, size, "not enough free space");
        }
        if (Native.isAvailable() && (size >= FALLOCATE_MIN_BYTES || Native.isFallocateLinked())) {
            int err = Native.fallocate(path.toString(), size);
            if (err != 0) {
                throw noSpace(path, size, Native.strerror(err));
            }
            return;
        }
        if (size >= FALLOCATE_MIN_BYTES) {
            Native.logFallbackOnce("reserving /dev/shm space");
        }
        writeZeros(channel, path, size);
    }

    /** Writing every page makes tmpfs allocate it now, or fail with ENOSPC now. */
    private static void writeZeros(FileChannel channel, Path path, long size) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            // NOTE: Arena memory is zeroed, and freed at the end of this block (a heap buffer would leave
            // a 1 MiB temporary direct buffer cached in this thread for good).
            ByteBuffer zeros = arena.allocate(Math.min(size, ZERO_CHUNK)).asByteBuffer();
            // NOTE: the final size first (one byte at size - 1, the rest a hole), then the zeros in place:
            // a process that attaches meanwhile maps the whole segment, never the prefix written so far.
            channel.write(zeros.limit(1), size - 1); // blocking, to a regular file: writes the byte
            for (long off = 0; off < size; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - off));
                off += channel.write(zeros, off);
            }
        } catch (IOException e) {
            throw noSpace(path, size, e.getMessage());
        }
    }

    private static IOException noSpace(Path path, long size, String why) {
        return new IOException("cannot reserve size=" + size + " bytes for " + path + " (" + why + "); " + fullAdvice());
    }

    /**
     * What a message says when /dev/shm is full: its free bytes and its size, and how to get more. A
     * container's /dev/shm is a 64 MiB tmpfs unless its runtime is told otherwise (Docker's default), far
     * less than the host's, and a user reading only "N bytes free" did not know that the fix is outside
     * the program. Used by every message about a full /dev/shm.
     */
    public static String fullAdvice() {
        long total = totalBytes();
        return "/dev/shm has " + freeBytes() + " bytes free of " + total + (total > 0 ? " (" + (total >> 20) + " MiB)" : "")
                + ": give it more (a container's /dev/shm is 64 MiB unless set: docker run --shm-size=1g, Kubernetes"
                + " an emptyDir volume with medium: Memory mounted at /dev/shm) or free some ('multiproc ls' shows what"
                + " holds it, 'multiproc clean' removes segments whose holders died)";
    }

    /** Bytes free in /dev/shm for this user, or -1 if unknown. */
    static long freeBytes() {
        try {
            return Files.getFileStore(SHM_DIR).getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    /** The size of the file system /dev/shm is, or -1 if unknown. */
    static long totalBytes() {
        try {
            return Files.getFileStore(SHM_DIR).getTotalSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    public static MemorySegment map(FileChannel channel, long size, Arena arena) throws IOException {
        return interruptSetAside(() -> channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena));
    }

    /** The file's size, read like {@link #map} with the caller's interrupt set aside. */
    public static long size(FileChannel channel) throws IOException {
        return interruptSetAside(channel::size);
    }

    @FunctionalInterface
    interface IoStep<T> {
        T run() throws IOException;
    }

    /**
     * Runs one step of channel I/O with this thread's interrupt set aside and given back after it. The
     * JDK closes a FileChannel, and fails the step, when an interrupted thread does blocking I/O on it;
     * creating, attaching and closing a shared object are short, bounded steps that a cancelled task or
     * a stopping executor must still be able to finish (and the registry's lock channel is shared by
     * the whole JVM). The interrupt stays for the caller's next blocking wait to see.
     */
    static <T> T interruptSetAside(IoStep<T> step) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            return step.run();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
