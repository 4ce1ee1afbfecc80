package io.multiproc.manager;

import io.multiproc.internal.SegmentRegistry;
import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Managers across real processes: atomic merges, names, lifetime, proxies that travel, many nested lists. */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerProcessTest {

    @Test
    void twoProcessesMergingFiveThousandTimesEachLoseNothing() throws Exception {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Integer> d = m.dict();
            ChildProcess a = ChildProcess.start(() -> {
                for (int i = 0; i < 5_000; i++) {
                    d.merge("k", 1, Integer::sum);
                }
            });
            ChildProcess b = ChildProcess.start(() -> {
                for (int i = 0; i < 5_000; i++) {
                    d.merge("k", 1, Integer::sum);
                }
            });
            try {
                Children.joinAllOk(a, b);
            } finally {
                Children.reap(a, b);
            }
            assertThat(d.get("k")).isEqualTo(10_000);
        }
    }

    /**
     * A worker that owned the named manager "jobs" is SIGKILLed; its replacement (here: this process,
     * which swept long before) starts "jobs" again instead of failing with "already exists" until some
     * new JVM sweeps. The dead owner's data is gone, as a dead owner's always is.
     */
    @Test
    void aNamedManagerWhoseOwnerWasKilledCanBeStartedAgainAtOnce() throws Exception {
        String name = "restart-" + ProcessHandle.current().pid();
        try (SharedLong started = SharedLong.create(0)) {
            ChildProcess owner = ChildProcess.start(() -> {
                Manager m = Manager.start(name);
                m.dict("d").put("k", 1);
                started.set(1);
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                Children.awaitUntil("the owner started its manager", () -> started.get() == 1);
                owner.kill();
                assertThat(owner.join(Children.TIMEOUT)).isTrue();
            } finally {
                Children.reap(owner);
            }
            try (Manager again = Manager.start(name)) {
                assertThat(again.<String, Integer>dict("d")).isEmpty();
                again.dict("d").put("k", 2);
            }
        }
    }

    @Test
    void anUnrelatedProcessAttachesByNameAndFindsNamedObjects() throws Exception {
        try (Manager m = Manager.start()) {
            m.dict("config").put("mode", "fast");
            m.value("hits", 0).set(5);
            String name = m.name();
            ChildProcess c = ChildProcess.start(() -> {
                Manager other = Manager.attach(name);
                ConcurrentMap<String, String> cfg = other.dict("config");
                if (!"fast".equals(cfg.get("mode"))) {
                    throw new AssertionError("config=" + cfg);
                }
                cfg.put("seen", "yes");
                other.<Integer>value("hits", -1).updateAndGet(n -> n + 1);
                other.<Integer>list("log").add(42);
            });
            try {
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
            assertThat(m.<String, String>dict("config")).isEqualTo(Map.of("mode", "fast", "seen", "yes"));
            assertThat(m.<Integer>value("hits", 0).get()).isEqualTo(6);
            assertThat(m.<Integer>list("log")).containsExactly(42);
            assertThatThrownBy(() -> m.list("config")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("name='config' is a dict, not a list");
        }
    }

    @Test
    void proxiesTravelThroughQueuesAndTasks() throws Exception {
        try (Manager m = Manager.start(); SharedQueue<Object> q = SharedQueue.create(4)) {
            List<Integer> ls = m.list();
            q.put(ls);
            ChildProcess c = ChildProcess.start(() -> {
                try {
                    @SuppressWarnings("unchecked")
                    List<Integer> got = (List<Integer>) q.poll(30, TimeUnit.SECONDS);
                    got.add(7);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
            assertThat(ls).containsExactly(7);
        }
    }

    @Test
    void aManagerCapturedByATaskAttachesInTheChild() throws Exception {
        try (Manager m = Manager.start()) {
            ChildProcess c = ChildProcess.start(() -> m.<Integer>list("from-child").add(1));
            try {
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
            assertThat(m.<Integer>list("from-child")).containsExactly(1);
        }
    }

    @Test
    void aProxyUsedAfterTheOwnerClosedThrowsIllegalStateNamingTheManager() throws Exception {
        Manager m = Manager.start();
        List<Integer> ls = m.list();
        ls.add(1);
        String name = m.name();
        try (SharedLong stage = SharedLong.create(0)) {
            ChildProcess c = ChildProcess.start(() -> {
                ls.add(2);
                stage.set(1);
                while (stage.get() != 2) {
                    Thread.onSpinWait();
                }
                try {
                    ls.add(3);
                } catch (IllegalStateException expected) {
                    if (expected.getMessage().contains("manager '" + name + "' is closed")) {
                        stage.set(3);
                    }
                }
            });
            try {
                Children.awaitUntil("child appended", () -> stage.get() == 1);
                m.close();
                stage.set(2);
                Children.joinOk(c);
            } finally {
                Children.reap(c);
            }
            assertThat(stage.get()).isEqualTo(3);
        }
        assertThatThrownBy(ls::size).isInstanceOf(IllegalStateException.class).hasMessageContaining(name);
        assertThatThrownBy(() -> Manager.attach(name)).isInstanceOf(IllegalStateException.class);
        assertThat(Files.exists(Path.of("/dev/shm/mpm_" + name))).isFalse();
    }

    @Test
    void theOwnersDeathRemovesEverything() throws Exception {
        String name = "owner-death-" + ProcessHandle.current().pid();
        try (SharedLong stage = SharedLong.create(0)) {
            ChildProcess owner = ChildProcess.start(() -> {
                Manager m = Manager.start(name);
                ConcurrentMap<Integer, Object> d = m.dict("d");
                d.put(0, "x".repeat(9_000_000)); // forces a second heap segment (the first holds 8 MB)
                for (int i = 1; i < 100; i++) {
                    d.put(i, new ArrayList<>(List.of(i)));
                }
                stage.set(1);
                while (true) {
                    Thread.onSpinWait();
                }
            });
            try {
                Children.awaitUntil("owner filled its manager", () -> stage.get() == 1);
                ConcurrentMap<Integer, Object> seen = Manager.attach(name).dict("d");
                assertThat(seen).hasSize(100);
                assertThat(shmEntriesOf(name)).hasSizeGreaterThanOrEqualTo(2);
                owner.kill();
                assertThat(owner.join(Children.TIMEOUT)).isTrue();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                assertThatThrownBy(() -> {
                    while (System.nanoTime() < deadline) {
                        seen.get(1);
                    }
                }).as("an attached proxy fails soon after the owner died")
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("its owner died");
            } finally {
                Children.reap(owner);
            }
            SegmentRegistry.sweep();
            assertThat(shmEntriesOf(name)).isEmpty();
        }
    }

    private static List<String> shmEntriesOf(String manager) throws Exception {
        try (var s = Files.list(Path.of("/dev/shm"))) {
            return s.map(p -> p.getFileName().toString())
                    .filter(f -> f.equals("mpm_" + manager) || f.startsWith("mpmh_" + manager + "_")).toList();
        }
    }

    @Test
    void aDictOfOneHundredThousandListsIsBuiltByOneProcessAndSummedByAnother() throws Exception {
        try (Manager m = Manager.start(); SharedLong sum = SharedLong.create(0)) {
            ConcurrentMap<Integer, List<Integer>> d = m.dict();
            ChildProcess builder = ChildProcess.start(() -> {
                for (int k = 0; k < 100_000; k++) {
                    List<Integer> l = new ArrayList<>(10);
                    for (int i = 0; i < 10; i++) {
                        l.add(i);
                    }
                    d.put(k, l);
                }
            });
            try {
                Children.joinOk(builder);
            } finally {
                Children.reap(builder);
            }
            ChildProcess summer = ChildProcess.start(() -> {
                long s = 0;
                for (List<Integer> l : d.values()) {
                    for (int v : l) {
                        s += v;
                    }
                }
                sum.set(s);
            });
            try {
                Children.joinOk(summer);
            } finally {
                Children.reap(summer);
            }
            assertThat(sum.get()).isEqualTo(100_000L * 45);
            d.get(99_999).add(1);
            assertThat(d.get(99_999)).hasSize(11);
            long t0 = System.nanoTime();
            m.close();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("close millis").isLessThan(1000);
        }
    }
}
