package io.multiproc.manager.remote;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.BuiltinCodec;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.manager.SerializableSupplier;

import java.util.List;

/** What travels on a custom-type channel (a duplex {@code Pipe}): one request, then its reply. */
final class CustomMessages {
    private CustomMessages() {
    }

    /**
     * Build an object with the factory; the reply's value is its id (a Long). The factory is the
     * program's own code (a serializable lambda), so it travels as bytes of the task codec, which the
     * server decodes with the task codec; everything else on a channel is data (the default codec).
     */
    record Create(String typeId, byte[] factory, String iface) {
        static Create of(String typeId, SerializableSupplier<?> factory, Class<?> iface) {
            BufferSink out = new BufferSink(256);
            BuiltinCodec.taskCodec().encode(factory, out);
            return new Create(typeId, out.toByteArray(), iface.getName());
        }

        SerializableSupplier<?> decodeFactory() {
            return (SerializableSupplier<?>) BuiltinCodec.taskCodec().decode(SegmentSource.of(factory));
        }
    }

    /** Call {@code method(parameterTypes)} of the object {@code objectId} with {@code args}. */
    record Call(long objectId, String method, List<String> parameterTypes, List<Object> args) {
    }

    /**
     * The owner is closing the manager: the server takes no more channels, and the reply's value is
     * the names of the pipes it serves (a List of String), which the owner unlinks once it killed it.
     */
    record Closing() {
    }

    /**
     * The creator dropped its proxies of these objects, none of which was ever written for another process
     * (CustomTypes): the server forgets them. An id it no longer hosts is ignored.
     */
    record Release(List<Long> objectIds) {
    }

    /**
     * The reply's value to a call on an object the server no longer hosts (released): the caller names
     * the type id and object in its IllegalStateException. The program's methods cannot return this class.
     */
    record Missing(long objectId) {
    }

    /** How many objects the server hosts (a Long): a diagnostic for tests, not part of any API. */
    record Count() {
    }

    /** A result: {@code value} when {@code failure} is null, else the failure. */
    record Reply(Object value, RemoteFailure failure) {
    }
}
