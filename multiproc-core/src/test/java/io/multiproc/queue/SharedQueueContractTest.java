package io.multiproc.queue;

import java.util.concurrent.BlockingQueue;

class SharedQueueContractTest extends BlockingQueueContract {
    @Override
    BlockingQueue<Integer> create(int capacity) {
        return SharedQueue.create(capacity);
    }

    @Override
    void dispose(BlockingQueue<?> q) {
        ((SharedQueue<?>) q).close();
    }
}
