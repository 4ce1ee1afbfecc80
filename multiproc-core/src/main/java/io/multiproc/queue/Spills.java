package io.multiproc.queue;

import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.internal.ShmFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Spill segments ({@link SpillLayout}): one per item too large for its ring.
 *
 * <p>Lifetime: the producer creates the segment with a registry <em>parent hold</em> naming the ring's
 * segment (decision 013), and writes the item; so the item survives its producer exiting at once, and
 * is removed with the ring's segment if nobody takes it. The consumer that takes it copies it out and
 * unlinks it. A producer killed before referencing it from the ring leaves it unreferenced but held by
 * the ring: it goes with the ring. {@link #reclaimOrphans()} (run when a ring lock is taken over from
 * a dead process) also removes segments whose only holders died.
 *
 * <pre>{@code
 * String name = Spills.create(bytes, n, ringSegmentName);
 * Spills.read(name, scratch, 0, true);   // copies into scratch and unlinks
 * }</pre>
 */
final class Spills {
    private static final System.Logger LOG = System.getLogger("io.multiproc");

    private Spills() {
    }

    /**
     * Creates a spill segment holding {@code src[0, length)}, held by segment {@code parent} from the
     * start (never by this process: it may exit right after); returns its name. The segment is mapped
     * privately for the copy, not through the process-wide mapping cache: it is written once here and
     * read once by its consumer.
     */
    static String create(byte[] src, int length, String parent) {
        for (int attempt = 0; ; attempt++) {
            String name = ShmFiles.randomName(SpillLayout.PREFIX, 8);
            FileChannel ch;
            try {
                ch = SegmentRegistry.createHeldByParent(name, parent);
            } catch (FileAlreadyExistsException taken) {
                if (attempt < 8) {
                    continue;
                }
                throw new UncheckedIOException(taken);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a spill segment for '" + parent + "'", e);
            }
            long size = SpillLayout.segmentSize(length);
            try (ch; Arena arena = Arena.ofConfined()) {
                ShmFiles.reserve(ch, ShmFiles.path(name), size);
                MemorySegment seg = ShmFiles.map(ch, size, arena);
                seg.set(JAVA_LONG, SpillLayout.LENGTH, length);
                MemorySegment.copy(src, 0, seg, JAVA_BYTE, SpillLayout.DATA, length);
                SegmentHeader.write(seg, SpillLayout.MAGIC, SpillLayout.VERSION, SpillLayout.KIND);
                return name;
            } catch (IOException | RuntimeException e) {
                unlinkAfter(e, name);
                throw e instanceof IOException io ? new UncheckedIOException("cannot write spill segment '" + name + "'", io)
                        : (RuntimeException) e;
            }
        }
    }

    private static void unlinkAfter(Exception failure, String name) {
        try {
            unlink(name);
        } catch (RuntimeException suppressed) {
            failure.addSuppressed(suppressed);
        }
    }

    /**
     * Copies the spilled item into {@code dst}'s input at {@code dstOffset} (growing it), optionally
     * unlinking the segment afterwards. Mapped privately for the copy (see {@link #create}); the parent
     * hold keeps the segment meanwhile, so this process needs no hold of its own.
     *
     * @return false if the segment is gone (a consumer died after unlinking it, before moving the head)
     */
    static boolean read(String name, long length, Scratch dst, int dstOffset, boolean unlink) {
        try (FileChannel ch = ShmFiles.openExisting(ShmFiles.path(name)); Arena arena = Arena.ofConfined()) {
            MemorySegment seg = ShmFiles.map(ch, ShmFiles.size(ch), arena);
            SegmentHeader.check(seg, name, "spill segment", SpillLayout.MAGIC, SpillLayout.VERSION, SpillLayout.KIND);
            long stored = seg.get(JAVA_LONG, SpillLayout.LENGTH);
            if (stored != length || length > Integer.MAX_VALUE - 16 - dstOffset) {
                throw new IllegalStateException("spill segment '" + name + "' holds length=" + stored
                        + " but its record says " + length);
            }
            byte[] into = dst.growInput(dstOffset, (int) length);
            MemorySegment.copy(seg, JAVA_BYTE, SpillLayout.DATA, into, dstOffset, (int) length);
        } catch (NoSuchFileException gone) {
            LOG.log(System.Logger.Level.WARNING, "multiproc: spilled item '" + name
                    + "' is gone (its reader died while taking it); skipped");
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spilled item '" + name + "'", e);
        }
        if (unlink) {
            unlink(name);
        }
        return true;
    }

    /**
     * Copies the item record at {@code pos} of {@code ring} into {@code s}'s input at {@code offset}; for
     * a spilled item reads (and, if {@code take}, unlinks) its segment. The caller is the ring's one
     * consumer right now.
     *
     * @return the item's length, or -1 if it was a spilled item whose segment is gone
     */
    static int readItem(RecordRing ring, int pos, Scratch s, int offset, boolean take) {
        return readItem(ring, pos, ring.kindLengthAt(pos), s, offset, take);
    }

    /** {@link #readItem(RecordRing, int, Scratch, int, boolean)} with the record's first int already read. */
    static int readItem(RecordRing ring, int pos, int kl, Scratch s, int offset, boolean take) {
        int length = RecordLayout.length(kl);
        if (RecordLayout.kind(kl) != RecordLayout.SPILL) {
            ring.copyPayload(pos, length, s.growInput(offset, length), offset);
            return length;
        }
        byte[] ref = new byte[length];
        ring.copyPayload(pos, length, ref, 0);
        long itemLength = SpillLayout.referencedLength(ref, 0);
        String name = SpillLayout.referencedName(ref, 0, length);
        return read(name, itemLength, s, offset, take) ? (int) itemLength : -1;
    }

    /** Before an item record is dropped without being read: unlinks its spill segment, if it has one. */
    /** The largest item or message (1 GiB; lowered by tests, which cannot allocate that much). */
    static volatile int maxItemBytes = 1 << 30;

    static void dropItem(RecordRing ring, int pos) {
        int kl = ring.kindLengthAt(pos);
        if (RecordLayout.kind(kl) == RecordLayout.SPILL) {
            byte[] ref = new byte[RecordLayout.length(kl)];
            ring.copyPayload(pos, ref.length, ref, 0);
            unlink(SpillLayout.referencedName(ref, 0, ref.length));
        }
    }

    /**
     * Writes {@code src[0, length)}, too large for its ring, as one item: into a spill segment held by
     * {@code parent}, then its reference through {@code append}; the segment is unlinked again if that fails.
     */
    static <X extends Exception> boolean appendSpilled(byte[] src, int length, String parent, Appender<X> append) throws X {
        if (length > maxItemBytes) {
            // NOTE: refused here, before anything is written: a reader's buffers stop short of 2 GiB, and an
            // item near that jammed the queue or pipe (every take failed on it, everything behind it was lost;
            // decision 188)
            throw new IllegalArgumentException("a message of length=" + length + " bytes is larger than the limit of "
                    + maxItemBytes + " bytes for one queue item or pipe message");
        }
        // NOTE: the segment is complete (and unmapped here) before its reference is appended; the
        // ring's release store of the tail publishes both to the consumer.
        String spill = create(src, length, parent);
        boolean ok = false;
        try {
            byte[] ref = SpillLayout.reference(spill, length);
            ok = append.append(RecordLayout.SPILL, ref, ref.length);
        } finally {
            if (!ok) {
                unlink(spill);
            }
        }
        return ok;
    }

    /** Appends one record of {@code kind} (waiting as the caller's ring does); false if it did not. */
    @FunctionalInterface
    interface Appender<X extends Exception> {
        boolean append(int kind, byte[] src, int length) throws X;
    }

    /** Removes a spill segment (an item taken or dropped); already gone is fine. */
    static void unlink(String name) {
        try {
            SegmentRegistry.unlink(name);
        } catch (NoSuchFileException gone) {
            // already removed
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove spill segment '" + name + "'", e);
        }
    }

    /** After taking a lock over from a dead process: removes segments whose holders all died (its spills). */
    static void reclaimOrphans() {
        try {
            SegmentRegistry.sweep();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "multiproc: sweep after a dead holder failed: " + e);
        }
    }
}
