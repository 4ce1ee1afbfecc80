package io.multiproc.process;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;

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
 * payload is the chunk's items as one List, or packed as one primitive array ({@link PackedItems}); a CALL
 * has no payload. Reply payloads: HELLO the worker's pid, OK the result (for MAP a List or a packed array), FAILED and INIT_FAILED a {@link io.multiproc.internal.RemoteFailure},
 * SKIPPED nothing (the task was cancelled before it started), READY nothing (the initializer is done),
 * WAIT_FAILED a {@link io.multiproc.internal.RemoteFailure} (the worker cannot wait on its pipes: its idle strategy threw).
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
    static final int WAIT_FAILED = 7;

    private static final int TASK_HEADER = 16;

    private PoolFrames() {
    }

    /** The function's codec frame; IllegalArgumentException naming the class that cannot be sent. */
    static byte[] function(Codec codec, Object fn) {
        BufferSink sink = new BufferSink(256);
        try {
            codec.encode(fn, sink);
        } catch (RuntimeException e) { // a CodecException, or whatever a captured object's writeObject or a user's codec threw
            // NOTE: as for items (task()): any of these is "this task cannot be sent", not a failure of the pool
            throw new IllegalArgumentException("task " + fn.getClass().getName() + " cannot be sent to a pool worker: "
                    + e.getMessage(), e);
        }
        return sink.toByteArray();
    }

    /**
     * A task message; IllegalArgumentException naming the class of an item that cannot be sent. A MAP
     * payload (a List) goes packed when it can ({@link PackedItems}).
     */
    static byte[] task(long id, int kind, byte[] fn, Codec codec, Object payload) {
        Object wire = kind == MAP && payload instanceof List<?> items ? PackedItems.pack(codec, items) : payload;
        BufferSink sink = new BufferSink(TASK_HEADER + fn.length + 64 + packedBytes(wire));
        sink.writeLong(id);
        sink.writeInt(kind);
        sink.writeInt(fn.length);
        sink.write(fn, 0, fn.length);
        try {
            codec.encode(wire, sink);
        } catch (RuntimeException e) { // a CodecException, or whatever an item's writeObject or a user's codec threw
            throw new IllegalArgumentException("task items cannot be sent to a pool worker: " + e.getMessage(), e);
        }
        return sink.toByteArray();
    }

    /** The size of a packed array's elements (the buffer is sized once), 0 for anything else. */
    private static int packedBytes(Object wire) {
        // NOTE: instanceof, not a pattern switch: no invokedynamic bootstrap on a worker's first chunk
        if (wire instanceof int[] a) {
            return 4 * a.length;
        }
        if (wire instanceof long[] a) {
            return 8 * a.length;
        }
        return wire instanceof double[] a ? 8 * a.length : 0;
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
        BufferSink sink = new BufferSink(64 + packedBytes(payload));
        sink.writeLong(id);
        sink.writeInt(status);
        codec.encode(payload, sink);
        return sink.toByteArray();
    }

    record Reply(long id, int status, Object payload) {
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
