package io.multiproc.redis;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SharedValueProxy;
import io.multiproc.manager.contract.ManagerContainersContract;
import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Redis manager across JVMs, as two hosts would use it: a child JVM writes, the parent reads;
 * proxies and the manager travel in a child's task and through a local queue and re-attach there.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class RedisProcessTest {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    /**
     * Every Redis call is a network round trip: 10,000 of them from each of 4 JVMs take tens of seconds on
     * a loaded 2-core machine, more than {@link Children#TIMEOUT}. Generous deadline, exact check.
     */
    private static final Duration REDIS_CHILD_TIMEOUT = Duration.ofMinutes(5);

    static void runAll(ChildProcess... children) throws InterruptedException {
        try {
            for (ChildProcess c : children) {
                c.join(REDIS_CHILD_TIMEOUT);
            }
            Children.joinAllOk(children);
        } finally {
            Children.reap(children);
        }
    }

    /** Seed 000 on Redis: 4 child JVMs append 10,000 items each to one list; all 40,000 are there. */
    @Test
    void fourChildrenAppendingTenThousandEachLoseNothing() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            List<Integer> ls = m.list();
            ChildProcess[] children = new ChildProcess[4];
            for (int c = 0; c < 4; c++) {
                int base = c * 10_000;
                children[c] = ChildProcess.start(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        ls.add(base + i);
                    }
                });
            }
            runAll(children);
            List<Integer> all = new ArrayList<>(ls);
            assertThat(all).hasSize(40_000);
            assertThat(all.stream().mapToLong(Integer::longValue).sum()).isEqualTo(39_999L * 40_000 / 2);
            assertThat(new HashSet<>(all)).hasSize(40_000);
        }
    }

    /**
     * A Redis list's {@code reversed()} view, iterated, streamed and read by index and value, sees one state
     * of the list while a child JVM appends and pops: JDK's default view read LLEN in one round trip and
     * the elements in another, and threw IndexOutOfBoundsException when the list had shrunk between.
     */
    @Test
    void aReversedViewReadsOneStateWhileAChildAppendsAndPops() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server());
             SharedLong stop = SharedLong.create(0); SharedLong flips = SharedLong.create(0)) {
            List<Integer> ls = m.list();
            ls.addAll(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
            ChildProcess child = ChildProcess.start(() -> {
                while (stop.get() == 0) {
                    ls.add(10);
                    ls.removeLast();
                    flips.incrementAndGet();
                }
            });
            try {
                Children.awaitUntil("the child appends and pops", () -> flips.get() > 100);
                ManagerContainersContract.assertReversedReadsOneState(ls, 1_000);
            } finally {
                stop.set(1);
                runAll(child);
            }
        }
    }

    /** Seed 001 on Redis: a child changes containers nested in a list, a dict and a namespace. */
    @SuppressWarnings("unchecked")
    @Test
    void aChildsChangesToNestedContainersAreSeenByTheParent() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            List<Object> ls = m.list();
            ls.add(0);
            ls.add(new ArrayList<>(List.of(0, 0)));
            ConcurrentMap<String, Object> d = m.dict();
            d.put("inner", new ArrayList<>(List.of(1)));
            d.put("counts", new HashMap<>(Map.of("a", 1)));
            Namespace ns = m.namespace();
            ns.set("x", 1);
            ns.set("y", new ArrayList<>(List.of(1, 2)));
            runAll(ChildProcess.start(() -> {
                List<Integer> inner = (List<Integer>) ls.get(1);
                inner.set(0, inner.get(0) + 1);
                ((List<Integer>) d.get("inner")).add(2);
                ((Map<String, Integer>) d.get("counts")).merge("a", 1, Integer::sum);
                ns.<List<Integer>>get("y").add(10);
                ns.set("x", ns.<Integer>get("x") + 1);
            }));
            assertThat(ls.get(1)).isEqualTo(List.of(1, 0));
            assertThat(d.get("inner")).isEqualTo(List.of(1, 2));
            assertThat(d.get("counts")).isEqualTo(Map.of("a", 2));
            assertThat(ns.<List<Integer>>get("y")).containsExactly(1, 2, 10);
            assertThat(ns.<Integer>get("x")).isEqualTo(2);
        }
    }

    /** 2 JVMs x 5,000 merge on one key, plus value updates: atomic across JVMs, nothing lost. */
    @Test
    void twoJvmsMergingFiveThousandEachLoseNothing() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            ConcurrentMap<String, Integer> d = m.dict("hits");
            SharedValueProxy<Integer> v = m.value("total", 0);
            ChildProcess[] children = new ChildProcess[2];
            for (int c = 0; c < 2; c++) {
                children[c] = ChildProcess.start(() -> {
                    for (int i = 0; i < 5_000; i++) {
                        d.merge("page", 1, Integer::sum);
                        if (i % 10 == 0) {
                            v.updateAndGet(n -> n + 1);
                        }
                    }
                });
            }
            runAll(children);
            assertThat(d.get("page")).isEqualTo(10_000);
            assertThat(v.get()).isEqualTo(1_000);
        }
    }

    /** One JVM writes each kind of container, the other reads it (the manager itself travels in the task). */
    @Test
    void eachContainerKindWrittenInAChildIsReadInTheParent() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            BlockingQueue<String> q = m.queue(10);
            runAll(ChildProcess.start(() -> {
                m.<String>list("l").add("from-child");
                m.<String, Integer>dict("d").put("k", 42);
                m.namespace("ns").set("attr", List.of(1, 2));
                m.value("v", 0).set(7);
                q.add("hello");
            }));
            assertThat(m.<String>list("l")).containsExactly("from-child");
            assertThat(m.<String, Integer>dict("d")).isEqualTo(Map.of("k", 42));
            assertThat(m.namespace("ns").<List<Integer>>get("attr")).containsExactly(1, 2);
            assertThat(m.value("v", 0).get()).isEqualTo(7);
            assertThat(q.poll(10, TimeUnit.SECONDS)).isEqualTo("hello");
        }
    }

    /** A proxy sent through a local shared-memory queue re-attaches in the receiving JVM. */
    @Test
    void aProxySentThroughALocalQueueReattachesInTheChild() throws Exception {
        try (Manager m = RedisContractTest.fresh(redis.server()); SharedQueue<Object> q = SharedQueue.create(4)) {
            List<Integer> ls = m.list();
            q.put(ls);
            runAll(ChildProcess.start(() -> {
                try {
                    @SuppressWarnings("unchecked")
                    List<Integer> got = (List<Integer>) q.poll(30, TimeUnit.SECONDS);
                    got.add(7);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }));
            assertThat(ls).containsExactly(7);
        }
    }
}
