package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Managers;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import static io.multiproc.manager.remote.RemoteManagerTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A remote dict's batch calls ({@code putAll}, {@code getAll}) do with each key and value what a loop of
 * single {@code put}s and {@code get}s does, whichever manager a proxy among them belongs to (decision 250);
 * a proxy inside a key is refused by every manager, naming the key's class (decision 249). The server is a
 * child JVM serving over loopback; two connections to it and a local manager supply the proxies.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteBatchKeysTest {
    private ChildProcess serverJvm;
    private Manager a;
    private Manager b;
    private Manager local;

    @BeforeEach
    void serve() throws Exception {
        InetSocketAddress at = freeLoopbackAddress();
        byte[] key = KEY.clone();
        serverJvm = ChildProcess.start(() -> Manager.serve(at, key));
        a = connectWhenUp(at);
        b = Manager.connect(at, KEY);
        local = Manager.start();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            a.close();
            b.close();
            local.close();
        } finally {
            serverJvm.terminate(); // SIGTERM: its exit removes the served manager's segments
            if (!serverJvm.join(Children.TIMEOUT)) {
                serverJvm.kill();
                serverJvm.join(Children.TIMEOUT);
            }
        }
    }

    /** A list proxy of each kind, each holding two numbers of its own. */
    private Map<String, List<Integer>> proxies() {
        Map<String, List<Integer>> p = new LinkedHashMap<>();
        p.put("this connection's", filled(a, 1, 2));
        p.put("another connection's", filled(b, 3, 4));
        p.put("a local manager's", filled(local, 5, 6));
        return p;
    }

    private static List<Integer> filled(Manager m, Integer... items) {
        List<Integer> l = m.list();
        l.addAll(List.of(items));
        return l;
    }

    @Test
    void putAllWithListProxiesAsKeysStoresWhatALoopOfSinglePutsStores() {
        Map<String, List<Integer>> proxies = proxies();
        ConcurrentMap<Object, String> loop = a.dict();
        ConcurrentMap<Object, String> batch = a.dict();
        Map<Object, String> entries = new LinkedHashMap<>();
        proxies.forEach((whose, p) -> entries.put(p, whose));
        entries.forEach(loop::put);
        batch.putAll(entries);   // before: IllegalArgumentException for another connection's proxy, CodecException for a local one's
        Map<Object, String> expected = Map.of(List.of(1, 2), "this connection's", List.of(3, 4), "another connection's",
                List.of(5, 6), "a local manager's");
        assertThat(new HashMap<>(loop)).as("single puts: each proxy key is its contents then").isEqualTo(expected);
        assertThat(new HashMap<>(batch)).as("the batch stores the same").isEqualTo(expected);
        proxies.values().forEach(p -> p.add(0));
        assertThat(new HashMap<>(batch)).as("a snapshot: the proxies' later changes leave the keys alone").isEqualTo(expected);
    }

    @Test
    void getAllFindsWhatALoopOfSingleGetsFinds() {
        Map<String, List<Integer>> proxies = proxies();
        ConcurrentMap<Object, String> d = a.dict();
        d.putAll(Map.of(List.of(1, 2), "x", List.of(3, 4), "y", List.of(5, 6), "z", "plain", "p"));
        List<Object> keys = new ArrayList<>(proxies.values());
        keys.add("plain");
        keys.add("absent");
        keys.add(List.of(proxies.get("another connection's")));   // a proxy inside a key: stored nowhere, so absent
        keys.add(List.of(proxies.get("a local manager's")));
        keys.add(a.namespace());                                   // equal only to itself: absent
        Map<Object, String> loop = new LinkedHashMap<>();
        for (Object k : keys) {
            String v = d.get(k);
            if (v != null) {
                loop.put(k, v);
            }
        }
        assertThat(loop.values()).containsExactly("x", "y", "z", "p");
        Map<Object, String> batch = Managers.getAll(d, keys);   // before: the foreign proxies made it throw
        assertThat(batch).isEqualTo(loop);
        assertThat(new ArrayList<>(batch.keySet())).as("keyed by what was asked, in that order").isEqualTo(new ArrayList<>(loop.keySet()));
    }

    /** Values: a proxy of this connection is stored as a reference, another's is refused, by put and putAll alike. */
    @Test
    @SuppressWarnings("unchecked")
    void putAllStoresAndRefusesProxyValuesAsSinglePutsDo() {
        Map<String, List<Integer>> proxies = proxies();
        ConcurrentMap<String, Object> loop = a.dict();
        ConcurrentMap<String, Object> batch = a.dict();
        List<Integer> mine = proxies.get("this connection's");
        loop.put("k", mine);
        batch.putAll(Map.of("k", mine));
        mine.add(7);
        assertThat((List<Integer>) loop.get("k")).containsExactly(1, 2, 7);
        assertThat((List<Integer>) batch.get("k")).as("a reference, as put stores").containsExactly(1, 2, 7);
        for (String whose : List.of("another connection's", "a local manager's")) {
            List<Integer> foreign = proxies.get(whose);
            Throwable single = catchThrowable(() -> loop.put("f", foreign));
            Throwable many = catchThrowable(() -> batch.putAll(Map.of("f", foreign)));
            assertThat(single).as(whose).isInstanceOf(IllegalArgumentException.class);
            assertThat(many).as(whose).isInstanceOf(single.getClass()).hasMessage(single.getMessage());
        }
        assertThat(batch).as("nothing of a refused batch stored").containsOnlyKeys("k");
    }

    /**
     * "I used a tuple holding a list proxy as a key": every manager refuses it, naming the key's class and the
     * proxy's, rather than storing something that moves with the proxy or is found by nothing equal to it.
     */
    @Test
    void aProxyInsideAKeyIsRefusedByLocalAndRemoteDictsNamingTheKeysClass() {
        Map<String, List<Integer>> proxies = proxies();
        ConcurrentMap<Object, String> remote = a.dict();
        ConcurrentMap<Object, String> localDict = local.dict();
        for (Map.Entry<String, List<Integer>> e : proxies.entrySet()) {
            List<Integer> p = e.getValue();
            for (Object key : List.of(List.of(p), Map.of(p, 1), new Pair("k", p))) {
                for (ConcurrentMap<Object, String> d : List.of(remote, localDict)) {
                    String what = key.getClass().getSimpleName() + " holding " + e.getKey() + " proxy, into " + d.getClass().getSimpleName();
                    assertThatThrownBy(() -> d.put(key, "v")).as(what).isInstanceOf(IllegalArgumentException.class)
                            .hasMessageContaining(key.getClass().getName()).hasMessageContaining("key");
                    assertThatThrownBy(() -> d.putAll(Map.of(key, "v"))).as(what).isInstanceOf(IllegalArgumentException.class)
                            .hasMessageContaining(key.getClass().getName());
                    assertThatThrownBy(() -> d.merge(key, "v", String::concat)).as(what).isInstanceOf(IllegalArgumentException.class)
                            .hasMessageContaining(key.getClass().getName());
                    assertThat(d.get(key)).as(what).isNull();
                    assertThat(d.containsKey(key)).as(what).isFalse();
                }
            }
        }
        assertThat(remote).isEmpty();
        assertThat(localDict).as("before: a remote proxy inside a key was stored as a live reference").isEmpty();
    }

    record Pair(String name, Object part) {
    }

    private static InetSocketAddress freeLoopbackAddress() throws java.io.IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), probe.getLocalPort());
        }
    }

    private static Manager connectWhenUp(InetSocketAddress at) throws InterruptedException {
        long deadline = System.nanoTime() + Children.TIMEOUT.toNanos();
        while (true) {
            try {
                return Manager.connect(at, KEY);
            } catch (java.io.UncheckedIOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(50);
            }
        }
    }
}
