package io.multiproc.manager.remote;

import io.multiproc.internal.RemoteFailure;
import io.multiproc.manager.SerializableSupplier;

import java.util.List;

/** What travels on a custom-type channel (a duplex {@code Pipe}): one request, then its reply. */
final class CustomMessages {
    private CustomMessages() {
    }

    /** Build an object with {@code factory}; the reply's value is its id (a Long). */
    record Create(String typeId, SerializableSupplier<?> factory, String iface) {
    }

    /** Call {@code method(parameterTypes)} of the object {@code objectId} with {@code args}. */
    record Call(long objectId, String method, List<String> parameterTypes, List<Object> args) {
    }

    /** A result: {@code value} when {@code failure} is null, else the failure. */
    record Reply(Object value, RemoteFailure failure) {
    }
}
