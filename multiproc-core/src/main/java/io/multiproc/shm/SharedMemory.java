package io.multiproc.shm;

import io.multiproc.internal.SegmentRegistry;
import io.multiproc.internal.ShmFiles;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A named block of shared memory, compatible with CPython's
 * {@code multiprocessing.shared_memory.SharedMemory}: a segment made here as {@code "psm_1234"} is what
 * Python's {@code SharedMemory(name="psm_1234")} opens, and the other way round.
 *
 * <pre>{@code
 * try (SharedMemory shm = SharedMemory.create(null, 1024)) {
 *     shm.segment().set(ValueLayout.JAVA_LONG, 0, 42);
 *     ChildProcess.start(() -> { ... SharedMemory.attach(name) ... }).join();
 *     shm.unlink();
 * }
 * }</pre>
 *
 * <h2>Lifetime, as in CPython, but without early unlinks</h2>
 * {@link #close()} unmaps this process's view; {@link #unlink()} removes the name. The creator owns the
 * segment unless it passed {@code track=false}: if the owner exits (or is killed) without unlinking, the
 * segment is removed at its exit, or by the next multiproc process or {@code multiproc clean} when it was
 * killed. Attaching is never ownership, so a process that only attaches never removes anything (CPython's
 * resource tracker does: gh-82300).
 *
 * <p>Thread-safety: the segment may be used by any thread; {@code close()} while other threads still
 * access it makes their accesses fail with {@link IllegalStateException} rather than crash.
 */
public final class SharedMemory implements AutoCloseable, java.io.Serializable, io.multiproc.codec.HandleSource {
    private static final long serialVersionUID = 1L;
    private final String name;
    private final long size;
    private final Arena arena;
    private final MemorySegment segment;
    /**
     * {@code DEV:INO} of the file this process mapped, read when it was created or attached; null for a
     * private segment or where the platform cannot tell. {@link #unlink()} removes the name only while it
     * still names this file (decision 210).
     */
    private final String fileId;

    private SharedMemory(String name, long size, Arena arena, MemorySegment segment, String fileId) {
        this.name = name;
        this.size = size;
        this.arena = arena;
        this.segment = segment;
        this.fileId = fileId;
    }

    /**
     * Creates a segment owned by this process.
     *
     * @param nameOrNull the name (also in shm_open's {@code /name} form, as {@link #attach} and CPython take it;
     *        the segment's {@link #name()} is then without the '/'), or null for a fresh random one like
     *        CPython's ({@code psm_} + 8 hex digits)
     * @param size bytes, {@code > 0}; reserved now, so a full /dev/shm fails here with an IOException
     * @throws FileAlreadyExistsException if the name is taken
     */
    public static SharedMemory create(String nameOrNull, long size) throws IOException {
        return create(nameOrNull, size, true);
    }

    /**
     * Creates a segment; with {@code track=false} nobody owns it, and it stays until someone unlinks it.
     */
    public static SharedMemory create(String nameOrNull, long size, boolean track) throws IOException {
        if (size <= 0) {
            throw new IllegalArgumentException("size=" + size + " must be > 0");
        }
        if (nameOrNull != null) {
            return create0(bareName(nameOrNull), size, track);
        }
        for (int attempt = 0; ; attempt++) {
            try {
                return create0(ShmFiles.randomName("psm_", 4), size, track);
            } catch (FileAlreadyExistsException taken) {
                if (attempt >= 16) {
                    throw taken;
                }
            }
        }
    }

    private static SharedMemory create0(String name, long size, boolean track) throws IOException {
        if (io.multiproc.internal.SharedSegments.creatingPrivately()) {
            // the spare JVMs' warm-up: a segment private to this process, never named in /dev/shm
            Arena arena = Arena.ofShared();
            try {
                return new SharedMemory(name, size, arena, io.multiproc.internal.SharedSegments.mapPrivate(name, size, arena), null);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
        Path path = ShmFiles.path(name);
        FileChannel ch = track ? SegmentRegistry.createHeld(name) : ShmFiles.createNew(path);
        Arena arena = Arena.ofShared();
        try (ch) {
            String fileId = identityOrNull(path); // NOTE: the file is ours: made O_EXCL just now
            ShmFiles.reserve(ch, path, size);
            return new SharedMemory(name, size, arena, ShmFiles.map(ch, size, arena), fileId);
        } catch (IOException | RuntimeException e) {
            arena.close();
            if (track) {
                SegmentRegistry.unlink(name);
            } else {
                Files.deleteIfExists(path);
            }
            throw e;
        }
    }

    /**
     * Maps an existing segment (made by Java or Python); its size is the segment's size. Its name may be
     * up to 255 bytes long, as CPython's may ({@link #create} takes up to 200, see the README), and may
     * start with the one '/' of shm_open's form (Python's {@code shm._name}).
     *
     * @throws NoSuchFileException if there is no segment with that name
     * @throws IOException naming the segment if it is empty (size=0): its creator has made the name but
     *         not yet sized it, or it is not a segment (CPython: "cannot mmap an empty file")
     */
    public static SharedMemory attach(String name) throws IOException {
        name = bareName(name);
        // up to NAME_MAX, not create's 200 bytes: attaching writes no registry record (name@pid.start)
        Path path = ShmFiles.existingPath(name);
        Arena arena = Arena.ofShared();
        try (FileChannel ch = ShmFiles.openExisting(path)) {
            long size = ShmFiles.size(ch);
            if (size == 0) {
                // NOTE: create() makes the file, then gives it its whole size in one step (ShmFiles.reserve)
                throw new IOException("shared memory segment '" + name + "' is empty (size=0): its creator has not"
                        + " sized it yet, or it is not a segment; attach again once it is created");
            }
            // NOTE: read by name after the open: only another program that unlinks and re-creates the name
            // in between can make it another file's identity (then unlink() refuses, naming the segment)
            return new SharedMemory(name, size, arena, ShmFiles.map(ch, size, arena), identityOrNull(path));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * {@code name} without the one leading '/' of shm_open's form ("/psm_..." is what Python shows as
     * shm._name, and CPython's create takes it): the same segment. Any other '/' is left for the name
     * checks to refuse, naming the value. The one place create and attach normalise a name (decision 228).
     */
    private static String bareName(String name) {
        if (name != null && name.startsWith("/") && name.length() > 1 && name.indexOf('/', 1) < 0) {
            return name.substring(1);
        }
        return name;
    }

    /** {@link ShmFiles#fileIdentity} of a file this process has open; null if it cannot be told. */
    private static String identityOrNull(Path path) {
        try {
            return ShmFiles.fileIdentity(path);
        } catch (IOException gone) {
            return null; // unlinked by someone else already: unlink() will find no file of that name
        }
    }

    /**
     * The mapped bytes.
     *
     * @throws IllegalStateException naming this segment after {@link #close()} (a MemorySegment kept
     *         from before fails on access with the JDK's own "Already closed")
     */
    public MemorySegment segment() {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("SharedMemory '" + name + "' is closed");
        }
        return segment;
    }

    public String name() {
        return name;
    }

    /** Whether {@link #close()} has not yet been called (for the owning package's closed checks). */
    boolean isOpen() {
        return arena.scope().isAlive();
    }

    public long size() {
        return size;
    }

    /**
     * Travels by name, as CPython pickles a SharedMemory: the receiver {@linkplain #attach attaches}
     * (never ownership) and should close its copy when done.
     */
    @java.io.Serial
    private Object writeReplace() {
        return new Handle(name);
    }

    /** What a SharedMemory travels as: its name. */
    record Handle(String name) implements java.io.Serializable, io.multiproc.codec.SharedHandle {
        @java.io.Serial
        private Object readResolve() throws java.io.ObjectStreamException {
            try {
                return SharedMemory.attach(name);
            } catch (IOException e) {
                java.io.InvalidObjectException x = new java.io.InvalidObjectException(
                        "cannot attach shared memory '" + name + "': " + e.getMessage());
                x.initCause(e);
                throw x;
            }
        }
    }

    /**
     * Unmaps this process's view. Idempotent; the segment itself stays until {@link #unlink()}.
     *
     * @throws IllegalStateException naming this segment while another thread is inside I/O or a native call
     *         on its memory (a channel reading into or writing from a buffer of it): the JDK does not unmap
     *         under it; the view stays usable, and a later {@code close()} unmaps it (CPython's close raises
     *         BufferError while the buffer is exported)
     */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            try {
                arena.close();
            } catch (IllegalStateException inUse) {
                throw new IllegalStateException("SharedMemory '" + name + "' cannot be closed while another thread is"
                        + " in I/O or a native call on its memory (" + inUse.getMessage() + "); close it again once"
                        + " that ends", inUse);
            }
        }
    }

    /**
     * Removes the name (other processes' mappings stay valid until they close).
     *
     * <p>Only while the name is still this segment's: if someone else unlinked it and another segment has
     * been made under the same name since (CPython 3.11's resource tracker unlinks a segment that a Python
     * process merely attached, at that process's exit), this segment is already unlinked and the other
     * one is left alone. CPython's {@code unlink()} would remove the other one (decision 210).
     *
     * @throws NoSuchFileException if it was already unlinked, including when the name now belongs to another
     *         segment
     */
    public void unlink() throws IOException {
        if (fileId != null) {
            String now;
            try {
                now = ShmFiles.fileIdentity(ShmFiles.existingPath(name));
            } catch (NoSuchFileException gone) {
                throw alreadyUnlinked(gone.getFile(), "");
            }
            if (now != null && !now.equals(fileId)) {
                // NOTE: this process's registry record, if any, names the old file: its exit or a sweep drops
                // the record and keeps the new file (decision 139)
                throw alreadyUnlinked(ShmFiles.existingPath(name).toString(),
                        "; the segment named so now is another one, made since, and is left alone");
            }
        }
        try {
            if (ShmFiles.fitsRegistry(name)) {
                SegmentRegistry.unlink(name);
            } else {
                // attached, made elsewhere (create refuses such names): no registry record can name it
                Files.delete(ShmFiles.existingPath(name));
            }
        } catch (NoSuchFileException e) {
            throw alreadyUnlinked(e.getFile(), "");
        }
    }

    private NoSuchFileException alreadyUnlinked(String file, String more) {
        return new NoSuchFileException(file, null, "shared memory segment '" + name + "' was already unlinked" + more);
    }

    @Override
    public String toString() {
        return "SharedMemory[name=" + name + ", size=" + size + (arena.scope().isAlive() ? "" : ", closed") + "]";
    }
}
