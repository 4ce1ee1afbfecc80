package io.multiproc.internal;

import io.multiproc.shared.SharedLong;
import io.multiproc.shm.SharedMemory;

import java.lang.foreign.ValueLayout;

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
    }
}
