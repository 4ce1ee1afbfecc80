package io.multiproc.redis;

import io.multiproc.process.contract.ExecutorServiceContract;
import io.multiproc.testing.Children;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@link RedisPool} as an ExecutorService against the JDK's contract: a real redis-server and two worker
 * JVMs for the whole class (booting them per test would triple its time), a fresh caller per test.
 * The workers are this class's children, stopped after its last test.
 */
@Timeout(180)
class RedisPoolExecutorContractTest extends ExecutorServiceContract {
    private static final String POOL = "contract";
    private static LocalRedis redis;
    private static RedisPoolWorkers workers;

    @BeforeAll
    static void startWorkers() {
        redis = LocalRedis.start();
        workers = RedisPoolWorkers.start(RedisPool.singleServer(redis.url()), POOL, WORKERS, Duration.ofSeconds(2), null);
    }

    @AfterAll
    static void stopWorkers() {
        try {
            if (workers != null) {
                workers.close();
            }
        } finally {
            if (redis != null) {
                redis.close();
            }
        }
    }

    @Override
    protected ExecutorService create() {
        return RedisPool.connect(redis.url(), POOL);
    }

    @Override
    protected void awaitReady(ExecutorService executor) throws InterruptedException {
        RedisPool pool = (RedisPool) executor;
        Children.awaitUntil(WORKERS + " live workers in " + pool, () -> pool.workers().size() >= WORKERS);
    }

    /** shutdownNow fails this caller's work, then close() disconnects (an unclosed RedisPool keeps the JVM alive). */
    @Override
    protected void dispose(ExecutorService executor) throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        executor.close();
    }

    /** RedisPool.shutdownNow's Javadoc: "Returns an empty list: the work is in Redis, not in this JVM". */
    @Override
    protected boolean listsNeverStartedTasks() {
        return false;
    }
}
