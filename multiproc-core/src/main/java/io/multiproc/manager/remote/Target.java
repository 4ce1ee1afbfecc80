package io.multiproc.manager.remote;

import java.lang.ref.Reference;

/**
 * What every remote proxy holds: its connection and its id there; requests go through it. Its
 * connection counts it as a live proxy of that id until it is garbage (decision 157: then the server
 * may drop the container), so each request keeps it reachable until the request is written.
 */
record Target(RemoteManager manager, RemoteRef ref) {
    Object call(int op, Object... args) {
        try {
            return manager.call(op, ref.id(), args);
        } finally {
            // NOTE: without it this Target may be collected once ref.id() is read, and its release sent
            // before this request: the server, having dropped the id, would end the connection
            Reference.reachabilityFence(this);
        }
    }

    /** {@link RemoteManager#callTwice}: two independent copies of one reply. */
    Object[] callTwice(int op, Object... args) {
        try {
            return manager.callTwice(op, ref.id(), args);
        } finally {
            Reference.reachabilityFence(this); // as in call
        }
    }

    void pipeline(int op, Object... args) {
        try {
            manager.pipeline(op, ref.id(), args);
        } finally {
            Reference.reachabilityFence(this); // as in call
        }
    }

    /** What the proxy travels as (its {@code writeReplace}). */
    RemoteHandle handle() {
        try {
            return manager.handle(ref);
        } finally {
            Reference.reachabilityFence(this); // as in call: handle() may send an EXPORT of this id
        }
    }

    RemoteRef refFor(RemoteManager m) {
        if (m != manager) {
            throw new IllegalArgumentException("a proxy of " + manager + " cannot be stored through " + m
                    + ": proxies belong to their connection");
        }
        return ref;
    }

    int callInt(int op, Object... args) {
        return (Integer) call(op, args);
    }

    boolean callBoolean(int op, Object... args) {
        return (Boolean) call(op, args);
    }

    @Override
    public String toString() {
        return RemoteRef.kindName(ref.kind()) + " #" + ref.id() + " of " + manager;
    }
}
