package io.multiproc.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * One codec's cache of class names it has resolved, keyed by the name's UTF-8 bytes and the class
 * loader: a value that names a record or enum class usually finds it here without building a String
 * or asking the loader (from a {@link SegmentSource}, without copying the bytes at all). A small
 * direct-mapped table: a collision just replaces the older entry.
 *
 * <p>Thread-safe: entries are immutable and published through an atomic array.
 */
final class ClassNames {
    private static final int SLOTS = 256;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record Entry(byte[] utf8, int hash, ClassLoader loader, Class<?> type) {
    }

    private final AtomicReferenceArray<Entry> slots = new AtomicReferenceArray<>(SLOTS);

    /** Reads a class name of {@code n} bytes (already checked against the input) and loads it, uninitialized. */
    Class<?> read(ByteSource in, int n, ClassLoader loader) {
        if (in instanceof SegmentSource s) {
            int h = s.hashNext(n);
            Entry e = slots.get(h & (SLOTS - 1));
            if (e != null && e.hash == h && e.loader == loader && e.utf8.length == n && s.skipIfNext(e.utf8)) {
                return e.type;
            }
            return load(Scalars.readUtf8(in, n), h, n, loader);
        }
        byte[] utf8 = new byte[n];
        in.readFully(utf8, 0, n);
        int h = hash(MemorySegment.ofArray(utf8), 0, n);
        Entry e = slots.get(h & (SLOTS - 1));
        if (e != null && e.hash == h && e.loader == loader && Arrays.equals(e.utf8, utf8)) {
            return e.type;
        }
        return load(new String(utf8, StandardCharsets.UTF_8), h, n, loader);
    }

    /**
     * A hash of a name's bytes from its length and its first and last 8 bytes: cheap for long names
     * that share a package prefix, and collisions only cost a full comparison.
     */
    static int hash(MemorySegment seg, long offset, int n) {
        long first;
        long last;
        if (n >= 8) {
            first = seg.get(LONG, offset);
            last = seg.get(LONG, offset + n - 8);
        } else {
            first = 0;
            for (int i = 0; i < n; i++) {
                first = first << 8 | (seg.get(JAVA_BYTE, offset + i) & 0xFF);
            }
            last = first;
        }
        long h = (first * 0x9E3779B97F4A7C15L ^ last) * 0xC2B2AE3D27D4EB4FL + n;
        return (int) (h ^ h >>> 32);
    }

    private Class<?> load(String name, int hash, int n, ClassLoader loader) {
        Class<?> type;
        try {
            type = Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw Failures.classNotFound(name, loader, e);
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length == n && hash(MemorySegment.ofArray(utf8), 0, n) == hash) { // NOTE: false only for invalid UTF-8
            slots.set(hash & (SLOTS - 1), new Entry(utf8, hash, loader, type));
        }
        return type;
    }
}
