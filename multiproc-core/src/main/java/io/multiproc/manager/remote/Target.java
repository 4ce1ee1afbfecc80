package io.multiproc.manager.remote;

/** What every remote proxy holds: its connection and its id there; requests go through it. */
record Target(RemoteManager manager, RemoteRef ref) {
    Object call(int op, Object... args) {
        return manager.call(op, ref.id(), args);
    }

    void pipeline(int op, Object... args) {
        manager.pipeline(op, ref.id(), args);
    }

    /** What the proxy travels as (its {@code writeReplace}). */
    RemoteHandle handle() {
        return manager.handle(ref);
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
