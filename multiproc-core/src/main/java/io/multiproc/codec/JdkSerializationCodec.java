package io.multiproc.codec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;

/**
 * Interim default: JDK serialization, length-prefixed. To be replaced by the built-in codec (which
 * keeps JDK serialization only as its filtered fallback).
 */
final class JdkSerializationCodec implements Codec {
    @Override
    public void encode(Object value, ByteSink out) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (ObjectOutputStream oos = new ObjectOutputStream(bytes)) {
            oos.writeObject(value);
        } catch (NotSerializableException e) {
            throw new CodecException("cannot encode " + e.getMessage() + ": not Serializable", e);
        } catch (IOException e) {
            throw new CodecException("cannot encode " + (value == null ? "null" : value.getClass().getName()) + ": " + e, e);
        }
        byte[] b = bytes.toByteArray();
        out.writeInt(b.length);
        out.write(b);
    }

    @Override
    public Object decode(ByteSource in) {
        int n = in.readInt();
        if (n < 0 || n > in.remaining()) {
            throw new CodecException("length=" + n + " does not fit the " + in.remaining() + " bytes left");
        }
        byte[] b = new byte[n];
        in.readFully(b, 0, n);
        try (ObjectInputStream ois = new ObjectInputStream(new ByteArrayInputStream(b))) {
            return ois.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new CodecException("cannot decode: " + e, e);
        }
    }
}
