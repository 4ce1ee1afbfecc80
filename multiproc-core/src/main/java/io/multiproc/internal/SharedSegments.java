package io.multiproc.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Mappings of the segments behind high-level shared objects (values, arrays, and later locks and
 * queues), with their lifetime: a segment lives while some process uses it.
 *
 * <p>One mapping per segment per process, reference-counted: every object attached to a segment holds
 * one reference; the last {@link Mapping#release()} unmaps it and drops this process's hold in the
 * {@link SegmentRegistry}, which unlinks the segment when no live process holds it any more.
 *
 * <pre>{@code
 * Mapping m = SharedSegments.create("mp_", 4096, seg -> seg.set(JAVA_LONG, 0, MAGIC));
 * Mapping again = SharedSegments.attach(m.name());   // same mapping, second reference
 * }</pre>
 *
 * <p>Not part of the public API.
 */
public final class SharedSegments {
    private static final Map<String, Mapping> MAPPINGS = new HashMap<>();
    /** Set on a thread inside {@link #privately}: what it creates is private to this process. */
    private static final ThreadLocal<Boolean> PRIVATE = ThreadLocal.withInitial(() -> false);

    private SharedSegments() {
    }

    /** One process-wide mapping of a segment; {@link #release()} once per acquisition. */
    public static final class Mapping {
        private final String name;
        private final MemorySegment segment;
        private final Arena arena;
        /** Made inside {@link #privately}: no file, no registry hold; release only unmaps. */
        private final boolean isPrivate;
        /** False for a mapping that records no hold in the registry (a manager's heap in attached processes). */
        private final boolean held;
        private int references; // guarded by MAPPINGS

        private Mapping(String name, MemorySegment segment, Arena arena, boolean isPrivate) {
            this(name, segment, arena, isPrivate, true);
        }

        private Mapping(String name, MemorySegment segment, Arena arena, boolean isPrivate, boolean held) {
            this.name = name;
            this.segment = segment;
            this.arena = arena;
            this.isPrivate = isPrivate;
            this.held = held;
            this.references = 1;
        }

        /** Takes one more reference to this mapping (for an object that lives in it and is closed on its own). */
        public Mapping retain() {
            synchronized (MAPPINGS) {
                if (references == 0) {
                    throw new IllegalStateException("segment '" + name + "' is no longer mapped");
                }
                references++;
                return this;
            }
        }

        public String name() {
            return name;
        }

        public MemorySegment segment() {
            return segment;
        }

        /** Drops one reference; the last one unmaps, and unlinks the segment if no other process holds it. */
        public void release() {
            synchronized (MAPPINGS) {
                if (references == 0) {
                    return;
                }
                if (--references > 0) {
                    return;
                }
                MAPPINGS.remove(name);
                // NOTE: still under MAPPINGS, so an attach of the same name in this process waits until
                // the hold is gone (and then finds the segment, or finds it unlinked), never in between.
                // The hold goes even if unmapping fails, or the segment would outlive every user.
                try {
                    arena.close();
                } finally {
                    if (isPrivate) {
                        return;
                    }
                    try {
                        if (held) {
                            SegmentRegistry.release(name);
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot release segment '" + name + "'", e);
                    }
                }
            }
        }
    }

    /**
     * Creates a segment with a fresh name starting with {@code prefix}, reserves {@code size} bytes,
     * lets {@code init} write its header (before any other process can know the name), and maps it.
     */
    public static Mapping create(String prefix, long size, Consumer<MemorySegment> init) {
        if (PRIVATE.get()) {
            return createPrivate(prefix, size, init);
        }
        for (int attempt = 0; ; attempt++) {
            try {
                return createNamed(ShmFiles.randomName(prefix, 8), size, init);
            } catch (FileAlreadyExistsException taken) {
                if (attempt >= 8) {
                    throw new UncheckedIOException(taken);
                }
            }
        }
    }

    /**
     * Creates segment {@code name} exclusively, held by this process, like {@link #create}.
     *
     * @throws FileAlreadyExistsException if the name is taken (nothing is changed)
     */
    public static Mapping createNamed(String name, long size, Consumer<MemorySegment> init) throws FileAlreadyExistsException {
        FileChannel ch;
        try {
            ch = SegmentRegistry.createHeld(name);
        } catch (FileAlreadyExistsException taken) {
            throw taken;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return mapCreated(name, ch, size, init, true);
    }

    /**
     * Creates segment {@code name} exclusively, held in the registry only by segment {@code parent} (it is
     * removed with the parent), lets {@code init} write its header and maps it. The mapping records no
     * hold of this process. FileAlreadyExistsException (wrapped unchecked) if the name is taken.
     */
    public static Mapping createDependent(String name, long size, String parent, Consumer<MemorySegment> init) {
        FileChannel ch;
        try {
            ch = SegmentRegistry.createHeldByParent(name, parent);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return mapCreated(name, ch, size, init, false);
    }

    /**
     * Reserves and maps a segment just created on {@code ch}, lets {@code init} write it and records the
     * mapping; on failure undoes the creation (drops this process's hold, or unlinks an unheld segment).
     */
    private static Mapping mapCreated(String name, FileChannel ch, long size, Consumer<MemorySegment> init, boolean held) {
        Arena arena = Arena.ofShared();
        try (ch) {
            ShmFiles.reserve(ch, ShmFiles.path(name), size);
            MemorySegment seg = ShmFiles.map(ch, size, arena);
            init.accept(seg);
            Mapping m = new Mapping(name, seg, arena, false, held);
            synchronized (MAPPINGS) {
                MAPPINGS.put(name, m);
            }
            return m;
        } catch (IOException | RuntimeException e) {
            arena.close();
            try {
                if (held) {
                    SegmentRegistry.release(name);
                } else {
                    SegmentRegistry.unlink(name);
                }
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /**
     * Maps an existing segment without recording this process as a holder (its lifetime is someone
     * else's: a manager's heap lives while its owner does), sharing this process's mapping if it has one;
     * {@code check} inspects the bytes first.
     */
    public static Mapping mapUnheld(String name, Consumer<MemorySegment> check) throws IOException {
        synchronized (MAPPINGS) {
            Mapping m = MAPPINGS.get(name);
            if (m != null) {
                check.accept(m.segment);
                m.references++;
                return m;
            }
            Arena arena = Arena.ofShared();
            try (FileChannel ch = ShmFiles.openExisting(ShmFiles.path(name))) {
                MemorySegment seg = ShmFiles.map(ch, ShmFiles.size(ch), arena);
                check.accept(seg);
                m = new Mapping(name, seg, arena, false, false);
                MAPPINGS.put(name, m);
                return m;
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    /**
     * Runs {@code body} so that every segment this thread creates meanwhile is private to this process:
     * an anonymous memfd, never named in /dev/shm nor registered, so nothing is left behind however the
     * process ends (mapped through a FileChannel like a shared one: the same segment class, which
     * matters to the JIT's type profiles). Needs native access. Objects made so work as usual inside this process, and attach by name only
     * here. For the spare JVMs' warm-up of the library's hot paths.
     */
    public static void privately(Runnable body) {
        PRIVATE.set(true);
        try {
            body.run();
        } finally {
            PRIVATE.set(false);
        }
    }

    /** True on a thread inside {@link #privately}: raw segments it creates must use {@link #mapPrivate}. */
    public static boolean creatingPrivately() {
        return PRIVATE.get();
    }

    /**
     * Maps {@code size} bytes of a new anonymous memfd into {@code arena}: a file that has no name in
     * /dev/shm at any moment, so a process killed at any point (a spare warming up at the lowest
     * priority can sit anywhere for long) leaves nothing behind. Mapped through a FileChannel like a
     * shared segment, so it is the same segment class. Needs native access.
     */
    public static MemorySegment mapPrivate(String name, long size, Arena arena) throws IOException {
        if (!Native.isAvailable()) {
            throw new UnsupportedOperationException("private segments need native access (memfd_create)");
        }
        int fd = Native.memfdCreate(name);
        if (fd < 0) {
            throw new IOException("memfd_create(" + name + ") failed: " + Native.strerror(-fd));
        }
        Path path = Path.of("/proc/self/fd/" + fd);
        try (FileChannel ch = ShmFiles.openOwnDescriptor(fd)) {
            ShmFiles.reserve(ch, path, size);
            return ShmFiles.map(ch, size, arena);
        } finally {
            Native.closeFd(fd);
        }
    }

    private static Mapping createPrivate(String prefix, long size, Consumer<MemorySegment> init) {
        String name = ShmFiles.randomName(prefix, 8);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = mapPrivate(name, size, arena);
            init.accept(seg);
            Mapping m = new Mapping(name, seg, arena, true);
            synchronized (MAPPINGS) {
                MAPPINGS.put(name, m);
            }
            return m;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /**
     * Attaches to an existing segment, sharing this process's mapping if it has one.
     *
     * @throws java.nio.file.NoSuchFileException if no segment has that name (wrapped unchecked)
     */
    public static Mapping attach(String name) throws IOException {
        return attach(name, seg -> { });
    }

    /**
     * Attaches like {@link #attach(String)}, but first lets {@code check} inspect the mapped bytes; if it
     * throws, the attach fails and leaves the segment as it was (a failed attach never unlinks: the
     * segment may be another program's), held as before, by its carrier too when it came in a taken item.
     */
    public static Mapping attach(String name, Consumer<MemorySegment> check) throws IOException {
        // NOTE: decoding an item taken from a queue or pipe: this attach replaces the carrier's
        // in-flight hold on the segment (InFlight), in the same registry step as our own hold.
        String carrier = InFlight.carrierToAdopt(name);
        synchronized (MAPPINGS) {
            Mapping m = MAPPINGS.get(name);
            if (m != null) {
                check.accept(m.segment);
                if (carrier != null) {
                    SegmentRegistry.addHolder(name, carrier);
                }
                m.references++;
                return m;
            }
            Path path = ShmFiles.path(name);
            boolean added = SegmentRegistry.addHolder(name, carrier);
            Arena arena = Arena.ofShared();
            try (FileChannel ch = ShmFiles.openExisting(path)) {
                MemorySegment seg = ShmFiles.map(ch, ShmFiles.size(ch), arena);
                check.accept(seg);
                m = new Mapping(name, seg, arena, false);
                MAPPINGS.put(name, m);
                return m;
            } catch (IOException | RuntimeException e) {
                arena.close();
                if (added || carrier != null) {
                    // NOTE: the carrier's in-flight hold goes back with our record in one step: dropping
                    // only ours would leave a segment held by nobody, which no sweep ever removes.
                    try {
                        SegmentRegistry.undoAddHolder(name, carrier, added);
                        if (carrier != null) {
                            InFlight.notAdopted(name);
                        }
                    } catch (IOException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }
    }
}
