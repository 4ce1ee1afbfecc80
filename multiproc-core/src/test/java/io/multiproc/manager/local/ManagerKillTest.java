package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Crash consistency: a writer is stopped at each fault point (between two stores of an operation,
 * holding the container's or the heap's lock), then SIGKILLed. The container must show the state
 * before or after one of the writer's operations, never a torn one; counts must be right (the next
 * holder repairs them); and every operation must keep working.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerKillTest {
    private static final String BIG = "x".repeat((int) HeapLayout.ROOT_SIZE + 1); // more than the first segment holds

    /** The writer's operations, in order; each point is reached by at least one of them. */
    private static final List<Consumer<Containers>> OPS = List.of(
            c -> c.list.add(100),                           // LIST_ADD_*, ALLOC_*
            c -> c.list.remove(0),                          // LIST_REWRITE_BEFORE_PUBLISH
            c -> c.list.set(0, 1000),
            c -> c.list.set(1, "a".repeat(5000)),           // blocks above 4 KB come from the shared lists
            c -> c.list.set(1, "b".repeat(5000)),           // frees the 'a' block to the shared list
            c -> c.list.set(1, "c".repeat(5000)),           // ALLOC_POPPING (pops it)
            c -> c.dict.put("k0", 100),                     // DICT_REPLACE_*
            c -> c.dict.put("n1", 1),                       // DICT_PUT_* (the count is repaired)
            c -> c.dict.put("n2", 2),                       // DICT_RESIZE_BEFORE_PUBLISH
            c -> c.list.add(BIG));                          // GROW_BEFORE_PUBLISH

    /** Points where the writer holds a block nothing reaches (new and unpublished, or unpublished and not yet freed). */
    private static final java.util.Set<FaultPoints.Point> LEAKING = java.util.EnumSet.of(
            FaultPoints.Point.LIST_REWRITE_BEFORE_PUBLISH, FaultPoints.Point.DICT_PUT_BEFORE_PUBLISH,
            FaultPoints.Point.DICT_REPLACE_BEFORE_PUBLISH, FaultPoints.Point.DICT_REPLACE_AFTER_PUBLISH,
            FaultPoints.Point.DICT_RESIZE_BEFORE_PUBLISH, FaultPoints.Point.ITEM_ALLOCATED,
            FaultPoints.Point.ITEM_WRITTEN_BEFORE_REFERENCE);

    record Containers(List<Object> list, ConcurrentMap<String, Object> dict) implements java.io.Serializable {
    }

    private static void fill(Containers c) {
        for (int i = 0; i < 10; i++) {
            c.list.add(i);
        }
        for (int i = 0; i < 5; i++) {
            c.dict.put("k" + i, i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = FaultPoints.Point.class, mode = EnumSource.Mode.EXCLUDE,
            names = {"START_BEFORE_HEADER", "START_BEFORE_PROCESS_TABLE"}) // the manager's start, not a writer's step
    void aWriterKilledAtEachStepLeavesAConsistentContainer(FaultPoints.Point point) throws Exception {
        Reclaimer.watching = false; // the explicit reclaim below must find the leaks
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            Containers shared = new Containers(m.list(), m.dict());
            fill(shared);
            ChildProcess writer = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.manager.faults=true"))
                    .target(() -> {
                        FaultPoints.hook = p -> {
                            if (p == point) {
                                stage.set(1);
                                while (true) {
                                    Thread.onSpinWait(); // stopped here, holding a lock, until killed
                                }
                            }
                        };
                        for (Consumer<Containers> op : OPS) {
                            op.accept(shared);
                        }
                        stage.set(2);
                    }).start();
            try {
                Children.awaitUntil("writer reached " + point, () -> stage.get() != 0 || !writer.isAlive());
                assertThat(stage.get()).as("writer stopped at %s", point).isEqualTo(1);
                writer.kill();
                assertThat(writer.join(Children.TIMEOUT)).isTrue();
            } finally {
                Children.reap(writer);
            }
            // what the killed writer left allocated and unreachable comes back
            LocalManager lm = (LocalManager) m;
            long leaked = lm.heapBytesInUse() - lm.heapBytesReachable();
            if (LEAKING.contains(point)) {
                assertThat(leaked).as("bytes the writer left unreachable at %s", point).isGreaterThan(0);
            }
            assertThat(lm.reclaim()).as("dead processes swept").isLessThanOrEqualTo(1);
            assertThat(lm.heapBytesInUse()).as("bytes in use after a reclaim (%d leaked before)", leaked)
                    .isEqualTo(lm.heapBytesReachable());
            checkConsistent(shared);
        } finally {
            Reclaimer.watching = true;
        }
    }

    @Test
    void aSweepThatFailsGivesItsDeadRowsBackSoTheNextSweepReclaimsThem() throws Exception {
        Reclaimer.watching = false;
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            List<Object> list = m.list();
            ChildProcess holder = ChildProcess.start(() -> {
                list.add("held by a process that dies");
                stage.set(1);
                while (true) {
                    Thread.onSpinWait();
                }
            });
            try {
                Children.awaitUntil("the child added", () -> stage.get() != 0 || !holder.isAlive());
                holder.kill();
                assertThat(holder.join(Children.TIMEOUT)).isTrue();
            } finally {
                Children.reap(holder);
            }
            LocalManager lm = (LocalManager) m;
            Reclaimer.duringSweep = () -> {
                throw new IllegalStateException("a sweep step failed");
            };
            try {
                assertThatThrownBy(lm::reclaim).isInstanceOf(IllegalStateException.class).hasMessage("a sweep step failed");
            } finally {
                Reclaimer.duringSweep = null;
            }
            assertThat(lm.reclaim()).as("the dead row is swept again, not kept by the failed sweeper").isEqualTo(1);
            assertThat(list).containsExactly("held by a process that dies");
        } finally {
            Reclaimer.watching = true;
        }
    }

    @Test
    void aPutAllKilledMidwayLeavesTheEntriesItPublishedWholeAndTheCountRight() throws Exception {
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            ConcurrentMap<String, Object> dict = m.dict();
            dict.put("k0", 0);
            ChildProcess writer = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.manager.faults=true"))
                    .target(() -> {
                        int[] published = {0};
                        FaultPoints.hook = p -> {
                            if (p == FaultPoints.Point.DICT_PUT_AFTER_PUBLISH && ++published[0] == 3) {
                                stage.set(1);
                                while (true) {
                                    Thread.onSpinWait(); // the third new entry is published, the batch's counts not yet
                                }
                            }
                        };
                        Map<String, Object> batch = new LinkedHashMap<>();
                        for (int i = 0; i < 6; i++) {
                            batch.put("b" + i, "value " + i);
                        }
                        dict.putAll(batch);
                        stage.set(2);
                    }).start();
            try {
                Children.awaitUntil("writer stopped in putAll", () -> stage.get() != 0 || !writer.isAlive());
                assertThat(stage.get()).isEqualTo(1);
                writer.kill();
                assertThat(writer.join(Children.TIMEOUT)).isTrue();
            } finally {
                Children.reap(writer);
            }
            assertThat(dict.size()).as("count repaired by the next holder").isEqualTo(4);
            assertThat(new HashMap<>(dict)).isEqualTo(Map.of("k0", 0, "b0", "value 0", "b1", "value 1", "b2", "value 2"));
            dict.putAll(Map.of("b2", "again", "b5", "new"));
            assertThat(dict.size()).isEqualTo(5);
            assertThat(dict.get("b2")).isEqualTo("again");
        }
    }

    @Test
    void aWriterKilledWritingAnItemThatRefersToANestedListLeavesTheNestedListAlive() throws Exception {
        Reclaimer.watching = false;
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            List<Object> ls = m.list();
            ls.add(new ArrayList<>(List.of(1)));
            ChildProcess writer = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.manager.faults=true"))
                    .target(() -> {
                        Object nested = ls.get(0);
                        FaultPoints.hook = stopAt(FaultPoints.Point.ITEM_WRITTEN_BEFORE_REFERENCE, stage);
                        ls.add(nested); // a second item referring to the nested list
                        stage.set(2);
                    }).start();
            killWhenStopped(writer, stage);
            checkNestedListSurvivesASweep(m, ls);
        } finally {
            Reclaimer.watching = true;
        }
    }

    @Test
    void aWriterKilledRightAfterReusingABlockOfAnItemThatReferredToANestedListLeavesTheNestedListAlive() throws Exception {
        Reclaimer.watching = false;
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            List<Object> ls = m.list();
            ls.add(new ArrayList<>(List.of(1)));
            ChildProcess writer = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.manager.faults=true"))
                    .target(() -> {
                        Object nested = ls.get(0);
                        ls.add(nested);
                        ls.set(1, 5); // that item's block goes to this process's cache, its bytes as they were
                        String same = sameBlockClassAs(ls, nested);
                        FaultPoints.hook = stopAt(FaultPoints.Point.ITEM_ALLOCATED, stage);
                        ls.add(same); // reuses the block: still the old item's bytes when stopped
                        stage.set(2);
                    }).start();
            killWhenStopped(writer, stage);
            checkNestedListSurvivesASweep(m, ls);
        } finally {
            Reclaimer.watching = true;
        }
    }

    /**
     * A writer killed while storing a value that names a queue (its hold taken, its item not published)
     * leaves the dict consistent and never the queue removed while a published item names it; the
     * manager's close removes it (decision 172).
     */
    @ParameterizedTest
    @EnumSource(value = FaultPoints.Point.class, names = {"ITEM_ALLOCATED", "ITEM_WRITTEN_BEFORE_REFERENCE"})
    void aWriterKilledStoringAQueueLeavesTheQueueToThePublishedItems(FaultPoints.Point point) throws Exception {
        Reclaimer.watching = false;
        String name;
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            ConcurrentMap<String, Object> d = m.dict();
            try (io.multiproc.queue.SharedQueue<String> q = io.multiproc.queue.SharedQueue.create(4)) {
                name = q.name();
                d.put("q", q);
            }
            ChildProcess writer = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.manager.faults=true"))
                    .target(() -> {
                        Object q = d.get("q");
                        FaultPoints.hook = stopAt(point, stage);
                        d.put("again", q);
                        stage.set(2);
                    }).start();
            killWhenStopped(writer, stage);
            LocalManager lm = (LocalManager) m;
            lm.reclaim();
            assertThat(lm.heapBytesInUse()).isEqualTo(lm.heapBytesReachable());
            assertThat(d).containsOnlyKeys("q");
            @SuppressWarnings("unchecked")
            java.util.concurrent.BlockingQueue<String> q = (java.util.concurrent.BlockingQueue<String>) d.get("q");
            assertThat(q.offer("after the kill")).isTrue();
            assertThat(q.poll()).isEqualTo("after the kill");
        } finally {
            Reclaimer.watching = true;
        }
        assertThat(java.nio.file.Path.of("/dev/shm", name)).as("the queue once the manager closed").doesNotExist();
    }

    /**
     * A writer killed after writing an item that names a queue, before publishing it, leaves the queue's
     * hold to the next sweep: once every process that had it closed it, the queue goes while the manager
     * stays open (before, it stayed until the manager closed).
     */
    @Test
    void aWriterKilledBeforePublishingAnItemNamingAQueueLeavesItsHoldToTheSweep() throws Exception {
        Reclaimer.watching = false;
        try (Manager m = Manager.start(); SharedLong stage = SharedLong.create(0)) {
            ConcurrentMap<String, Object> d = m.dict();
            String name;
            try (io.multiproc.queue.SharedQueue<String> q = io.multiproc.queue.SharedQueue.create(4)) {
                name = q.name();
                ChildProcess writer = ChildProcess.builder().jvmOptions(List.of("-Dmultiproc.manager.faults=true"))
                        .target(() -> {
                            FaultPoints.hook = stopAt(FaultPoints.Point.DICT_PUT_BEFORE_PUBLISH, stage);
                            d.put("q", q);
                            stage.set(2);
                        }).start();
                killWhenStopped(writer, stage);
            }
            LocalManager lm = (LocalManager) m;
            assertThat(lm.reclaim()).as("dead processes swept").isEqualTo(1);
            assertThat(d).isEmpty();
            assertThat(lm.heapBytesInUse()).isEqualTo(lm.heapBytesReachable());
            assertThat(java.nio.file.Path.of("/dev/shm", name)).as("the queue, its only item never published").doesNotExist();
        } finally {
            Reclaimer.watching = true;
        }
    }

    /** A string whose item takes a block of the same size class as an item holding {@code value}. */
    private static String sameBlockClassAs(List<Object> ls, Object value) {
        Heap heap = ((Proxy) ls).container().heap;
        int target = BlockLayout.classFor(ItemLayout.BYTES + Items.encodeValue(heap, value).value.size());
        for (int length = Items.INLINE_MAX + 1; length < 10_000; length++) {
            String s = "s".repeat(length);
            if (BlockLayout.classFor(ItemLayout.BYTES + Items.encodeValue(heap, s).value.size()) == target) {
                return s;
            }
        }
        throw new AssertionError("no string with an item of class " + target);
    }

    private static Consumer<FaultPoints.Point> stopAt(FaultPoints.Point point, SharedLong stage) {
        return p -> {
            if (p == point) {
                stage.set(1);
                while (true) {
                    Thread.onSpinWait(); // stopped here until killed
                }
            }
        };
    }

    private static void killWhenStopped(ChildProcess writer, SharedLong stage) throws InterruptedException {
        try {
            Children.awaitUntil("writer stopped", () -> stage.get() != 0 || !writer.isAlive());
            assertThat(stage.get()).as("writer stopped at its fault point").isEqualTo(1);
            writer.kill();
            assertThat(writer.join(Children.TIMEOUT)).isTrue();
        } finally {
            Children.reap(writer);
        }
    }

    /** After a sweep of the killed writer, the list's nested list (which only the list refers to) is alive and works. */
    @SuppressWarnings("unchecked")
    private static void checkNestedListSurvivesASweep(Manager m, List<Object> ls) {
        LocalManager lm = (LocalManager) m;
        assertThat(lm.reclaim()).as("dead processes swept").isEqualTo(1);
        List<Integer> nested = (List<Integer>) ls.get(0);
        assertThat(nested).containsExactly(1);
        nested.add(2);
        assertThat((List<Integer>) ls.get(0)).containsExactly(1, 2);
        assertThat(lm.heapBytesInUse()).as("bytes in use after the sweep").isEqualTo(lm.heapBytesReachable());
    }

    /** The containers show a state after some prefix of {@link #OPS}, their sizes agree, and they still work. */
    private static void checkConsistent(Containers shared) {
        List<List<Object>> lists = new ArrayList<>();
        List<Map<String, Object>> dicts = new ArrayList<>();
        Containers model = new Containers(new ArrayList<>(), new ConcurrentHashMapModel());
        fill(model);
        lists.add(new ArrayList<>(model.list));
        dicts.add(new HashMap<>(model.dict));
        for (Consumer<Containers> op : OPS) {
            op.accept(model);
            lists.add(new ArrayList<>(model.list));
            dicts.add(new HashMap<>(model.dict));
        }
        List<Object> list = new ArrayList<>(shared.list);
        Map<String, Object> dict = new HashMap<>(shared.dict);
        assertThat(lists).as("list states a writer can leave").contains(list);
        assertThat(dicts).as("dict states a writer can leave").contains(dict);
        assertThat(shared.list.size()).isEqualTo(list.size());
        assertThat(shared.dict.size()).as("dict count (repaired)").isEqualTo(dict.size());
        for (int i = 0; i < 200; i++) {
            shared.list.add(i);
            shared.dict.put("after" + i, i);
        }
        assertThat(shared.list.size()).isEqualTo(list.size() + 200);
        assertThat(shared.dict.size()).isEqualTo(dict.size() + 200);
        assertThat(shared.dict.get("after199")).isEqualTo(199);
        assertThat(shared.list.get(list.size() + 199)).isEqualTo(199);
    }

    /** A plain map with the ConcurrentMap type the model needs. */
    private static final class ConcurrentHashMapModel extends LinkedHashMap<String, Object> implements ConcurrentMap<String, Object> {
        @Override
        public Object putIfAbsent(String key, Object value) {
            return super.putIfAbsent(key, value);
        }

        @Override
        public boolean remove(Object key, Object value) {
            return super.remove(key, value);
        }

        @Override
        public boolean replace(String key, Object oldValue, Object newValue) {
            return super.replace(key, oldValue, newValue);
        }

        @Override
        public Object replace(String key, Object value) {
            return super.replace(key, value);
        }
    }
}
