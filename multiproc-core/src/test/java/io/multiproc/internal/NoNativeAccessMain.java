package io.multiproc.internal;

import io.multiproc.shared.SharedLong;
import io.multiproc.shm.SharedMemory;

import io.multiproc.sync.SharedCondition;
import io.multiproc.sync.SharedEvent;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;
import io.multiproc.sync.SharedSemaphore;

import java.lang.foreign.ValueLayout;
import java.time.Duration;

/** Run without --enable-native-access by {@link NativeFallbackTest}: everything must still work. */
public final class NoNativeAccessMain {
    private NoNativeAccessMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("native=" + Native.isAvailable());
        try (SharedMemory shm = SharedMemory.create(null, 3 * 4096 + 1)) {
            shm.segment().set(ValueLayout.JAVA_BYTE, shm.size() - 1, (byte) 7);
            System.out.println("size=" + java.nio.file.Files.size(java.nio.file.Path.of("/dev/shm", shm.name())));
            shm.unlink();
        }
        try (SharedMemory huge = SharedMemory.create(null, 1L << 42)) {
            System.out.println("huge=created");
        } catch (java.io.IOException expected) {
            System.out.println("huge=refused " + expected.getMessage());
        }
        try (SharedLong v = SharedLong.create(41)) {
            System.out.println("value=" + v.incrementAndGet());
        }
        syncWithoutFutex();
    }

    /** Contended waits run past the spinning rounds, into the pure-Java fallback of blocking waits. */
    private static void syncWithoutFutex() throws Exception {
        try (SharedLock lock = SharedLock.create(); SharedEvent done = SharedEvent.create();
             SharedSemaphore none = SharedSemaphore.create(0); SharedRLock rlock = SharedRLock.create();
             SharedCondition cond = rlock.newCondition()) {
            lock.lock();
            Thread t = new Thread(() -> {
                lock.lock();
                done.set();
                lock.unlock();
            });
            t.start();
            Thread.sleep(100);
            lock.unlock();
            System.out.println("event=" + done.await(Duration.ofSeconds(10)));
            t.join();
            System.out.println("semaphore=" + none.tryAcquire(Duration.ofMillis(50)));
            Thread signaller = new Thread(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                rlock.lock();
                cond.signal();
                rlock.unlock();
            });
            rlock.lock();
            signaller.start();
            System.out.println("condition=" + cond.await(Duration.ofSeconds(10)));
            rlock.unlock();
            signaller.join();
        }
    }
}
