package io.multiproc.manager.local;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Nested containers are freed when no container refers to them and no process holds a proxy of them;
 * a dead process's holds are dropped; handles that outlived their container fail by name.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerLifetimeTest {
    private static final String ITEM = "y".repeat(100);

    private static List<Integer> thousand() {
        return new ArrayList<>(IntStream.range(0, 1000).boxed().toList());
    }

    @Test
    void aNestedListAChildHoldsOutlivesItsRemovalUntilTheChildIsKilled() throws Exception {
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0); SharedLong seen = SharedLong.create(0)) {
            LocalManager lm = (LocalManager) m;
            List<Object> top = m.list();
            long before = lm.heapBytesInUse();
            top.add(thousand());
            ChildProcess child = ChildProcess.start(() -> {
                @SuppressWarnings("unchecked")
                List<Object> inner = (List<Object>) top.get(0);
                stage.set(1);
                awaitStage(stage, 2);
                inner.add(ITEM);                       // still works: this process holds it
                seen.set(inner.size());
                stage.set(3);
                awaitStage(stage, 99);                 // until killed
            });
            try {
                Children.awaitUntil("child holds the nested list", () -> stage.get() == 1);
                top.clear();                           // the last reference goes; the child's hold remains
                stage.set(2);
                Children.awaitUntil("child used its proxy", () -> stage.get() == 3);
                assertThat(seen.get()).as("the child's proxy kept working after the removal").isEqualTo(1001);
                assertThat(lm.heapBytesInUse()).as("the held list is not freed").isGreaterThan(before + 8_000);
                child.kill();
                assertThat(child.join(Children.TIMEOUT)).isTrue();
            } finally {
                Children.reap(child);
            }
            lm.reclaim();
            assertThat(lm.heapBytesInUse()).as("bytes in use after the holder died and a reclaim").isEqualTo(before);
            top.add(List.of(1, 2));
            assertThat(top).isEqualTo(List.of(List.of(1, 2)));
        }
    }

    @Test
    void aNestedListIsFreedOnceTheChildDropsItsProxy() throws Exception {
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<String, Object> top = m.dict();
            long before = lm.heapBytesInUse();
            top.put("inner", thousand());
            ChildProcess child = ChildProcess.start(() -> {
                List<?> inner = (List<?>) top.get("inner");
                stage.set(1);
                awaitStage(stage, 2);
                if (inner.size() != 1000) {
                    throw new AssertionError("size " + inner.size());
                }
                inner = null;                           // dropped: the GC and a Cleaner release the hold
                while (stage.get() != 3) {
                    System.gc();
                    sleep(50);
                }
            });
            try {
                Children.awaitUntil("child holds the nested list", () -> stage.get() == 1);
                top.remove("inner");
                stage.set(2);
                awaitInUse(lm, before, "the list is freed while the child lives on"); // the parent's proxy from remove goes too
                assertThat(child.isAlive()).isTrue();
                stage.set(3);
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
        }
    }

    /**
     * "A job loop on a long-lived manager": {@code results.put(job, m.list())}, use it, then
     * {@code results.remove(job)}. Every such list stayed in the heap until the manager closed; now one
     * whose proxy never went to another process is freed as a nested list is. One made and dropped
     * without being stored goes too.
     */
    @Test
    void listsAJobLoopMadeAndRemovedAreFreedWhileTheManagerStaysOpen() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<Integer, Object> results = m.dict();
            List<Integer> kept = m.list();
            kept.add(1);
            long before = lm.heapBytesInUse();
            for (int job = 0; job < 200; job++) {
                oneJob(m, results, job);
            }
            assertThat(results).isEmpty();
            awaitInUse(lm, before, "the jobs' lists, dicts, namespaces and values are freed");
            assertThat(kept).containsExactly(1);
            java.lang.ref.Reference.reachabilityFence(results);
        }
    }

    private static void oneJob(Manager m, ConcurrentMap<Integer, Object> results, int job) {
        List<Integer> l = m.list();
        results.put(job, l);
        l.addAll(thousand().subList(0, 10));
        ((List<Integer>) results.get(job)).add(job);
        results.remove(job);
        m.<String, Object>dict().put("k", ITEM);
        m.namespace().set("a", ITEM);
        m.value(ITEM);
    }

    /**
     * A container whose proxy was written into a queue item stays pinned after the sender drops its proxy:
     * whoever takes the item attaches it later (as a child given it in its task, or a pipe's reader).
     */
    @Test
    @SuppressWarnings("unchecked")
    void aListInAQueueItemNobodyTookYetOutlivesTheSendersProxy() throws Exception {
        try (Manager m = Manager.start(); io.multiproc.queue.SharedQueue<Object> q = io.multiproc.queue.SharedQueue.create(10)) {
            putAList(m, q);
            for (int i = 0; i < 20; i++) {
                System.gc();
                Thread.sleep(20);
            }
            List<Integer> l = (List<Integer>) q.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(l).containsExactly(1);
        }
    }

    private static void putAList(Manager m, io.multiproc.queue.SharedQueue<Object> q) throws InterruptedException {
        List<Integer> l = m.list();
        l.add(1);
        q.put(l);
    }

    @Test
    void aHandleThatOutlivedItsContainerThrowsNamingIt() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            List<Object> top = m.list();
            long before = lm.heapBytesInUse();
            top.add(List.of(1, 2, 3));
            byte[] handle = encode(top.get(0));         // the proxy from get(0) is dropped at once
            top.clear();
            awaitInUse(lm, before, "the nested list is freed");
            List<Object> reused = m.list();             // may reuse the freed header (a new generation)
            reused.add("new");
            assertThatThrownBy(() -> Codec.defaultCodec().decode(SegmentSource.of(handle)))
                    .hasRootCauseInstanceOf(IllegalStateException.class)
                    .rootCause().hasMessageContaining("manager '" + m.name() + "'").hasMessageContaining("was freed");
            assertThat(reused).containsExactly("new");
        }
    }

    @Test
    void containersOfContainersAreFreedTogether() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            ConcurrentMap<String, Object> top = m.dict();
            long before = lm.heapBytesInUse();
            top.put("a", Map.of("b", List.of(List.of(1, 2), Map.of("c", thousand()))));
            assertThat(lm.heapBytesInUse()).isGreaterThan(before + 8_000);
            top.remove("a");
            awaitInUse(lm, before, "the whole tree is freed");
        }
    }

    @Test
    void churnOfNestedListsKeepsMemoryBounded() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            List<Object> top = m.list();
            long before = lm.heapBytesInUse();
            long maxCarved = 0;
            for (int i = 0; i < Integer.getInteger("churn", 100_000); i++) {
                top.add(List.of(i, i + 1));
                top.remove(0);                          // returns a proxy: its hold goes when the GC collects it
                if (i % 10_000 == 0) {
                    System.gc();
                    maxCarved = Math.max(maxCarved, lm.heapBytesCarved());
                }
            }
            // unbounded, 100,000 nested lists would take over 40 MB
            assertThat(maxCarved).as("heap carved during the churn").isLessThan(16L << 20);
            List<Object> keep = top; // NOTE: top itself stays (an unreachable made list is freed too: decision 167)
            long[] last = {0};
            try {
                Children.awaitUntil("every nested list is freed", () -> {
                    System.gc();
                    last[0] = lm.heapBytesInUse();
                    return last[0] == before;
                });
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + ": in use " + last[0] + ", before " + before
                        + ", reachable " + lm.heapBytesReachable() + ", max carved " + maxCarved, e);
            }
            java.lang.ref.Reference.reachabilityFence(keep);
        }
    }

    /** A value of the user's that holds a proxy: nothing in it is a container the heap could count. */
    record Box(Object inner) {
    }

    @Test
    @SuppressWarnings("unchecked")
    void aProxyInsideARecordOrArrayIsRefusedNamingItsClassAndTheListStaysIntact() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            List<Object> ls = m.list();
            ls.add(new ArrayList<>(List.of(1)));
            Object[] inner = {ls.get(0)};
            assertThatThrownBy(() -> ls.add(new Box(inner[0]))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName()).hasMessageContaining("cannot be stored inside");
            assertThatThrownBy(() -> ls.add(new Object[] {1, new Box(List.of(inner[0]))}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Object;");
            ConcurrentMap<String, Object> d = m.dict();
            assertThatThrownBy(() -> d.put("k", new Box(inner[0]))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThat(d).isEmpty();
            assertThat(ls).hasSize(1);
            ls.add(new Box("plain"));                              // a record without a proxy is stored by value
            ls.add(inner[0]);                                      // the proxy itself is stored by reference
            ls.remove(0);
            inner[0] = null;
            assertThat((List<Integer>) ls.get(1)).containsExactly(1);
            assertThat(ls.get(0)).isEqualTo(new Box("plain"));
            awaitInUseReachable(lm);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aKeyHoldingAProxyIsRefusedAndTheDictAndSetStayIntact() throws Exception {
        try (Manager m = Manager.start()) {
            LocalManager lm = (LocalManager) m;
            List<Object> ls = m.list();
            ls.add(new ArrayList<>(List.of(1)));
            Object[] inner = {ls.get(0)};
            ConcurrentMap<Object, Object> d = m.dict();
            ConcurrentMap<String, Object> holder = m.dict();
            holder.put("s", new java.util.HashSet<>());
            Set<Object> set = (Set<Object>) holder.get("s");
            // keys are stored by value and counted nowhere: a key naming a nested list would outlive it
            assertThatThrownBy(() -> d.put(new Box(inner[0]), "v")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName()).hasMessageContaining("cannot be stored inside");
            assertThatThrownBy(() -> d.putAll(Map.of("ok", 1, new Box(inner[0]), 2))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThatThrownBy(() -> d.merge(new Box(inner[0]), 1, (a, b) -> b)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThatThrownBy(() -> d.computeIfAbsent(List.of(new Box(inner[0])), k -> 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot be stored inside");
            assertThatThrownBy(() -> set.add(new Box(inner[0]))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(Box.class.getName());
            assertThat(d).isEmpty();
            assertThat(set).isEmpty();
            assertThat(d.get(new Box(inner[0]))).isNull();                 // a read with such a key stores nothing: allowed
            d.put(new Box("plain"), "v");                                   // a record key without a proxy is stored by value
            set.add(new Box("plain"));
            ls.remove(0);
            inner[0] = null;
            assertThat(d).containsExactly(Map.entry(new Box("plain"), "v"));
            assertThat(set).containsExactly(new Box("plain"));
            awaitInUseReachable(lm);                                        // the dropped list is freed: nothing names it
        }
    }

    /** Waits (collecting garbage, so dropped proxies release their holds) until bytes in use are {@code expected}. */
    static void awaitInUse(LocalManager lm, long expected, String what) throws InterruptedException {
        Children.awaitUntil(what, () -> {
            System.gc();
            return lm.heapBytesInUse() == expected;
        });
    }

    /**
     * Waits (collecting garbage: a dropped proxy releases its hold from the cleaner's thread, after a GC)
     * until every byte in use in the heap is reachable from a container or a live proxy.
     */
    static void awaitInUseReachable(LocalManager lm) throws InterruptedException {
        Children.awaitUntil("bytes in use are all reachable", () -> {
            System.gc();
            return lm.heapBytesInUse() == lm.heapBytesReachable();
        });
    }

    private static byte[] encode(Object value) {
        BufferSink out = new BufferSink(64);
        Codec.defaultCodec().encode(value, out);
        return out.toByteArray();
    }

    private static void awaitStage(SharedLong stage, long value) {
        while (stage.get() < value) {
            sleep(5);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
