package io.multiproc.manager.local;

import io.multiproc.codec.SharedHandle;

import java.io.ObjectStreamException;
import java.io.Serial;
import java.io.Serializable;

/**
 * How a proxy travels (codec or JDK serialization): decoding attaches the manager and returns its proxy
 * (taking this process's hold). A handle that outlived its container (its generation was freed) fails
 * with IllegalStateException naming it.
 */
record ContainerHandle(String manager, long ref, int kind, int generation) implements Serializable, SharedHandle {
    @Serial
    Object readResolve() throws ObjectStreamException {
        Proxy c = Heap.withAttached(manager, h -> h.proxy(ref, generation));
        if (c.kind().code != kind) {
            throw new IllegalStateException("manager '" + manager + "': ref=" + ref + " is a " + c.kind().label
                    + ", the handle says kind=" + kind);
        }
        return c;
    }
}
