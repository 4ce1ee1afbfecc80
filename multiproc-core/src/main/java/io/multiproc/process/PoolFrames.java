package io.multiproc.process;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.CodecException;
import io.multiproc.codec.SegmentSource;

import java.util.ArrayList;
import java.util.List;

/**
 * The bytes a {@link Pool} and its workers exchange on a worker's data pipe: one message per chunk each
 * way, each a small fixed header followed by ONE codec frame.
 *
 * <pre>
 * task  (parent to worker): [long id][int kind: CALL | MAP | CANCEL | CANCEL_QUIETLY][int fnLength][fn: codec frame of the function][payload: codec frame]
 * reply (worker to parent): [long id][int status][payload: codec frame]
 * </pre>
 * The function is encoded once per call ({@link #function}) and its bytes are copied into every chunk,
 * so a worker can keep the decoded function of the previous chunk when the bytes are the same. A MAP
 * payload is the chunk's items as one List; a CALL has no payload. Reply payloads: HELLO the worker's pid,
 * OK the result (a List for MAP), FAILED and INIT_FAILED a {@link io.multiproc.internal.RemoteFailure},
 * SKIPPED nothing (the task was cancelled before it started), READY nothing (the initializer is done).
 */
final class PoolFrames {
    static final int CALL = 1;
    static final int MAP = 2;
    /** Skip task {@code id} if it has not started; interrupt it if it runs. */
    static final int CANCEL = 3;
    /** Skip task {@code id} if it has not started; let it finish if it runs. */
    static final int CANCEL_QUIETLY = 4;

    static final int HELLO = 1;
    static final int OK = 2;
    static final int FAILED = 3;
    static final int INIT_FAILED = 4;
    static final int SKIPPED = 5;
    static final int READY = 6;

    private static final int TASK_HEADER = 16;

    private PoolFrames() {
    }

    /** The function's codec frame; IllegalArgumentException naming the class that cannot be sent. */
    static byte[] function(Codec codec, Object fn) {
        BufferSink sink = new BufferSink(256);
        try {
            codec.encode(fn, sink);
        } catch (CodecException e) {
            throw new IllegalArgumentException("task " + fn.getClass().getName() + " cannot be sent to a pool worker: "
                    + e.getMessage(), e);
        }
        return sink.toByteArray();
    }

    /** A task message; IllegalArgumentException naming the class of an item that cannot be sent. */
    static byte[] task(long id, int kind, byte[] fn, Codec codec, Object payload) {
        BufferSink sink = new BufferSink(TASK_HEADER + fn.length + 64);
        sink.writeLong(id);
        sink.writeInt(kind);
        sink.writeInt(fn.length);
        sink.write(fn, 0, fn.length);
        try {
            codec.encode(payload, sink);
        } catch (CodecException e) {
            throw new IllegalArgumentException("task items cannot be sent to a pool worker: " + e.getMessage(), e);
        }
        return sink.toByteArray();
    }

    /** A decoded task; {@code fn} stays bytes until the worker decides whether it has it already. */
    record Task(long id, int kind, byte[] fn, Object payload) {
    }

    private static final byte[] NO_FUNCTION = {};

    /** A cancellation of task {@code id}. */
    static byte[] cancel(long id, boolean interrupt, Codec codec) {
        return task(id, interrupt ? CANCEL : CANCEL_QUIETLY, NO_FUNCTION, codec, null);
    }

    /** The kind of a task message, read without decoding it. */
    static int kindOf(byte[] message) {
        SegmentSource in = SegmentSource.of(message);
        in.readLong();
        return in.readInt();
    }

    /** The id of a task message, read without decoding it. */
    static long idOf(byte[] message) {
        return SegmentSource.of(message).readLong();
    }

    static Task decodeTask(Codec codec, byte[] message) {
        SegmentSource in = SegmentSource.of(message);
        long id = in.readLong();
        int kind = in.readInt();
        byte[] fn = new byte[in.readInt()];
        in.readFully(fn, 0, fn.length);
        return new Task(id, kind, fn, codec.decode(in));
    }

    /** A reply message; CodecException if the payload cannot be encoded (the caller reports that instead). */
    static byte[] reply(long id, int status, Codec codec, Object payload) {
        BufferSink sink = new BufferSink(64);
        sink.writeLong(id);
        sink.writeInt(status);
        codec.encode(payload, sink);
        return sink.toByteArray();
    }

    record Reply(long id, int status, Object payload) {
    }

    /**
     * Runs the encode and decode paths of chunks of numbers and strings until the JIT has compiled
     * them: a fresh JVM decodes its first 125,000-item chunk ~50x slower than a warm one. A worker does
     * it before it reports ready, the parent on a background thread when a pool is created.
     */
    static void warmUp(Codec codec) {
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < 4_000; i++) {
            items.add(i);
            items.add((long) i << 20);
            items.add(i + 0.5);
            items.add(i % 7 == 0 ? "s" + i : null);
        }
        byte[] fn = {};
        for (int round = 0; round < 30; round++) {
            byte[] task = task(round, MAP, fn, codec, items);
            decodeTask(codec, task);
            replyPayload(codec, reply(round, OK, codec, items));
        }
    }

    /** A reply's id and status; its payload (null here) is decoded apart by {@link #replyPayload}. */
    static Reply replyHeader(byte[] message) {
        SegmentSource in = SegmentSource.of(message);
        long id = in.readLong();
        return new Reply(id, in.readInt(), null);
    }

    static Object replyPayload(Codec codec, byte[] message) {
        SegmentSource in = SegmentSource.of(message);
        in.readLong();
        in.readInt();
        return codec.decode(in);
    }
}
