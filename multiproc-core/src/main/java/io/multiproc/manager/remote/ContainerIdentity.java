package io.multiproc.manager.remote;

/**
 * The key a server uses to give one container one id per client. A container proxy of the local
 * manager is identified by the manager's own identity of it; any other object by itself (identity).
 */
final class ContainerIdentity {
    private ContainerIdentity() {
    }

    static Object of(Object container) {
        return new Identity(container);
    }

    /** Identity equality for objects whose equals compares contents (every List and Map). */
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
