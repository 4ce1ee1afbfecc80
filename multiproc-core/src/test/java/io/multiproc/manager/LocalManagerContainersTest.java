package io.multiproc.manager;

import io.multiproc.manager.contract.ManagerContainersContract;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Manager-level container contract against the local (shared-memory) manager. */
@ExtendWith(ReapChildrenCheckShm.class)
class LocalManagerContainersTest extends ManagerContainersContract {
    @Override
    protected Manager start() {
        return Manager.start();
    }
}
