package io.multiproc.internal;

import io.multiproc.shared.SharedLong;
import io.multiproc.shm.SharedMemory;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a fresh JVM by {@link FirstCreateTest}: a program's first shared objects, then what they cost.
 * Prints one {@code key=value} line per fact.
 */
public final class FirstCreateMain {
    private FirstCreateMain() {
    }

    public static void main(String[] args) throws Exception {
        long size = Long.parseLong(args[0]);
        try (SharedLong v = SharedLong.create(41); SharedMemory shm = SharedMemory.create(null, size)) {
            System.out.println("value=" + v.incrementAndGet());
            Path file = ShmFiles.SHM_DIR.resolve(shm.name());
            System.out.println("size=" + Files.size(file));
            System.out.println("allocated=" + allocatedBytes(file));
            long nonZero = 0;
            for (long i = 0; i < size; i += 4096) {
                nonZero += shm.segment().get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
            }
            System.out.println("nonzero=" + nonZero);
            System.out.println("fallocateLinked=" + Native.isFallocateLinked());
            shm.unlink();
        }
    }

    /** Bytes the file system has allocated to the file (st_blocks x 512), from stat(1). */
    private static long allocatedBytes(Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).start();
        String[] out = new String(p.getInputStream().readAllBytes()).trim().split(" ");
        p.waitFor();
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }
}
