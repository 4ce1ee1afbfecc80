package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.manager.local.LocalManager;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.multiproc.manager.remote.RemoteManagerTest.KEY;
import static io.multiproc.manager.remote.RemoteManagerTest.LOOPBACK_ANY_PORT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A remote manager's server lets go of the containers a client no longer holds a proxy of, as CPython's
 * BaseManager does (decision 157): a long-lived client that makes an anonymous list per job does not
 * grow the served manager's heap for the connection's life.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteManagerReleaseTest {
    private Manager local;
    private LocalManager lm;
    private ManagerServer server;

    @BeforeEach
    void serve() {
        local = Manager.start();
        lm = (LocalManager) local;
        server = ManagerServer.start(local, LOOPBACK_ANY_PORT, KEY);
    }

    @AfterEach
    void stop() {
        server.close();
        local.close();
    }

    /** Waits (collecting this JVM's garbage: the server's dropped proxies release their holds) for {@code expected}. */
    private void awaitInUse(long expected, String what) throws InterruptedException {
        Children.awaitUntil(what + " (bytes in use back to " + expected + ")", () -> {
            System.gc();
            return lm.heapBytesInUse() == expected;
        });
    }

    @Test
    void anonymousListsALongLivedClientDropsAreFreedOnTheServer() throws Exception {
        try (SharedLong stage = SharedLong.create(0)) {
            long before = lm.heapBytesInUse();
            String host = server.address().getHostString();
            int port = server.address().getPort();
            ChildProcess client = ChildProcess.start(() -> {
                try (Manager m = Manager.connect(new InetSocketAddress(host, port), KEY)) {
                    for (int i = 0; i < 1_000; i++) {          // one anonymous list per job, then dropped
                        List<Object> l = m.list();
                        l.add("job " + i);
                        if (l.size() != 1) {
                            throw new AssertionError("job " + i + ": " + l);
                        }
                    }
                    System.gc();
                    stage.set(1);
                    while (stage.get() != 2) {                 // stays connected, idle
                        Thread.sleep(10);
                    }
                    List<Object> after = m.list();
                    after.add("still connected");
                    stage.set(after.size() == 1 ? 3 : 4);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                Children.awaitUntil("the client made and dropped its lists", () -> stage.get() == 1);
                awaitInUse(before, "the dropped lists are freed while the client stays connected");
                stage.set(2);
                Children.joinOk(client);
                assertThat(stage.get()).as("the connection still works afterwards").isEqualTo(3);
            } finally {
                Children.reap(client);
            }
        }
    }

    private RemoteManager connect() {
        return (RemoteManager) Manager.connect(server.address(), KEY);
    }

    private static long idOf(Object proxy, RemoteManager m) {
        return ((RemoteManager.RemoteContainer) proxy).ref(m).id();
    }

    /** Collects garbage until {@code m} has released {@code expected} hand-outs in all. */
    private static void awaitReleased(RemoteManager m, long expected) throws InterruptedException {
        Children.awaitUntil("the client released " + expected + " hand-outs (now " + m.receiptsReleased() + ")", () -> {
            System.gc();
            return m.receiptsReleased() == expected;
        });
    }

    /** Collects garbage until {@code proxy} is gone and its connection counts {@code live} proxies of {@code id}. */
    private static void awaitCollected(WeakReference<?> proxy, RemoteManager m, long id, int live) throws InterruptedException {
        Children.awaitUntil("the dropped proxy is collected and counted", () -> {
            System.gc();
            return proxy.get() == null && m.liveProxies(id) == live;
        });
    }

    @Test
    @SuppressWarnings("unchecked")
    void aDroppedProxyWhoseContainerAnotherProxyOrAContainerStillHoldsKeepsWorking() throws Exception {
        long before = lm.heapBytesInUse();
        try (RemoteManager m = connect()) {
            ConcurrentMap<String, Object> d = m.dict();
            List<Object> first = m.list();
            first.add("x");
            d.put("k", first);
            List<Object> second = (List<Object>) d.get("k");          // a second proxy, the same id
            long id = idOf(first, m);
            assertThat(idOf(second, m)).isEqualTo(id);
            WeakReference<Object> firstGone = new WeakReference<>(first);
            first = null;
            awaitCollected(firstGone, m, id, 1);
            second.add("y");                                             // the other proxy still works
            assertThat(second).containsExactly("x", "y");
            assertThat(m.receiptsReleased()).as("nothing released while a proxy of the id lives").isZero();

            second = null;                                               // every proxy gone: released
            awaitReleased(m, 2);
            m.sync();
            assertThat((List<Object>) d.get("k")).as("a container the dict refers to stays").containsExactly("x", "y");
            List<Object> removed = (List<Object>) d.remove("k");
            assertThat(idOf(removed, m)).as("a released id is not handed out again").isNotEqualTo(id);
            removed = null;
            d = null;
            awaitReleased(m, 5);                                         // d, the re-read list, the removed one
            awaitInUse(before, "the dict and the list are freed once neither proxies nor containers hold them");
            assertThat(m.list()).as("the connection still works").isEmpty();
        }
    }

    @Test
    void anonymousDictsAndNamespacesADroppedProxyNamedAreFreedToo() throws Exception {
        long before = lm.heapBytesInUse();
        try (RemoteManager m = connect()) {
            for (int i = 0; i < 100; i++) {
                m.dict().put("job", i);
                m.namespace().set("job", List.of(i));            // with a nested list in it
            }
            awaitReleased(m, 200);
            awaitInUse(before, "the dropped dicts and namespaces are freed");
        }
    }

    /** An anonymous value stayed until the served manager closed; since decision 167 it goes as the others do. */
    @Test
    void anonymousValuesADroppedProxyNamedAreFreedToo() throws Exception {
        long before = lm.heapBytesInUse();
        try (RemoteManager m = connect()) {
            for (int i = 0; i < 100; i++) {
                m.value("job " + i).set("done " + i);
            }
            awaitReleased(m, 100);
            awaitInUse(before, "the dropped values are freed");
        }
    }

    @Test
    void aNamedContainerStaysAfterItsProxiesAreDropped() throws Exception {
        try (RemoteManager m = connect()) {
            List<Object> kept = m.list("kept");
            kept.add("v");
            kept = null;
            awaitReleased(m, 1);
            m.sync();
            System.gc();
            assertThat(local.list("kept")).containsExactly("v");
            assertThat(m.list("kept")).containsExactly("v");
        }
        try (Manager other = Manager.connect(server.address(), KEY)) {
            assertThat(other.list("kept")).containsExactly("v");
        }
    }

    /** A manager whose dict "gated" holds its {@code get} until the test opens the gate. */
    private static final class GatedManager extends InMemoryManager {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch open = new CountDownLatch(1);
        final AtomicBoolean armed = new AtomicBoolean();
        private final ConcurrentMap<Object, Object> gated = new ConcurrentHashMap<>() {
            @Override
            public Object get(Object key) {
                if (armed.getAndSet(false)) {
                    entered.countDown();
                    try {
                        open.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return super.get(key);
            }
        };

        @Override
        @SuppressWarnings("unchecked")
        public <K, V> ConcurrentMap<K, V> dict(String name) {
            return "gated".equals(name) ? (ConcurrentMap<K, V>) gated : super.dict(name);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aReleaseSentWhileAReplyNamingTheSameIdIsOnItsWayLeavesThatProxyWorking() throws Exception {
        GatedManager backing = new GatedManager();
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try (ManagerServer gatedServer = ManagerServer.start(backing, LOOPBACK_ANY_PORT, KEY);
             RemoteManager m = (RemoteManager) Manager.connect(gatedServer.address(), KEY)) {
            ConcurrentMap<String, Object> d = m.dict("gated");
            List<Object> first = m.list();
            first.add("x");
            d.put("k", first);
            long id = idOf(first, m);
            long released = m.receiptsReleased();
            backing.armed.set(true);
            Future<Object> inFlight = caller.submit(() -> d.get("k"));   // its reply will hand out id again
            assertThat(backing.entered.await(30, TimeUnit.SECONDS)).isTrue();
            first = null;                                                   // the last proxy of id goes
            awaitReleased(m, released + 1);                                 // the release is on the wire
            backing.open.countDown();                                       // now the reply naming id is sent
            List<Object> second = (List<Object>) inFlight.get(30, TimeUnit.SECONDS);
            assertThat(idOf(second, m)).isEqualTo(id);
            m.sync();                                                       // the server has read the release
            second.add("y");
            assertThat(second).as("the proxy the in-flight reply became still names a live container")
                    .containsExactly("x", "y");
        } finally {
            backing.open.countDown();
            caller.shutdownNow();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void proxiesDroppedWhileRepliesNamingTheirIdsArriveNeverNameAFreedContainer() throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        Thread collector = Thread.ofPlatform().daemon().start(() -> {
            while (!done.get()) {
                System.gc();
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try (RemoteManager m = connect()) {
            ConcurrentMap<String, Object> d = m.dict("jobs");
            List<Object> shared = m.list();
            shared.add(0);
            d.put("shared", shared);
            shared = null;
            for (int i = 1; i <= 3_000; i++) {       // each read hands out the same id; the last proxy is dropped
                List<Object> p = (List<Object>) d.get("shared");
                if (i % 3 == 0) {
                    p.set(0, i);
                } else {
                    p.size();
                }
            }
            done.set(true);
            collector.join();
            assertThat((List<Object>) d.get("shared")).containsExactly(3_000);
            assertThat(m.receiptsReleased()).as("some of the hand-outs were released along the way").isPositive();
        } finally {
            done.set(true);
        }
    }
}
