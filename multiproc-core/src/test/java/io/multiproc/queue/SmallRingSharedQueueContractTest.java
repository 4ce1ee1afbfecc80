package io.multiproc.queue;

import io.multiproc.wait.IdleStrategy;
import io.multiproc.codec.Codec;

import java.util.concurrent.BlockingQueue;

/** The contract on a small ring (16 KiB) with a busy-spinning strategy: records wrap around often. */
class SmallRingSharedQueueContractTest extends BlockingQueueContract {
    @Override
    BlockingQueue<Integer> create(int capacity) {
        return SharedQueue.create(capacity, 16 << 10, IdleStrategy.busySpin(), Codec.defaultCodec());
    }

    @Override
    void dispose(BlockingQueue<?> q) {
        ((SharedQueue<?>) q).close();
    }
}
