package io.multiproc.manager.local;

import io.multiproc.manager.Manager;
import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How long a process that attached a manager keeps it mapped: a long-lived child (a worker serving many
 * short-lived managers of its parent) neither pins the memory of destroyed managers nor hands out a
 * destroyed manager when a new one of the same name exists.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerAttachedLifetimeTest {

    @Test
    void aLongLivedChildDoesNotKeepTheManagersItsParentDestroyedMapped() throws Exception {
        String prefix = "attached-life-" + ProcessHandle.current().pid() + "-";
        try (SharedQueue<Object> commands = SharedQueue.create(4); SharedQueue<Object> replies = SharedQueue.create(4)) {
            ChildProcess child = ChildProcess.start(() -> serve(commands, replies));
            try {
                for (int i = 0; i < 20; i++) {
                    try (Manager m = Manager.start(prefix + i)) {
                        Map<String, Object> d = m.dict("d");
                        d.put("k", i);
                        // even rounds: Manager.attach and close; odd ones: a proxy decoded and never closed
                        Object got = i % 2 == 0 ? ask(commands, replies, List.of("attach", m.name()))
                                : ask(commands, replies, List.of("read", d));
                        assertThat(got).as("round " + i).isEqualTo(i);
                    }
                }
                Object mapped = ask(commands, replies, List.of("deleted-mappings", "mpm_" + prefix, "mpmh_" + prefix));
                assertThat((Integer) mapped).as("mappings of destroyed managers in the child").isLessThanOrEqualTo(2);
                commands.put(List.of("stop"));
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
        }
    }

    @Test
    void aLongLivedChildAttachesTheNewManagerOfANameWhoseOldManagerWasDestroyed() throws Exception {
        String name = "attached-again-" + ProcessHandle.current().pid();
        try (SharedQueue<Object> commands = SharedQueue.create(4); SharedQueue<Object> replies = SharedQueue.create(4)) {
            ChildProcess child = ChildProcess.start(() -> serve(commands, replies));
            try {
                try (Manager first = Manager.start(name)) {
                    first.dict("d").put("k", "first");
                    assertThat(ask(commands, replies, List.of("attach-keep", name))).isEqualTo("first");
                }
                try (Manager second = Manager.start(name)) {
                    second.dict("d").put("k", "second");
                    assertThat(ask(commands, replies, List.of("attach", name))).isEqualTo("second");
                    assertThat(ask(commands, replies, List.of("read", second.dict("d")))).isEqualTo("second");
                }
                commands.put(List.of("stop"));
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
        }
    }

    @Test
    void closingOneOfTwoAttachedManagersLeavesTheOtherWorkingAndClosingTheLastUnmapsTheHeap() throws Exception {
        try (Manager m = Manager.start();
             SharedQueue<Object> commands = SharedQueue.create(4); SharedQueue<Object> replies = SharedQueue.create(4)) {
            Map<String, Object> d = m.dict("d");
            d.put("k", "v");
            String name = m.name();
            ChildProcess child = ChildProcess.start(() -> serve(commands, replies));
            try {
                assertThat(ask(commands, replies, List.of("two", name, d))).isEqualTo("v v v");
                assertThat(d).containsEntry("from-b", 1);
                assertThat(ask(commands, replies, List.of("live-mappings-soon", "mpm_" + name, "mpmh_" + name)))
                        .as("mappings of the manager left in the child once it closed its last Manager object")
                        .isEqualTo(0);
                assertThat(ask(commands, replies, List.of("attach", name))).as("attaching again").isEqualTo("v");
                assertThat(ask(commands, replies, List.of("live-mappings-soon", "mpm_" + name, "mpmh_" + name)))
                        .isEqualTo(0);
                commands.put(List.of("stop"));
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
            d.put("after", "the child left"); // its row and cached blocks went back; the heap works on
            assertThat(d).containsEntry("after", "the child left");
            assertThat(((LocalManager) m).heapBytesInUse()).isEqualTo(((LocalManager) m).heapBytesReachable());
        }
    }

    @Test
    void closingAManagerAttachedInTheOwnersProcessLeavesTheManagerOpen() {
        try (Manager m = Manager.start()) {
            m.dict("d").put("k", 1);
            Manager.attach(m.name()).close();
            assertThat(m.<String, Object>dict("d")).containsEntry("k", 1);
            try (Manager again = Manager.attach(m.name())) {
                assertThat(again.<String, Object>dict("d")).containsEntry("k", 1);
            }
        }
    }

    @Test
    void threadsAttachingAndClosingConcurrentlyWhileTheProcessKeepsLeavingTheHeapAllSucceed() throws Exception {
        try (Manager m = Manager.start();
             SharedQueue<Object> commands = SharedQueue.create(4); SharedQueue<Object> replies = SharedQueue.create(4)) {
            Map<String, Object> d = m.dict("d");
            d.put("k", "v");
            ChildProcess child = ChildProcess.start(() -> serve(commands, replies));
            try {
                assertThat(ask(commands, replies, List.of("churn", m.name(), ((ManagedContainer) d).ref()))).isEqualTo("ok");
                commands.put(List.of("stop"));
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
            assertThat(d).containsEntry("k", "v");
            assertThat(((LocalManager) m).heapBytesInUse()).isEqualTo(((LocalManager) m).heapBytesReachable());
        }
    }

    private static Object ask(SharedQueue<Object> commands, SharedQueue<Object> replies, List<Object> command)
            throws InterruptedException {
        commands.put(command);
        Object reply = replies.poll(Children.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertThat(reply).as("the child's reply to " + command.get(0)).isNotNull();
        return reply;
    }

    /**
     * The child's loop: runs commands until "stop". A failure is replied as its message, so the test
     * shows what the child saw.
     */
    private static void serve(SharedQueue<Object> commands, SharedQueue<Object> replies) throws Exception {
        List<Manager> kept = new ArrayList<>();
        while (true) {
            Object reply;
            List<?> command;
            try {
                command = (List<?>) commands.poll(60, TimeUnit.SECONDS);
            } catch (RuntimeException e) {
                replies.put("failed: " + e.getMessage());
                continue;
            }
            if (command == null || command.get(0).equals("stop")) {
                break;
            }
            try {
                reply = run(command, kept);
            } catch (RuntimeException e) {
                reply = "failed: " + e.getMessage();
            }
            replies.put(reply);
        }
        for (Manager m : kept) {
            m.close();
        }
    }

    private static Object run(List<?> command, List<Manager> kept) throws Exception {
        switch ((String) command.get(0)) {
            case "attach" -> {
                try (Manager m = Manager.attach((String) command.get(1))) {
                    return m.dict("d").get("k");
                }
            }
            case "attach-keep" -> {
                Manager m = Manager.attach((String) command.get(1));
                kept.add(m);
                return m.dict("d").get("k");
            }
            case "two" -> {
                // two Manager objects and a decoded proxy in this process share one view of the heap
                String name = (String) command.get(1);
                Map<?, ?> decoded = (Map<?, ?>) command.get(2);
                Manager a = Manager.attach(name);
                Manager b = Manager.attach(name);
                a.close();
                Map<String, Object> d = b.dict("d");
                d.put("from-b", 1);
                Object viaB = d.get("k");
                b.close();
                return decoded.get("k") + " " + viaB + " " + d.get("k"); // still reached here: still mapped
            }
            case "churn" -> {
                // rounds of 4 threads that attach, read and close (or decode the dict's ref); between rounds
                // a collection lets the cleaner leave the heap while the next round attaches: none may
                // see "closed"
                String name = (String) command.get(1);
                long ref = (Long) command.get(2);
                List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
                for (int round = 0; round < 60 && failures.isEmpty(); round++) {
                    List<Thread> threads = new ArrayList<>();
                    for (int t = 0; t < 4; t++) {
                        int me = t + round;
                        threads.add(Thread.ofPlatform().start(() -> {
                            try {
                                if (me % 2 == 0) {
                                    try (Manager a = Manager.attach(name)) {
                                        check(a.dict("d").get("k"));
                                    }
                                } else {
                                    check(((Map<?, ?>) LocalManager.byRef(name, ref)).get("k"));
                                }
                            } catch (Throwable e) {
                                failures.add(e);
                            }
                        }));
                    }
                    for (Thread t : threads) {
                        t.join();
                    }
                    System.gc();
                    Thread.sleep(round % 3); // the cleaner leaves before, during or after the next round's attaches
                }
                if (!failures.isEmpty()) {
                    throw new IllegalStateException("churn: " + failures.get(0), failures.get(0));
                }
                return "ok";
            }
            case "live-mappings-soon" -> {
                // the heap is left once the proxies the program dropped are released (after a collection)
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                int n;
                while ((n = countMappings(command.subList(1, command.size()), false)) != 0 && System.nanoTime() < deadline) {
                    System.gc();
                    Thread.sleep(50);
                }
                return n;
            }
            case "read" -> {
                return ((Map<?, ?>) command.get(1)).get("k");
            }
            case "deleted-mappings" -> {
                return countMappings(command.subList(1, command.size()), true);
            }
            case "live-mappings" -> {
                return countMappings(command.subList(1, command.size()), false);
            }
            default -> throw new IllegalArgumentException("command=" + command);
        }
    }

    private static void check(Object value) {
        if (!"v".equals(value)) {
            throw new AssertionError("read " + value);
        }
    }

    /** Lines of this process's /proc/self/maps that map /dev/shm files starting with one of {@code prefixes}. */
    static int countMappings(List<?> prefixes, boolean deleted) throws Exception {
        int n = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            boolean ours = prefixes.stream().anyMatch(p -> line.contains("/dev/shm/" + p));
            if (ours && line.endsWith("(deleted)") == deleted) {
                n++;
            }
        }
        return n;
    }
}
