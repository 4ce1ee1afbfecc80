package io.multiproc.queue;

import java.util.concurrent.BlockingQueue;

class JoinableQueueContractTest extends BlockingQueueContract {
    @Override
    BlockingQueue<Integer> create(int capacity) {
        return JoinableQueue.create(capacity);
    }

    @Override
    void dispose(BlockingQueue<?> q) {
        ((JoinableQueue<?>) q).close();
    }
}
