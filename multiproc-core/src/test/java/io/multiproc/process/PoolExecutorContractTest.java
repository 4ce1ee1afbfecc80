package io.multiproc.process;

import io.multiproc.process.contract.ExecutorServiceContract;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Pool} as an ExecutorService, with real worker JVMs, against the JDK's contract. */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class PoolExecutorContractTest extends ExecutorServiceContract {
    @Override
    protected ExecutorService create() {
        return Pool.create(WORKERS);
    }

    @Override
    protected void awaitReady(ExecutorService executor) throws InterruptedException {
        assertThat(((Pool) executor).awaitReady(PATIENCE)).isTrue();
    }

    /** Kills the workers whatever the test left running (a task deaf to interrupts included). */
    @Override
    protected void dispose(ExecutorService executor) throws InterruptedException {
        Pool pool = (Pool) executor;
        pool.terminate();
        pool.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }
}
