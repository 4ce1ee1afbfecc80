package io.multiproc.queue;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** The contract suite against the JDK's queue: checks the suite itself. */
class LinkedBlockingQueueContractTest extends BlockingQueueContract {
    @Override
    BlockingQueue<Integer> create(int capacity) {
        return new LinkedBlockingQueue<>(capacity);
    }
}
