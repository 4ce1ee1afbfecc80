package io.multiproc.shared;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.multiproc.manager.Manager;
import io.multiproc.shm.SharedMemory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A thread that is interrupted (a cancelled task, an executor shutting down) while it creates or closes
 * shared objects must not break shared memory for the rest of the process. The JDK closes a
 * {@code FileChannel} for every thread when one interrupted thread does blocking I/O on it; the segment
 * registry's lock file is one such channel, shared by the whole JVM.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class InterruptedThreadTest {

    @Test
    void anInterruptedThreadThatClosesASharedValueLeavesOtherThreadsAbleToCreateAndClose() throws Exception {
        try (SharedInt survivor = SharedInt.create(7)) {
            interruptedThreadCreatesAndCloses();
            // the rest of the process: a new value and an older one still work
            try (SharedLong after = SharedLong.create(3L)) {
                assertThat(after.addAndGet(1)).isEqualTo(4L);
            }
            assertThat(survivor.get()).isEqualTo(7);
        }
    }

    @Test
    void anInterruptedThreadCanAttachSharedMemoryAndUseAManagerWhoseCloseThenWorks() throws Exception {
        try (SharedMemory shm = SharedMemory.create(null, 4096)) {
            shm.segment().set(JAVA_INT, 0, 41);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicReference<Integer> seen = new AtomicReference<>();
            Thread t = new Thread(() -> {
                Thread.currentThread().interrupt();
                try (SharedMemory again = SharedMemory.attach(shm.name()); Manager m = Manager.start()) {
                    List<Integer> l = m.list();
                    l.add(again.segment().get(JAVA_INT, 0) + 1);
                    seen.set(l.get(0));
                } catch (Throwable e) {
                    failed.set(e);
                }
            });
            t.start();
            try {
                t.join(20_000);
            } finally {
                shm.unlink();
            }
            assertThat(failed.get()).isNull();
            assertThat(seen.get()).isEqualTo(42);
            try (Manager m = Manager.start()) {
                Map<String, Integer> d = m.dict();
                d.put("k", 1);
                assertThat(d.merge("k", 1, Integer::sum)).isEqualTo(2);
            }
        }
    }

    private static void interruptedThreadCreatesAndCloses() throws InterruptedException {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                Thread.currentThread().interrupt();
                try (SharedInt mine = SharedInt.create(1)) {
                    mine.incrementAndGet();
                }
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        t.start();
        t.join(10_000);
        assertThat(failed.get()).as("the interrupted thread's own create and close").isNull();
        assertThat(stillInterrupted.get()).as("the interrupt is kept for the caller to see").isTrue();
    }
}
