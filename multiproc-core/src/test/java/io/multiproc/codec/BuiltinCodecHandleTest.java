package io.multiproc.codec;

import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedDoubleArray;
import io.multiproc.shared.SharedLong;
import io.multiproc.shm.SharedMemory;
import io.multiproc.sync.SharedBarrier;
import io.multiproc.sync.SharedBoundedSemaphore;
import io.multiproc.sync.SharedCondition;
import io.multiproc.sync.SharedEvent;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;
import io.multiproc.sync.SharedSemaphore;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.multiproc.codec.CodecTesting.decode;
import static io.multiproc.codec.CodecTesting.encode;
import static io.multiproc.codec.CodecTesting.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(ReapChildrenCheckShm.class)
class BuiltinCodecHandleTest {
    private final Codec codec = Codec.defaultCodec();

    record Job(String name, SharedLong counter) {
    }

    @Test
    void aDecodedSharedLongAttachesToTheSameMemory() {
        try (SharedLong v = SharedLong.create(5)) {
            List<?> back = (List<?>) roundTrip(codec, List.of("hits", v));
            try (SharedLong copy = (SharedLong) back.get(1)) {
                assertThat(copy).isNotSameAs(v);
                assertThat(copy.name()).isEqualTo(v.name());
                copy.addAndGet(10);
                assertThat(v.get()).isEqualTo(15);
            }
        }
    }

    /**
     * A value that fails to decode closes the shared objects it attached on the way, also those inside a
     * JDK-serialized part (here an AtomicReference): nothing stays mapped, and the segment goes with its
     * creator's close (the extension checks /dev/shm after the test).
     */
    @Test
    void aFailedDecodeClosesTheSharedObjectsAttachedInsideAJdkSerializedPart() {
        SharedLong v = SharedLong.create(5);
        byte[] bytes;
        try (v) {
            bytes = encode(codec, List.of(new java.util.concurrent.atomic.AtomicReference<>(v), "tail"));
            byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 2);
            assertThatThrownBy(() -> decode(codec, cut)).isInstanceOf(CodecException.class);
        }
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", v.name())))
                .as("segment of %s after its creator closed it", v.name()).isFalse();
    }

    /** The same for a queue, a front over its ring rather than a mapped object itself (decision 173). */
    @Test
    void aFailedDecodeClosesAQueueAttachedInsideAJdkSerializedPart() {
        io.multiproc.queue.SharedQueue<String> q = io.multiproc.queue.SharedQueue.create(4);
        try (q) {
            byte[] bytes = encode(codec, List.of(new java.util.concurrent.atomic.AtomicReference<>(q), "tail"));
            byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 2);
            assertThatThrownBy(() -> decode(codec, cut)).isInstanceOf(CodecException.class);
        }
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of("/dev/shm", q.name())))
                .as("segment of %s after its creator closed it", q.name()).isFalse();
    }

    /**
     * The same for a raw SharedMemory (not a MappedObject): after a failed decode and its creator's
     * unlink, no mapping of it stays in this process.
     */
    @Test
    void aFailedDecodeUnmapsASharedMemoryAttachedInsideAJdkSerializedPart() throws Exception {
        String name;
        try (SharedMemory shm = SharedMemory.create(null, 4096)) {
            name = shm.name();
            byte[] bytes = encode(codec, List.of(new java.util.concurrent.atomic.AtomicReference<>(shm), "tail"));
            byte[] cut = Arrays.copyOf(bytes, bytes.length - 2);
            assertThatThrownBy(() -> decode(codec, cut)).isInstanceOf(CodecException.class);
            shm.unlink();
        }
        assertThat(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps")))
                .as("mappings of %s after a failed decode and its creator's close", name)
                .filteredOn(line -> line.contains("/dev/shm/" + name)).isEmpty();
    }

    @Test
    void aHandleTravelsAsLittleMoreThanItsSegmentName() {
        try (SharedLong v = SharedLong.create(0)) {
            byte[] bytes = encode(codec, v);
            assertThat(bytes.length).isLessThanOrEqualTo(12 + v.name().length());
            assertThat(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("io.multiproc");
        }
    }

    @Test
    void handlesInsideRecordsAndMapsReattach() {
        try (SharedLong c = SharedLong.create(1); SharedDoubleArray a = SharedDoubleArray.create(3)) {
            a.set(2, 2.5);
            Map<?, ?> back = (Map<?, ?>) roundTrip(codec, Map.of("job", new Job("j", c), "array", a));
            Job job = (Job) back.get("job");
            try (SharedLong c2 = job.counter(); SharedDoubleArray a2 = (SharedDoubleArray) back.get("array")) {
                assertThat(job.name()).isEqualTo("j");
                assertThat(c2.incrementAndGet()).isEqualTo(2);
                assertThat(a2.get(2)).isEqualTo(2.5);
                assertThat(c.get()).isEqualTo(2);
            }
        }
    }

    @Test
    void everySynchronizationObjectReattaches() throws Exception {
        try (SharedLock lock = SharedLock.create(); SharedRLock rlock = SharedRLock.create();
             SharedSemaphore sem = SharedSemaphore.create(3); SharedBoundedSemaphore bounded = SharedBoundedSemaphore.create(1);
             SharedEvent event = SharedEvent.create(); SharedBarrier barrier = SharedBarrier.create(1);
             SharedLong value = SharedLong.create(0)) {
            SharedCondition cond = rlock.newCondition();
            List<?> back = (List<?>) roundTrip(codec, List.of(lock, rlock, sem, bounded, event, barrier, cond, value.getLock()));
            try {
                lock.lock();
                assertThat(((SharedLock) back.get(0)).isLocked()).isTrue();
                lock.unlock();
                assertThat(((SharedRLock) back.get(1)).tryLock()).isTrue();
                assertThat(rlock.isLocked()).isTrue();
                ((SharedRLock) back.get(1)).unlock();
                assertThat(((SharedSemaphore) back.get(2)).availablePermits()).isEqualTo(3);
                assertThat(back.get(3)).isInstanceOf(SharedBoundedSemaphore.class);
                event.set();
                assertThat(((SharedEvent) back.get(4)).isSet()).isTrue();
                assertThat(((SharedBarrier) back.get(5)).await(Duration.ofSeconds(5))).isZero();
                SharedCondition cond2 = (SharedCondition) back.get(6);
                assertThat(cond2.name()).isEqualTo(cond.name());
                assertThat(cond2.lock().name()).isEqualTo(rlock.name());
                value.getLock().lock();
                assertThat(((SharedRLock) back.get(7)).isLocked()).isTrue();
                value.getLock().unlock();
            } finally {
                for (Object o : back) { // a decoded condition also closes the lock decoded with it
                    ((AutoCloseable) o).close();
                }
                cond.close();
            }
        }
    }

    @Test
    void aChildJvmDecodesBytesAndAttaches() throws Exception {
        try (SharedLong v = SharedLong.create(1)) {
            byte[] bytes = encode(codec, List.of(new Job("from parent", v), 41L));
            ChildProcess child = ChildProcess.start(() -> {
                List<?> items = (List<?>) Codec.defaultCodec().decode(SegmentSource.of(bytes));
                try (SharedLong counter = ((Job) items.get(0)).counter()) {
                    counter.addAndGet((Long) items.get(1));
                }
            });
            try {
                assertThat(child.join(Duration.ofSeconds(60))).isTrue();
                assertThat(child.exitCode()).hasValue(0);
                assertThat(v.get()).isEqualTo(42);
            } finally {
                child.close();
            }
        }
    }

    @Test
    void aHandleAttachedBeforeTheInputTurnsOutGarbledIsClosedAgain() throws Exception {
        byte[] bytes;
        String name;
        try (SharedLong v = SharedLong.create(7)) {
            name = v.name();
            bytes = encode(codec, List.of(v, "tail"));
            byte[] cut = Arrays.copyOf(bytes, bytes.length - 2);
            assertThatThrownBy(() -> CodecTesting.decode(codec, cut)).isInstanceOf(CodecException.class);
        }
        // the creator closed its only handle: the segment is gone unless the failed decode kept one
        assertThat(ReapChildrenCheckShm.shmFiles()).doesNotContain(name);
        assertThatThrownBy(() -> CodecTesting.decode(codec, bytes)).isInstanceOf(CodecException.class)
                .hasMessageContaining("cannot attach");
    }
}
