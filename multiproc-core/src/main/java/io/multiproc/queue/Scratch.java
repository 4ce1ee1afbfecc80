package io.multiproc.queue;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.InFlight;

import java.lang.foreign.MemorySegment;

/**
 * Per-thread buffers: a sink that {@code put}/{@code send} encode into before anything touches shared
 * memory, and an input array that {@code take}/{@code recv} copy a record into before decoding it
 * outside the ring's lock. Reused, so the hot paths do not allocate; buffers that grew past
 * {@link #KEEP_BYTES} for a large item are dropped after it.
 *
 * <pre>{@code
 * Scratch s = Scratch.acquire();
 * try { codec.encode(item, s.sink()); ... } finally { s.release(); }
 * }</pre>
 *
 * <p>A codec that itself puts to a queue while encoding gets a fresh scratch (the thread's one is busy).
 */
final class Scratch {
    private static final int KEEP_BYTES = 1 << 20;
    /** Room after the bytes asked for, so that a small record can be copied in whole 8-byte words. */
    private static final int SLACK = 8;
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    /** This thread's in-flight holds: acquire opens a send bracket, release closes it. */
    final InFlight flight = InFlight.here();
    int flightMark;
    private BufferSink sink = new BufferSink(256);
    private byte[] input = new byte[256];
    private MemorySegment inputSegment = MemorySegment.ofArray(input);
    private final SegmentSource source = new SegmentSource();
    private int inputLength;
    private boolean busy;
    /** End offsets in the sink of the items of a batch ({@code putAll}/{@code offerAll}). */
    private int[] ends = new int[0];

    private Scratch() {
    }

    /** This thread's scratch, or a fresh one if it is in use further up the stack. */
    static Scratch acquire() {
        Scratch s = LOCAL.get();
        if (s.busy) {
            s = new Scratch();
        }
        s.busy = true;
        s.flightMark = s.flight.beginSend();
        return s;
    }

    void release() {
        busy = false;
        flight.endSend(flightMark);
        sink.reset();
        inputLength = 0;
        if (sink.array().length > KEEP_BYTES) {
            sink = new BufferSink(256);
        }
        if (input.length > KEEP_BYTES) {
            input = new byte[256];
            inputSegment = MemorySegment.ofArray(input);
        }
    }

    BufferSink sink() {
        return sink;
    }

    /** An array of at least {@code n} ints for a batch's item end offsets (kept for reuse). */
    int[] ends(int n) {
        if (ends.length < n) {
            ends = new int[n];
        }
        return ends;
    }

    /** The input array with room for {@code length} bytes from index 0 (contents not kept). */
    byte[] input(int length) {
        if (input.length < length + SLACK) {
            input = new byte[Math.max(length + SLACK, (int) Math.min(Integer.MAX_VALUE - 16, 2L * input.length))];
            inputSegment = MemorySegment.ofArray(input);
        }
        inputLength = length;
        return input;
    }

    /** The input array with room for {@code more} bytes after the first {@code keep}, which are kept. */
    byte[] growInput(int keep, int more) {
        long need = (long) keep + more;
        if (need > Integer.MAX_VALUE - 16 - SLACK) {
            throw new IllegalStateException("batch of size=" + need + " bytes is too large");
        }
        if (input.length < need + SLACK) {
            byte[] bigger = new byte[(int) Math.max(need + SLACK, Math.min(Integer.MAX_VALUE - 16, 2L * input.length))];
            System.arraycopy(input, 0, bigger, 0, Math.min(keep, input.length));
            input = bigger;
            inputSegment = MemorySegment.ofArray(input);
        }
        inputLength = (int) need;
        return input;
    }

    /** The input array as it is (for reading what was copied into it). */
    byte[] inputArray() {
        return input;
    }

    int inputLength() {
        return inputLength;
    }

    /** A source over the input bytes [offset, offset + length). */
    SegmentSource source(int offset, int length) {
        return source.reset(inputSegment, offset, length);
    }

    /** A source over the whole input. */
    SegmentSource source() {
        return source(0, inputLength);
    }
}
