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

    private SharedSegments() {
    }

    /** One process-wide mapping of a segment; {@link #release()} once per acquisition. */
    public static final class Mapping {
        private final String name;
        private final MemorySegment segment;
        private final Arena arena;
        private int references; // guarded by MAPPINGS

        private Mapping(String name, MemorySegment segment, Arena arena) {
            this.name = name;
            this.segment = segment;
            this.arena = arena;
            this.references = 1;
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
                    try {
                        SegmentRegistry.release(name);
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
        for (int attempt = 0; ; attempt++) {
            String name = ShmFiles.randomName(prefix, 8);
            Path path = ShmFiles.path(name);
            FileChannel ch;
            try {
                ch = SegmentRegistry.createHeld(name);
            } catch (FileAlreadyExistsException taken) {
                if (attempt < 8) {
                    continue;
                }
                throw new UncheckedIOException(taken);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Arena arena = Arena.ofShared();
            try (ch) {
                ShmFiles.reserve(ch, path, size);
                MemorySegment seg = ShmFiles.map(ch, size, arena);
                init.accept(seg);
                Mapping m = new Mapping(name, seg, arena);
                synchronized (MAPPINGS) {
                    MAPPINGS.put(name, m);
                }
                return m;
            } catch (IOException | RuntimeException e) {
                arena.close();
                try {
                    SegmentRegistry.release(name);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
            }
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
     * segment may be another program's).
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
                MemorySegment seg = ShmFiles.map(ch, ch.size(), arena);
                check.accept(seg);
                m = new Mapping(name, seg, arena);
                MAPPINGS.put(name, m);
                return m;
            } catch (IOException | RuntimeException e) {
                arena.close();
                if (added) {
                    try {
                        SegmentRegistry.dropHold(name);
                    } catch (IOException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }
    }
}
