package io.multiproc.manager.remote;

import io.multiproc.codec.SharedHandle;
import io.multiproc.queue.SharedQueue;

import java.io.InvalidObjectException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;

/**
 * A custom-type proxy as it travels: the server's inbox (where a process sends the pipe end it will
 * talk on), the server's identity (to tell its death from a slow reply), the object's id there, and
 * the exposed interface's name. {@code readResolve} makes a proxy in the receiving process.
 *
 * @param inbox        the server's inbox queue
 * @param manager      the manager's name, for messages
 * @param serverPid    the server JVM's pid
 * @param serverStart  its start time in clock ticks (ProcessIdentity), so a reused pid is not taken for it
 * @param objectId     the object's id in the server
 * @param typeId       the type id it was created as, for messages
 * @param iface        the exposed interface's binary name
 */
record CustomHandle(SharedQueue<Object> inbox, String manager, long serverPid, long serverStart, long objectId,
                    String typeId, String iface) implements SharedHandle, Serializable {
    @Serial
    private Object readResolve() throws ObjectStreamException {
        try {
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            Class<?> type = Class.forName(iface, false, loader != null ? loader : CustomHandle.class.getClassLoader());
            SharedQueue<Object> shared = CustomChannels.inbox(
                    new io.multiproc.internal.ProcessIdentity(serverPid, serverStart), inbox);
            return CustomProxy.of(new CustomHandle(shared, manager, serverPid, serverStart, objectId, typeId, iface), type);
        } catch (ClassNotFoundException e) {
            throw new InvalidObjectException("custom type interface " + iface + " is not on this process's class path");
        }
    }
}
