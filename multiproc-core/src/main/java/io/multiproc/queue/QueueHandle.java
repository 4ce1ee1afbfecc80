package io.multiproc.queue;

import io.multiproc.codec.Codec;
import io.multiproc.wait.IdleStrategy;

import java.io.InvalidObjectException;
import java.io.NotSerializableException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;

/**
 * The serialized form of a queue handle: the segment name, which kind of queue, and the custom idle
 * strategy and codec if there are any. {@code readResolve} attaches in the receiving process.
 *
 * @param idle  null unless the creator's strategy was a custom Serializable one
 * @param codec null for the default codec
 */
record QueueHandle(String name, int kind, IdleStrategy idle, Codec codec) implements Serializable {

    static QueueHandle of(QueueRing ring, Codec codec) throws NotSerializableException {
        return new QueueHandle(ring.nameInFlight(), ring.kind, Idles.portable(ring.idle), portableCodec(ring.what, ring.name(), codec));
    }

    /** Null for the default codec; the codec itself if it can travel; else NotSerializableException. */
    static Codec portableCodec(String what, String name, Codec codec) throws NotSerializableException {
        if (codec == Codec.defaultCodec()) {
            return null;
        }
        if (!(codec instanceof Serializable)) {
            throw new NotSerializableException(what + " '" + name + "' uses codec " + codec.getClass().getName()
                    + ", which is not Serializable, so it cannot be sent to another process");
        }
        return codec;
    }

    @Serial
    Object readResolve() throws ObjectStreamException {
        Codec c = codec != null ? codec : Codec.defaultCodec();
        String what = switch (kind) {
            case QueueLayout.KIND_JOINABLE -> "JoinableQueue";
            case QueueLayout.KIND_SIMPLE -> "SimpleQueue";
            default -> "SharedQueue";
        };
        try {
            QueueRing ring = QueueRing.attach(name, what, kind, idle, c);
            return switch (kind) {
                case QueueLayout.KIND_JOINABLE -> new JoinableQueue<>(ring, c);
                case QueueLayout.KIND_SIMPLE -> new SimpleQueue<>(new SharedQueue<>(ring, c));
                default -> new SharedQueue<>(ring, c);
            };
        } catch (RuntimeException e) {
            InvalidObjectException ioe = new InvalidObjectException("cannot attach " + what + " '" + name + "': " + e.getMessage());
            ioe.initCause(e);
            throw ioe;
        }
    }
}
