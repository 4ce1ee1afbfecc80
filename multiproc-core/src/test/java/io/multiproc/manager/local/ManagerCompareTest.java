package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.manager.SharedValueProxy;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Operations that compare stored elements under a container's lock (list remove(Object), removeAll,
 * retainAll; dict remove(k, v), replace(k, old, new); value compareAndSet) compare a nested container by
 * identity, never by contents: reading its contents would take its lock under the parent's.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerCompareTest {

    @Test
    @SuppressWarnings("unchecked")
    void aNestedContainerMatchesOnlyAProxyOfItselfWhenComparedUnderTheLock() {
        try (Manager m = Manager.start()) {
            List<Object> ls = m.list();
            ls.add(new ArrayList<>(List.of(1)));
            List<Object> nested = (List<Object>) ls.get(0);
            assertThat(ls.remove(List.of(1))).as("equal contents, another list").isFalse();
            assertThat(ls.removeAll(List.of(List.of(1)))).isFalse();
            assertThat(ls.subList(0, 1).remove(List.of(1))).isFalse();
            assertThat(ls.retainAll(List.of(nested))).as("retains the nested list itself").isFalse();
            assertThat(ls).hasSize(1);
            assertThat(ls.remove(nested)).as("the nested list itself").isTrue();
            assertThat(ls).isEmpty();

            ConcurrentMap<String, Object> d = m.dict();
            d.put("k", new ArrayList<>(List.of(1)));
            Object inDict = d.get("k");
            assertThat(d.replace("k", List.of(1), "new")).isFalse();
            assertThat(d.remove("k", List.of(1))).isFalse();
            assertThat(d.replace("k", inDict, "new")).isTrue();
            assertThat(d.get("k")).isEqualTo("new");

            SharedValueProxy<Object> v = m.value(new ArrayList<>(List.of(1)));
            Object inValue = v.get();
            assertThat(v.compareAndSet(List.of(1), "new")).isFalse();
            assertThat(v.compareAndSet(inValue, "new")).isTrue();
            assertThat(v.get()).isEqualTo("new");
        }
    }

    /** A list element that tells the test when it is compared (under its list's lock, in this JVM). */
    record Signal(int n) {
        static volatile Runnable onCompare;

        @Override
        public boolean equals(Object o) {
            Runnable r = onCompare;
            if (r != null) {
                r.run();
            }
            return o instanceof Signal s && s.n == n;
        }

        @Override
        public int hashCode() {
            return n;
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void removingFromAListWhileAnotherProcessUpdatesItsNestedListReadingTheListDoesNotDeadlock() throws Exception {
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            List<Object> ls = m.list();
            ls.add(new Signal(0));
            ls.add(new ArrayList<>(List.of(1)));
            List<Object> nested = (List<Object>) ls.get(1);
            ChildProcess child = ChildProcess.start(() -> nested.replaceAll(x -> {
                stage.set(1);                                // holds the nested list's lock
                awaitStage(stage, 2);                        // until the parent holds the list's lock
                return ls.size() + (Integer) x;              // then takes the list's lock
            }));
            try {
                Children.awaitUntil("the child holds the nested list", () -> stage.get() == 1 || !child.isAlive());
                Signal.onCompare = () -> stage.set(2);
                CompletableFuture<Boolean> removing = new CompletableFuture<>();
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        removing.complete(ls.remove(List.of(1)));
                    } catch (Throwable e) {
                        removing.completeExceptionally(e);
                    }
                });
                assertThat(removing.get(10, TimeUnit.SECONDS)).as("removed an equal list").isFalse();
                Children.joinOk(child);
                assertThat(nested).containsExactly(3);
            } finally {
                Signal.onCompare = null;
                Children.reap(child);
            }
        }
    }

    private static void awaitStage(SharedLong stage, long value) {
        long deadline = System.nanoTime() + Children.TIMEOUT.toNanos();
        while (stage.get() < value && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
