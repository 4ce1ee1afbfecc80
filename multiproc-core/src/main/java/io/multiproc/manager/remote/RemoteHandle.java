package io.multiproc.manager.remote;

import io.multiproc.codec.SharedHandle;

import java.io.InvalidObjectException;
import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.util.HexFormat;

/**
 * A remote manager's proxy as it travels in a task, a queue or a pipe (decision 116): where its server
 * is, the container's export token there (server-wide, unlike a connection's ids) and kind, and which
 * authkey opens it, by id. The key itself is in it only inside a child's task (the child's stdin);
 * elsewhere the receiving process must already have it ({@link RemoteKeys}). {@code readResolve}
 * connects (one connection per server and key per process, shared) and returns a live proxy.
 *
 * @param host    the server's host name or address, as the sender connected to it
 * @param port    its port
 * @param manager the manager's name, for messages
 * @param keyId   the authkey's id ({@link RemoteKeys#idOf})
 * @param key     the authkey inside a child's task, else empty
 * @param token   the container's export token on that server
 * @param kind    a {@code RemoteRef.KIND_*}
 */
record RemoteHandle(String host, int port, String manager, byte[] keyId, byte[] key, long token, int kind)
        implements SharedHandle, Serializable {
    @Serial
    private Object readResolve() throws ObjectStreamException {
        if (RemoteKeys.inWireDecoding()) {
            throw new InvalidObjectException("a remote proxy of manager '" + manager + "' cannot travel inside a remote"
                    + " manager request or reply (store the container itself, through its own connection)");
        }
        if (key.length > 0) {
            RemoteKeys.remember(key); // a child's task: this process now has the key, as its parent had
        }
        byte[] k = RemoteKeys.find(keyId);
        if (k == null) {
            throw new InvalidObjectException("this process has no authkey for manager '" + manager + "' at " + host + ":"
                    + port + " (key id " + HexFormat.of().formatHex(keyId) + "): connect to it once with"
                    + " Manager.connect(address, authkey), or receive a proxy of it in the task of a child"
                    + " started by a process that has the key");
        }
        try {
            return RemoteManager.shared(new InetSocketAddress(host, port), k).imported(token, kind);
        } catch (RuntimeException e) {
            InvalidObjectException io = new InvalidObjectException("cannot re-attach a proxy of manager '" + manager
                    + "' at " + host + ":" + port + ": " + e.getMessage());
            io.initCause(e);
            throw io;
        } finally {
            java.util.Arrays.fill(k, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "RemoteHandle[" + RemoteRef.kindName(kind) + " of '" + manager + "' at " + host + ":" + port + ", token "
                + token + "]"; // never the key
    }
}
