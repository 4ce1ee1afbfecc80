package io.multiproc.redis;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.CodecException;
import io.multiproc.codec.SegmentSource;

import java.util.Arrays;
import java.util.List;

/**
 * The bytes a {@link RedisPool} and its workers exchange through Redis: one message per chunk each way,
 * a small fixed header followed by codec frames, as the local Pool's messages are (the same codec, the
 * same serializable lambdas; ONE codec frame for a chunk's items).
 *
 * <pre>
 * chunk (caller to worker): [long caller][long id][int kind: CALL | MAP][int fnLength][fn: codec frame][payload: codec frame]
 * reply (worker to caller): [long id][int status: OK | FAILED | DIED][payload: codec frame]
 * </pre>
 * The caller id comes first so that one Lua script can drop all of a caller's queued chunks by prefix
 * ({@link RedisPoolStore#unqueueAll}). Reply payloads: OK the result (a List for MAP), FAILED a
 * {@link io.multiproc.internal.RemoteFailure}, DIED {@code [worker id, exit code or null when unknown]}.
 */
final class RedisPoolFrames {
    static final int CALL = 1;
    static final int MAP = 2;

    static final int OK = 1;
    static final int FAILED = 2;
    static final int DIED = 3;
    /** A chunk's caller and id: the bytes that tell one chunk from any other. */
    static final int HEADER_BYTES = 16;

    private RedisPoolFrames() {
    }

    /** The function's codec frame; IllegalArgumentException naming the class that cannot be sent. */
    static byte[] function(Codec codec, Object fn) {
        BufferSink sink = new BufferSink(256);
        try {
            codec.encode(fn, sink);
        } catch (CodecException e) {
            throw new IllegalArgumentException("task " + fn.getClass().getName()
                    + " cannot be sent to a Redis pool worker: " + e.getMessage(), e);
        }
        return sink.toByteArray();
    }

    /** A chunk message; IllegalArgumentException naming what cannot be sent. */
    static byte[] chunk(long caller, long id, int kind, byte[] fn, Codec codec, List<?> items) {
        BufferSink sink = new BufferSink(64 + fn.length + 16 * (items == null ? 0 : items.size()));
        sink.writeLong(caller);
        sink.writeLong(id);
        sink.writeInt(kind);
        sink.writeInt(fn.length);
        sink.write(fn, 0, fn.length);
        try {
            codec.encode(items, sink);
        } catch (RuntimeException e) { // a CodecException, or whatever an item's writeObject or a user's codec threw
            throw new IllegalArgumentException("task items cannot be sent to a Redis pool worker: " + e.getMessage(), e);
        }
        return sink.toByteArray();
    }

    /** The first bytes of every chunk message of {@code caller} (for {@link RedisPoolStore#unqueueAll}). */
    static byte[] callerPrefix(long caller) {
        BufferSink sink = new BufferSink(8);
        sink.writeLong(caller);
        return sink.toByteArray();
    }

    /** A decoded chunk; {@code fn} stays bytes until the worker decides whether it has it already. */
    record Chunk(long caller, long id, int kind, byte[] fn, List<?> items) {
    }

    /** The chunk's caller and id, read without decoding the rest. */
    static long[] header(byte[] chunk) {
        SegmentSource in = SegmentSource.of(chunk);
        return new long[] {in.readLong(), in.readLong()};
    }

    static Chunk decodeChunk(Codec codec, byte[] message) {
        SegmentSource in = SegmentSource.of(message);
        long caller = in.readLong();
        long id = in.readLong();
        int kind = in.readInt();
        byte[] fn = new byte[in.readInt()];
        in.readFully(fn, 0, fn.length);
        return new Chunk(caller, id, kind, fn, (List<?>) codec.decode(in));
    }

    /** A reply message; CodecException if the payload cannot be encoded (the worker reports that instead). */
    static byte[] reply(long id, int status, Codec codec, Object payload) {
        BufferSink sink = new BufferSink(64);
        sink.writeLong(id);
        sink.writeInt(status);
        codec.encode(payload, sink);
        return sink.toByteArray();
    }

    /** The DIED reply for chunk {@code chunk}, which {@code worker} held when it died. */
    static byte[] died(Codec codec, byte[] chunk, String worker, Integer exitCode) {
        return reply(header(chunk)[1], DIED, codec, Arrays.asList(worker, exitCode));
    }

    record Reply(long id, int status, Object payload) {
    }

    static long replyId(byte[] message) {
        return SegmentSource.of(message).readLong();
    }

    static Reply decodeReply(Codec codec, byte[] message) {
        SegmentSource in = SegmentSource.of(message);
        long id = in.readLong();
        int status = in.readInt();
        return new Reply(id, status, codec.decode(in));
    }
}
