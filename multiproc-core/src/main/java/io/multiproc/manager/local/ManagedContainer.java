package io.multiproc.manager.local;

/**
 * What every local manager proxy (list, dict, set, namespace, value) is: a container in a manager's
 * heap, identified by the manager's name and a ref that is stable for the container's life. A server
 * that serves a manager remotely finds a container again with {@code LocalManager.byRef(ref)}.
 */
public interface ManagedContainer {
    String managerName();

    long ref();

    ContainerKind kind();
}
