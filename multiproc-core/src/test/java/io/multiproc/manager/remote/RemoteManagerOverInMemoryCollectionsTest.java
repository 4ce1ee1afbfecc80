package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;

/**
 * The same protocol tests against a manager of java.util.concurrent collections in this JVM. A top-level
 * class: as a nested one it was left out of the build's test runs (surefire skips classes named with '$').
 */
class RemoteManagerOverInMemoryCollectionsTest extends RemoteManagerTest {
    @Override
    Manager backing() {
        return new InMemoryManager();
    }
}
