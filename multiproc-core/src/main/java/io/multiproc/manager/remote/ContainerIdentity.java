package io.multiproc.manager.remote;

import io.multiproc.manager.local.ManagedContainer;

/**
 * The key a server uses to give one container one id per client. The local manager hands out a new
 * proxy object for each read of a nested container, so its containers are identified by manager name
 * and ref; any other object by itself (identity: every List's equals compares contents).
 */
final class ContainerIdentity {
    private ContainerIdentity() {
    }

    static Object of(Object container) {
        return container instanceof ManagedContainer c ? new Ref(c.managerName(), c.ref()) : new Identity(container);
    }

    private record Ref(String manager, long ref) {
    }

    private record Identity(Object o) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Identity i && i.o == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(o);
        }
    }
}
