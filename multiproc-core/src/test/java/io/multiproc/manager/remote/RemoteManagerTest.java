package io.multiproc.manager.remote;

import io.multiproc.RemoteException;
import io.multiproc.manager.AuthenticationException;
import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SharedValueProxy;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A remote manager over real loopback sockets: what a client of {@code Manager.connect} sees. */
@ExtendWith(ReapChildrenCheckShm.class)
class RemoteManagerTest {
    static final byte[] KEY = "the right key".getBytes(StandardCharsets.UTF_8);
    static final InetSocketAddress LOOPBACK_ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

    private Manager local;
    private ManagerServer server;

    /** The manager the server serves: the real local one (subclasses: another). */
    Manager backing() {
        return Manager.start();
    }

    @BeforeEach
    void serve() {
        local = backing();
        server = ManagerServer.start(local, LOOPBACK_ANY_PORT, KEY);
    }

    @AfterEach
    void stop() {
        server.close();
        local.close();
    }

    private Manager connect() {
        return Manager.connect(server.address(), KEY);
    }

    @Test
    void aPipelinedFailureIsReportedToTheThreadThatMadeTheCallNotToAnother() throws Exception {
        local.dict("other").put("k", 1);
        try (Manager m = connect()) {
            Map<String, Integer> d = m.dict();
            List<Object> ls = m.list();
            ConcurrentMap<String, Integer> other = m.dict("other");
            java.util.concurrent.ExecutorService a = java.util.concurrent.Executors.newSingleThreadExecutor();
            java.util.concurrent.ExecutorService b = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                Map<String, Integer> withNullKey = new java.util.HashMap<>();
                withNullKey.put(null, 1);
                a.submit(() -> {
                    d.putAll(withNullKey);   // pipelined: fails on the server
                    ls.add("after");         // pipelined: not applied, as after any failed pipelined call
                }).get();
                // another thread's call is its own: it neither gets A's failure nor loses its own request
                assertThat(b.submit(() -> other.get("k")).get()).isEqualTo(1);
                // A's next waiting call reports A's failure (before, A never learnt of it and B got it)
                java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                        java.util.concurrent.ExecutionException.class, () -> a.submit(ls::size).get());
                assertThat(e.getCause()).isInstanceOf(NullPointerException.class);
                assertThat(a.submit(ls::size).get()).isZero();
            } finally {
                a.shutdownNow();
                b.shutdownNow();
            }
        }
    }

    @Test
    void anInterruptedVirtualThreadsCallsWorkAndLeaveTheConnectionToTheOtherThreads() throws Exception {
        local.dict("config").put("threads", 8);
        try (Manager m = connect()) {
            ConcurrentMap<String, Integer> d = m.dict("config");
            java.util.concurrent.atomic.AtomicReference<Object> seen = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean interruptKept = new java.util.concurrent.atomic.AtomicBoolean();
            // a virtual thread's socket I/O with its interrupt set closes the socket (JDK 21+): one cancelled
            // task must not take the connection from every thread of the process
            Thread.ofVirtual().start(() -> {
                Thread.currentThread().interrupt();
                try {
                    d.put("retries", 3);                 // pipelined: a write only
                    seen.set(d.get("threads"));          // a round trip
                } catch (RuntimeException e) {
                    seen.set(e);
                }
                interruptKept.set(Thread.currentThread().isInterrupted());
            }).join();
            assertThat(seen.get()).isEqualTo(8);
            assertThat(interruptKept).isTrue();
            assertThat(d.get("retries")).isEqualTo(3);
        }
    }

    @Test
    void aClientWithTheRightKeySeesTheServersNamedObjects() {
        ConcurrentMap<String, Integer> served = local.dict("config");
        served.put("threads", 8);
        try (Manager m = connect()) {
            assertThat(m.name()).isEqualTo(local.name());
            ConcurrentMap<String, Integer> d = m.dict("config");
            assertThat(d.get("threads")).isEqualTo(8);
            d.put("retries", 3);
            assertThat(served).containsEntry("retries", 3);
            assertThat(d.merge("threads", 1, Integer::sum)).isEqualTo(9);
            assertThat(d.putIfAbsent("threads", 0)).isEqualTo(9);
            assertThat(d.replace("retries", 3, 4)).isTrue();
            assertThat(d.remove("retries", 3)).isFalse();
            assertThat(new HashMap<>(d)).isEqualTo(Map.of("threads", 9, "retries", 4));
            assertThat(d.getOrDefault("absent", -1)).isEqualTo(-1);
        }
    }

    @Test
    void listsNamespacesAndValuesWorkRemotely() {
        try (Manager m = connect()) {
            List<Integer> ls = m.list("numbers");
            for (int i = 0; i < 100; i++) {
                ls.add(i);            // pipelined
            }
            assertThat(ls.size()).isEqualTo(100);
            assertThat(ls.get(42)).isEqualTo(42);
            assertThat(ls.set(0, -1)).isEqualTo(0);
            assertThat(ls.indexOf(-1)).isZero();
            assertThat(ls.remove(Integer.valueOf(-1))).isTrue();
            assertThat(ls.stream().mapToInt(Integer::intValue).sum()).isEqualTo(4950);
            assertThat(local.<Integer>list("numbers")).hasSize(99);

            Namespace ns = m.namespace("ns");
            ns.set("x", 1);
            assertThat(ns.<Integer>get("x")).isEqualTo(1);
            assertThat(ns.has("y")).isFalse();
            assertThat(ns.names()).containsExactly("x");

            SharedValueProxy<Integer> v = m.value("hits", 0);
            assertThat(v.updateAndGet(n -> n + 5)).isEqualTo(5);
            assertThat(v.compareAndSet(5, 6)).isTrue();
            v.set(7);
            assertThat(v.get()).isEqualTo(7);
        }
    }

    @Test
    void batchOperationsCarryManyItemsInOneRequest() {
        try (Manager m = connect()) {
            ConcurrentMap<Integer, String> d = m.dict("big");
            Map<Integer, String> entries = new HashMap<>();
            for (int i = 0; i < 10_000; i++) {
                entries.put(i, "v" + i);
            }
            d.putAll(entries);
            assertThat(d.size()).isEqualTo(10_000);
            assertThat(((RemoteDict<Integer, String>) d).getAll(List.of(1, 2, 20_000))).isEqualTo(Map.of(1, "v1", 2, "v2"));
            assertThat(new HashMap<>(d)).isEqualTo(entries);

            List<Integer> ls = m.list("many");
            List<Integer> items = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                items.add(i);
            }
            ls.addAll(items);
            assertThat(new ArrayList<>(ls)).isEqualTo(items);
        }
    }

    @Test
    void aBatchOfAnyMapOrCollectionClassIsSentWhole() {
        try (Manager m = connect()) {
            ConcurrentMap<String, Integer> d = m.dict("any-map");
            d.putAll(new java.util.TreeMap<>(Map.of("a", 1)));                              // a JDK map, sent as it is
            d.putAll(new java.util.concurrent.ConcurrentHashMap<>(Map.of("b", 2)));         // concurrent: copied first
            d.putAll(new java.util.AbstractMap<String, Integer>() {                         // an application class: copied
                @Override
                public java.util.Set<Entry<String, Integer>> entrySet() {
                    return java.util.Set.of(Map.entry("c", 3));
                }
            });
            assertThat(new HashMap<>(d)).isEqualTo(Map.of("a", 1, "b", 2, "c", 3));
            List<Integer> ls = m.list("any-collection");
            ls.addAll(List.of(1, 2));
            ls.addAll(new java.util.TreeSet<>(List.of(4, 3)));                              // not a list: copied into one
            ls.addAll(new java.util.concurrent.CopyOnWriteArrayList<>(List.of(5)));
            assertThat(new ArrayList<>(ls)).containsExactly(1, 2, 3, 4, 5);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aNestedContainerIsALiveProxyNotACopy() {
        try (Manager m = connect()) {
            ConcurrentMap<String, Object> d = m.dict("outer");
            d.put("inner", new ArrayList<>(List.of(1, 2)));
            @SuppressWarnings("unchecked")
            List<Integer> inner = (List<Integer>) d.get("inner");
            inner.add(10);
            ((RemoteManager) m).sync();   // add is pipelined: wait until the server applied it before looking locally
            assertThat((List<Object>) local.<String, Object>dict("outer").get("inner")).containsExactly(1, 2, 10);

            Namespace ns = m.namespace();
            ns.set("y", inner);   // storing a proxy stores the container, not a copy
            ns.<List<Integer>>get("y").add(11);
            assertThat(inner).containsExactly(1, 2, 10, 11);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aJdkViewOfARemoteContainerIsStoredAsACopyAndTheConnectionStaysUsable() {
        try (Manager m = connect()) {
            List<Integer> ls = m.list();
            ls.addAll(List.of(1, 2, 3));
            ConcurrentMap<String, Object> d = m.dict();
            // the codec reads these views while it encodes the request, and each read is a request itself
            d.put("sub", ls.subList(0, 2));
            d.put("all", java.util.Collections.unmodifiableList(ls));
            m.namespace("views").set("keys", d.keySet());   // pipelined
            assertThat(new ArrayList<>((List<Integer>) d.get("sub"))).containsExactly(1, 2);
            assertThat(new ArrayList<>((List<Integer>) d.get("all"))).containsExactly(1, 2, 3);
            assertThat(new java.util.HashSet<>(m.namespace("views").<java.util.Set<String>>get("keys")))
                    .containsExactlyInAnyOrder("sub", "all");
            ls.add(4);   // copies, not the list itself
            assertThat(new ArrayList<>((List<Integer>) d.get("all"))).containsExactly(1, 2, 3);
        }
    }

    @Test
    void anIdleConnectionKeepsNoBufferOfItsLargestRequestOrReply() throws Exception {
        try (Manager m = connect()) {
            List<String> ls = m.list();
            ls.add("warm");
            ls.clear();
            ((RemoteManager) m).sync();
            long before = heapUsedAfterGc();
            ls.addAll(java.util.Collections.nCopies(24, "x".repeat(1 << 20)));   // one 24 MB request
            assertThat(ls.toArray()).hasSize(24);                                // one 24 MB reply
            ls.clear();
            ((RemoteManager) m).sync();
            // both ends of this connection (client and server live in this JVM) are idle now
            assertThat(heapUsedAfterGc() - before).as("bytes still held").isLessThan(16L << 20);
        }
    }

    private static long heapUsedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
        }
        return Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    }

    /** An application record that another program sharing the server may not have. */
    public record Point(int x, int y) {
    }

    @Test
    void aValueThisProcessCannotDecodeFailsThatCallOnlyAndTheConnectionStaysUsable() throws Exception {
        try (Manager m = connect()) {
            ConcurrentMap<String, Object> d = m.dict();
            d.put("point", new Point(1, 2));
            d.put("n", 7);
            // a program without the record's class: here, a thread whose class loader does not see it
            java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
            Thread reader = Thread.ofPlatform().unstarted(() -> {
                try {
                    d.get("point");
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            reader.setContextClassLoader(ClassLoader.getPlatformClassLoader());
            reader.start();
            reader.join();
            assertThat(thrown.get()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Point.class.getName());
            assertThat(d.get("n")).isEqualTo(7);   // the connection and every proxy of it still work
            assertThat(d.get("point")).isEqualTo(new Point(1, 2));
        }
    }

    /** An opaque value holding a proxy: the codec would have to export the proxy while it encodes the request. */
    record Holder(List<Object> items) {
    }

    @Test
    void aProxyInsideARecordIsRefusedClearlyAndTheConnectionStaysUsable() {
        try (Manager m = connect()) {
            List<Object> ls = m.list();
            List<Object> inner = m.list();
            inner.add("x");
            // the wire carries no shared object's handle (decision 184): refused at the call, before sending
            assertThatThrownBy(() -> ls.add(new Holder(inner))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(RemoteList.class.getName()).hasMessageContaining("shared object");
            assertThat(ls.size()).isZero();   // the connection and every proxy of it still work
            assertThat(inner).containsExactly("x");
            ls.add(inner);                    // a proxy stored as such, or in a plain list or map, is fine
            ls.add(List.of(inner));
            assertThat(ls.size()).isEqualTo(2);
            assertThat(m.namespace("after").has("x")).isFalse();
        }
    }

    @Test
    void errorsKeepTheirJdkTypesWithTheServersTrace() {
        try (Manager m = connect()) {
            List<Integer> ls = m.list("errors");
            assertThatThrownBy(() -> ls.get(3)).isInstanceOf(IndexOutOfBoundsException.class)
                    .satisfies(e -> assertThat(e.getStackTrace()).anyMatch(f -> f.getClassName().equals(ServerSession.class.getName())));
            assertThatThrownBy(() -> m.namespace("n").get("missing")).isInstanceOf(NoSuchElementException.class)
                    .hasMessageContaining("missing");
            assertThatThrownBy(() -> m.<String, Integer>dict("d").put(null, 1)).isInstanceOf(NullPointerException.class);
            // still usable afterwards
            ls.add(1);
            assertThat(ls).containsExactly(1);
        }
    }

    @Test
    void aFailedPipelinedCallIsThrownByTheNextWaitingCallAndLaterOnesAreSkipped() {
        try (Manager m = connect()) {
            ConcurrentMap<String, Integer> d = m.dict("pipelined");
            Namespace ns = m.namespace("pns");
            d.putAll(java.util.Collections.singletonMap(null, 1));   // ConcurrentHashMap refuses a null key
            ns.set("after", 1);                                      // skipped
            assertThatThrownBy(d::size).isInstanceOf(NullPointerException.class)
                    .satisfies(e -> assertThat(e.getSuppressed()[0]).hasMessageContaining("earlier pipelined call"));
            assertThat(ns.has("after")).isFalse();
            assertThat(d.size()).isZero();
        }
    }

    @Test
    void pipelinedCallsAreAppliedInTheOrderTheyWereMadeAmongWaitingCalls() {
        try (Manager m = connect()) {
            List<Integer> ls = m.list("ordered");
            Namespace ns = m.namespace("last");
            for (int i = 0; i < 2_000; i++) {
                ls.add(i);                              // pipelined
                ns.set("last", i);                      // pipelined
                if (i % 100 == 99) {
                    assertThat(ls.get(i)).isEqualTo(i); // a waiting call sees every add sent before it
                    assertThat(ns.<Integer>get("last")).isEqualTo(i);
                }
            }
            ls.clear();                                 // pipelined, after 2,000 adds
            ls.addAll(List.of(7, 8));                   // pipelined, after the clear
            assertThat(new ArrayList<>(ls)).containsExactly(7, 8);
        }
    }

    @Test
    void aFailedPipelinedCallIsThrownByCloseWhenNoCallCameAfterIt() {
        Manager m = connect();
        ConcurrentMap<String, Integer> d = m.dict("fails-at-close");
        d.put("kept", 1);
        d.putAll(java.util.Collections.singletonMap(null, 1));   // refused on the server, nothing waits for it
        assertThatThrownBy(m::close).isInstanceOf(NullPointerException.class)
                .satisfies(e -> assertThat(e.getSuppressed()[0]).hasMessageContaining("earlier pipelined call"));
        assertThatThrownBy(d::size).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        m.close(); // idempotent, the failure was reported once
        assertThat(local.<String, Integer>dict("fails-at-close")).containsOnlyKeys("kept");
    }

    @Test
    void closeAppliesEveryPipelinedCallBeforeReturning() {
        Manager m = connect();
        List<Integer> ls = m.list("applied-by-close");
        for (int i = 0; i < 1_000; i++) {
            ls.add(i);
        }
        m.close();
        assertThat(local.<Integer>list("applied-by-close")).hasSize(1_000); // no sync needed: close waited
    }

    @Test
    void anExceptionOutsideTheJdkContractArrivesAsRemoteException() {
        local.value("v", 0);
        try (Manager m = connect()) {
            // an unserializable value cannot even be sent: refused at the call, nothing sent
            assertThatThrownBy(() -> m.dict("d").put("k", new Object())).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> m.list("v")).isInstanceOf(RuntimeException.class)
                    .satisfies(e -> assertThat(e).isInstanceOfAny(IllegalStateException.class, RemoteException.class));
            assertThat(m.value("v", 0).get()).isZero();
        }
    }

    @Test
    void aWrongKeyIsRefusedOnTheClientAndTheServerKeepsServing() {
        assertThatThrownBy(() -> Manager.connect(server.address(), "wrong".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(AuthenticationException.class).hasMessageContaining("refused the authkey");
        try (Manager m = connect()) {
            assertThat(m.list("after").size()).isZero();
        }
    }

    @Test
    void aServerWithoutTheKeyCannotPassAsTheRealOne() {
        try (ManagerServer impostor = ManagerServer.start(new InMemoryManager(), LOOPBACK_ANY_PORT,
                "impostor".getBytes(StandardCharsets.UTF_8))) {
            // the impostor refuses us (our answer is wrong for its key); either way: AuthenticationException
            assertThatThrownBy(() -> Manager.connect(impostor.address(), KEY)).isInstanceOf(AuthenticationException.class);
        }
    }

    @Test
    void proxiesThrowIllegalStateExceptionAfterTheirManagerClosed() {
        Manager m = connect();
        List<Integer> ls = m.list("closed");
        m.close();
        assertThatThrownBy(ls::size).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    /**
     * The failures kept for other threads' pipelined calls live in a WeakHashMap, which every read
     * changes (it drops entries of threads that ended): close() read it without the turn lock while
     * another thread's call could be changing it, and two threads changing it at once can lose entries
     * or loop forever. The race needs a collected thread at the wrong instant, so no run shows it
     * reliably; this checks instead that every access holds the lock.
     */
    @Test
    void closeLooksAtPendingFailuresOnlyWhileHoldingTheConnectionsTurn() throws Exception {
        RemoteManager m = (RemoteManager) connect();
        java.lang.reflect.Field turnField = RemoteManager.class.getDeclaredField("turn");
        turnField.setAccessible(true);
        java.util.concurrent.locks.ReentrantLock turn = (java.util.concurrent.locks.ReentrantLock) turnField.get(m);
        List<String> unlocked = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.lang.reflect.Field deferred = RemoteManager.class.getDeclaredField("deferred");
        deferred.setAccessible(true);
        deferred.set(m, new TurnCheckedMap<Thread, RuntimeException>(turn, unlocked));
        List<Integer> ls = m.list();
        ls.add(1);          // pipelined
        ls.size();          // waits: nothing unconfirmed at close
        m.close();
        assertThat(unlocked).as("accesses to the pending failures without the turn lock").isEmpty();
    }

    /** A map that records each access made by a thread that does not hold {@code turn}. */
    private static final class TurnCheckedMap<K, V> extends java.util.AbstractMap<K, V> {
        private final Map<K, V> map = new java.util.WeakHashMap<>();
        private final java.util.concurrent.locks.ReentrantLock turn;
        private final List<String> unlocked;

        TurnCheckedMap(java.util.concurrent.locks.ReentrantLock turn, List<String> unlocked) {
            this.turn = turn;
            this.unlocked = unlocked;
        }

        private Map<K, V> checked(String access) {
            if (!turn.isHeldByCurrentThread()) {
                StackTraceElement[] at = new Throwable().getStackTrace();
                unlocked.add(access + " by " + Thread.currentThread() + " from " + at[Math.min(2, at.length - 1)]);
            }
            return map;
        }

        @Override public Set<Entry<K, V>> entrySet() { return checked("entrySet").entrySet(); }
        @Override public Collection<V> values() { return checked("values").values(); }
        @Override public int size() { return checked("size").size(); }
        @Override public boolean isEmpty() { return checked("isEmpty").isEmpty(); }
        @Override public boolean containsKey(Object k) { return checked("containsKey").containsKey(k); }
        @Override public V get(Object k) { return checked("get").get(k); }
        @Override public V put(K k, V v) { return checked("put").put(k, v); }
        @Override public V remove(Object k) { return checked("remove").remove(k); }
        @Override public void clear() { checked("clear").clear(); }
    }

    @Test
    void whatOnlySharedMemoryOffersIsRefusedClearly() {
        try (Manager m = connect()) {
            assertThatThrownBy(m::queue).isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("attach");
        }
    }

    @Test
    void badArgumentsAreRefusedNamingTheValue() {
        assertThatThrownBy(() -> Manager.connect(server.address(), new byte[0])).hasMessageContaining("authkey=empty");
        assertThatThrownBy(() -> ManagerServer.start(local, LOOPBACK_ANY_PORT, null)).hasMessageContaining("authkey=null");
    }
}
