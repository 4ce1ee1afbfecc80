package io.multiproc.process;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.Codec;
import io.multiproc.codec.CodecException;
import io.multiproc.codec.SegmentSource;

/**
 * How a child's task travels: through the one {@link Codec} seam, like every other object multiproc
 * sends. The task comes from this JVM's own parent over the child's stdin, a trusted channel, so its
 * allow-list is wider than the default's: every {@code java.*} and {@code javax.*} class a task may
 * capture (a {@code URI}, an {@code InetSocketAddress}...) and every application class. Dynamic proxies
 * stay refused.
 */
final class TaskCodec {
    private static final Codec CODEC = BuiltinCodec.taskCodec();

    private TaskCodec() {
    }

    /** The codec of task frames; also a {@link Pool}'s default codec (its workers are children as trusted). */
    static Codec codec() {
        return CODEC;
    }

    /** The task's bytes; IllegalArgumentException naming the class that cannot be sent. */
    static byte[] encode(Object task) {
        BufferSink sink = new BufferSink(512);
        try {
            CODEC.encode(task, sink);
        } catch (CodecException e) {
            throw new IllegalArgumentException("target cannot be sent to a child: " + e.getMessage(), e);
        }
        return sink.toByteArray();
    }

    static SerializableTask decode(byte[] bytes) {
        Object task = decodeObject(bytes);
        if (!(task instanceof SerializableTask t)) {
            throw new IllegalStateException("task frame holds a " + (task == null ? "null" : task.getClass().getName())
                    + ", not a SerializableTask");
        }
        return t;
    }

    /** Decodes what {@link #encode} wrote (a task, or a child's failure report, {@link ChildReport}). */
    static Object decodeObject(byte[] bytes) {
        return CODEC.decode(SegmentSource.of(bytes));
    }
}
