package io.multiproc.process.contract;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** The contract against the JDK's own executor: what every expectation of {@link ExecutorServiceContract} is measured by. */
class ThreadPoolExecutorContractTest extends ExecutorServiceContract {
    @Override
    protected ExecutorService create() {
        return new ThreadPoolExecutor(WORKERS, WORKERS, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>());
    }
}
