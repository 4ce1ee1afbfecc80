package io.multiproc.sync;

import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.multiproc.testing.Children.awaitUntil;
import static io.multiproc.testing.Children.joinOk;
import static io.multiproc.testing.Children.reap;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Conditions received from another process (decoded from a queue item) are let go once the program drops
 * them, as the ones it made itself are (decisions 231 and 241), and letting go of them takes nothing from
 * the process that sent them nor from the copies still in use.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ReceivedConditionLifetimeTest {
    private static final int CONDITIONS = 10_000;
    private static final int PER_LOCK = 100;

    /** The client: a new lock every PER_LOCK requests, a new condition of it per request, sent and forgotten. */
    static void sendConditions(SharedQueue<SharedCondition> requests) {
        try {
            SharedRLock lock = null;
            for (int i = 0; i < CONDITIONS; i++) {
                if (i % PER_LOCK == 0) {
                    if (lock != null) {
                        lock.close(); // the queue holds what the items not yet taken carry
                    }
                    lock = SharedRLock.create();
                }
                requests.put(lock.newCondition());
            }
            lock.close();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A long-lived server receives a condition per request, uses it (signals it under its lock) and drops
     * it. Once the client is gone and the server's garbage is collected, nothing the client made stays in
     * /dev/shm or in the server's mappings: before, each received condition kept its lock's and its
     * conditions' segments until the server exited.
     */
    @Test
    void aServerThatReceivesAConditionPerRequestKeepsNoneOfThoseItDropped() throws Exception {
        try (SharedQueue<SharedCondition> requests = SharedQueue.create(64)) {
            long mappingsBefore = shmMappings();
            Set<String> segments = new HashSet<>();
            ChildProcess client = ChildProcess.start(() -> sendConditions(requests));
            try {
                for (int i = 0; i < CONDITIONS; i++) {
                    SharedCondition c = requests.poll(30, TimeUnit.SECONDS);
                    assertThat(c).as("request %d", i).isNotNull();
                    segments.add(c.name());
                    segments.add(c.lock().name());
                    c.lock().lock();
                    try {
                        c.signal(); // no one waits: the server still works with what it received
                        assertThat(c.await(1, TimeUnit.NANOSECONDS)).isFalse();
                    } finally {
                        c.lock().unlock();
                    }
                }
                joinOk(client);
            } finally {
                reap(client);
            }
            assertThat(segments).hasSize(2 * CONDITIONS / PER_LOCK);
            awaitUntil("the segments of the dropped conditions and their locks are gone", Duration.ofSeconds(30),
                    Duration.ofMillis(100), () -> {
                        System.gc();
                        return segments.stream().noneMatch(n -> Files.exists(Path.of("/dev/shm", n)));
                    });
            assertThat(shmMappings() - mappingsBefore).as("mappings of /dev/shm left").isLessThanOrEqualTo(0);
        }
    }

    /**
     * The receiver: takes a condition COPIES times, keeps the lock of the first and the last condition,
     * drops the rest (and the first condition) and lets them be collected; then waits on the kept condition
     * under the kept lock handle, and exits 0 only if the sender's signal wakes it.
     */
    static void receiveDropAndWait(SharedQueue<SharedCondition> in, SharedQueue<String> ready) {
        try {
            SharedCondition first = in.poll(30, TimeUnit.SECONDS);
            AbstractSharedLock keptLock = first.lock();
            WeakReference<SharedCondition> dropped = new WeakReference<>(first);
            first = null;
            SharedCondition kept = null;
            for (int i = 1; i < COPIES; i++) {
                kept = in.poll(30, TimeUnit.SECONDS);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (dropped.get() != null && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            if (dropped.get() != null) {
                throw new IllegalStateException("the dropped condition was never collected");
            }
            System.gc();
            Thread.sleep(300); // the Cleaner's thread lets the dropped copies go meanwhile
            keptLock.lock();
            try {
                ready.put("waiting");
                if (!kept.await(20, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the kept condition was not signalled");
                }
            } finally {
                keptLock.unlock();
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final int COPIES = 1_000;

    /**
     * A process that received a condition many times and dropped all copies but one (and the lock of one
     * it dropped) still waits on the kept copy, under the kept lock, and is woken by the sender's signal;
     * the sender's own condition goes on working after the receiver exited.
     */
    @Test
    void lettingGoOfReceivedCopiesLeavesTheKeptOnesAndTheSendersWorking() throws Exception {
        try (SharedRLock lock = SharedRLock.create(); SharedQueue<SharedCondition> out = SharedQueue.create(64);
             SharedQueue<String> ready = SharedQueue.create(1)) {
            SharedCondition cond = lock.newCondition();
            ChildProcess receiver = ChildProcess.start(() -> receiveDropAndWait(out, ready));
            try {
                for (int i = 0; i < COPIES; i++) {
                    assertThat(out.offer(cond, 30, TimeUnit.SECONDS)).as("copy %d sent", i).isTrue();
                }
                assertThat(ready.poll(60, TimeUnit.SECONDS)).isEqualTo("waiting");
                awaitUntil("the receiver waits", () -> cond.waiters() == 1);
                lock.lock();
                try {
                    cond.signal();
                } finally {
                    lock.unlock();
                }
                joinOk(receiver);
            } finally {
                reap(receiver);
            }
            assertThat(Files.exists(Path.of("/dev/shm", cond.name()))).isTrue();
            lock.lock();
            try {
                cond.signalAll();
                assertThat(cond.await(1, TimeUnit.MILLISECONDS)).isFalse();
            } finally {
                lock.unlock();
            }
        }
    }

    /** This process's mappings of files in /dev/shm. */
    private static long shmMappings() {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(l -> l.contains("/dev/shm/")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
