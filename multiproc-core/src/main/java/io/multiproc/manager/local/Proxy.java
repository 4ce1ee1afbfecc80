package io.multiproc.manager.local;

import io.multiproc.codec.HandleSource;

/** A local proxy: a {@link ManagedContainer} with its {@link Container}. */
interface Proxy extends ManagedContainer, HandleSource {
    Container container();

    @Override
    default String managerName() {
        return container().heap.name;
    }

    @Override
    default long ref() {
        return container().ref;
    }

    @Override
    default ContainerKind kind() {
        return container().kind;
    }
}
