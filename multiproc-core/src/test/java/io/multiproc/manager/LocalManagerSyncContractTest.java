package io.multiproc.manager;

import io.multiproc.manager.contract.ManagerSyncContract;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Manager's synchronization contract on the local (shared-memory) manager. */
@ExtendWith(ReapChildrenCheckShm.class)
class LocalManagerSyncContractTest extends ManagerSyncContract {
    @Override
    protected Manager start() {
        return Manager.start();
    }
}
