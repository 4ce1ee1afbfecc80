package io.multiproc.manager.remote;

import io.multiproc.manager.remote.CustomTypesTest.Counter;
import io.multiproc.manager.remote.CustomTypesTest.CounterImpl;
import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.sync.SharedEvent;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How long a custom object lives in the server (decision 222): a proxy that never left its creator is
 * released there once the GC collects it; one written for another process keeps its object until the
 * manager closes, so a receiver never finds it gone.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class CustomObjectLifetimeTest {
    private final CustomTypes types = new CustomTypes("lifetime-test");

    @AfterEach
    void close() {
        types.close();
    }

    @Test
    void aJobLoopCreatingAndDroppingObjectsDoesNotGrowTheServer() throws Exception {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter kept = types.create("counter");
        kept.increment();
        for (int i = 0; i < 1000; i++) {
            assertThat(createAndDrop(types)).isEqualTo(1);
        }
        awaitHosted(1); // the one still held
        assertThat(kept.increment()).isEqualTo(2);
    }

    @Test
    void aProxySentToAChildThenDroppedByTheParentStillWorksInTheChild() throws Exception {
        types.register("counter", CounterImpl::new, Counter.class);
        ChildProcess viaQueue = null;
        ChildProcess viaTask = null;
        try (SharedQueue<Object> items = SharedQueue.create(4);
             SharedQueue<Object> reports = SharedQueue.create(4);
             SharedEvent go = SharedEvent.create()) {
            viaQueue = ChildProcess.start(() -> {
                go.await();
                Counter c = (Counter) items.take();
                reports.put(c.add(10));
            });
            viaTask = startWithACounter(types, go, reports);
            putACounter(types, items);          // in the queue, not taken yet: in flight
            createAndDrop(types);                // never left: this one may go
            assertThat(types.hostedCount()).isEqualTo(3);
            // the parent holds no proxy now: once the one that never left is released, the GC has run
            awaitHosted(2);
            go.set();
            List<Object> got = new ArrayList<>();
            got.add(reports.poll(30, TimeUnit.SECONDS));
            got.add(reports.poll(30, TimeUnit.SECONDS));
            assertThat(got).as("what the children's calls answered").containsExactlyInAnyOrder(10L, 100L);
            Children.joinAllOk(viaQueue, viaTask);
            assertThat(types.hostedCount()).as("sent proxies keep their objects until the manager closes").isEqualTo(2);
        } finally {
            Children.reap(viaQueue);
            Children.reap(viaTask);
        }
    }

    @Test
    void aProxyInAPoolTaskOrAManagedContainerStillWorksThereAfterItsCreatorDroppedIt() throws Exception {
        types.register("counter", CounterImpl::new, Counter.class);
        ChildProcess reader = null;
        try (io.multiproc.process.Pool pool = io.multiproc.process.Pool.create(1);
             io.multiproc.manager.Manager m = io.multiproc.manager.Manager.start();
             SharedQueue<Object> reports = SharedQueue.create(4);
             SharedEvent go = SharedEvent.create()) {
            java.util.concurrent.CompletableFuture<Long> viaPool = applyWithACounter(types, pool, go);
            java.util.concurrent.ConcurrentMap<String, Object> d = m.dict();
            putACounter(types, d);
            createAndDrop(types);
            awaitHosted(2);
            reader = ChildProcess.start(() -> {
                go.await();
                reports.put(((Counter) d.get("c")).add(10));
            });
            go.set();
            assertThat(viaPool.get(30, TimeUnit.SECONDS)).isEqualTo(1000L);
            assertThat(reports.poll(30, TimeUnit.SECONDS)).isEqualTo(10L);
            assertThat(((Counter) d.get("c")).add(1)).as("read back here too").isEqualTo(11L);
            Children.joinOk(reader);
        } finally {
            Children.reap(reader);
        }
    }

    private static java.util.concurrent.CompletableFuture<Long> applyWithACounter(CustomTypes types,
            io.multiproc.process.Pool pool, SharedEvent go) {
        Counter c = types.create("counter");
        return pool.applyAsync(() -> {
            go.await();
            return c.add(1000);
        });
    }

    private static void putACounter(CustomTypes types, java.util.Map<String, Object> d) {
        d.put("c", types.create("counter"));
    }

    @Test
    void aCallOnAReleasedObjectIsAnIllegalStateExceptionNamingItsTypeAndObjectNotAHang() throws Exception {
        types.register("counter", CounterImpl::new, Counter.class);
        Counter c = types.create("counter");
        c.increment();
        CustomHandle h = (CustomHandle) ((CustomObject) c).writeReplace();
        // what only a bug could do: release an object a proxy still reaches
        CustomChannels.call(h.inbox(), new io.multiproc.internal.ProcessIdentity(h.serverPid(), h.serverStart()),
                h.manager(), new CustomMessages.Release(List.of(h.objectId())));
        long start = System.nanoTime();
        assertThatThrownBy(c::increment).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("typeId='counter'").hasMessageContaining("Counter#" + h.objectId())
                .hasMessageContaining("manager 'lifetime-test'").hasMessageContaining("released");
        assertThat(System.nanoTime() - start).as("nanos until the call failed").isLessThan(5_000_000_000L);
        Counter other = types.create("counter");
        assertThat(other.increment()).as("the server and its other objects go on").isEqualTo(1);
    }

    /** Creates a counter only a child task captures; the caller keeps no proxy of it. */
    private static ChildProcess startWithACounter(CustomTypes types, SharedEvent go, SharedQueue<Object> reports) {
        Counter c = types.create("counter");
        return ChildProcess.start(() -> {
            go.await();
            reports.put(c.add(100));
        });
    }

    /** A job's counter, used and dropped in a frame of its own (no local slot of the caller keeps it). */
    private static long createAndDrop(CustomTypes types) {
        Counter perJob = types.create("counter");
        return perJob.increment();
    }

    private static void putACounter(CustomTypes types, SharedQueue<Object> items) throws InterruptedException {
        items.put(types.create("counter"));
    }

    /** Collects garbage until the server hosts {@code expected} objects; fails if it still hosts more after 30 s. */
    private void awaitHosted(long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (types.hostedCount() > expected && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        assertThat(types.hostedCount()).as("objects the server hosts after collecting garbage").isEqualTo(expected);
    }
}
