package io.multiproc.sync;

import io.multiproc.internal.SegmentHeader;
import io.multiproc.internal.SharedSegments;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/** Creating and attaching the segments of synchronization objects, with header checks. */
final class SyncSegments {
    private SyncSegments() {
    }

    static SharedSegments.Mapping create(long magic, int version, int kind, long size, Consumer<MemorySegment> init) {
        return SharedSegments.create("mp_", size, seg -> {
            init.accept(seg);
            SegmentHeader.write(seg, magic, version, kind);
        });
    }

    static SharedSegments.Mapping attach(String name, String what, long magic, int version, int kind) {
        try {
            return SharedSegments.attach(name, seg -> SegmentHeader.check(seg, name, what, magic, version, kind));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot attach " + what + " '" + name + "': " + e.getMessage(), e);
        }
    }

    /** Attaches like {@link #attach(String, String, long, int, int)}, then lets {@code check} inspect the segment too. */
    static SharedSegments.Mapping attach(String name, String what, long magic, int version, int kind,
                                         Consumer<MemorySegment> check) {
        try {
            return SharedSegments.attach(name, seg -> {
                SegmentHeader.check(seg, name, what, magic, version, kind);
                check.accept(seg);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot attach " + what + " '" + name + "': " + e.getMessage(), e);
        }
    }

    /** For readResolve: a failed attach becomes the exception type deserialization expects. */
    static InvalidObjectException cannotResolve(String what, String name, RuntimeException e) {
        InvalidObjectException ioe = new InvalidObjectException("cannot attach " + what + " '" + name + "': " + e.getMessage());
        ioe.initCause(e);
        return ioe;
    }
}
