package io.multiproc;

import io.multiproc.shared.Array;
import io.multiproc.shared.SharedDouble;
import io.multiproc.shared.SharedDoubleArray;
import io.multiproc.shared.SharedInt;
import io.multiproc.shared.SharedIntArray;
import io.multiproc.shared.SharedLong;
import io.multiproc.shared.SharedLongArray;
import io.multiproc.shared.SharedNumber;
import io.multiproc.shared.Value;
import io.multiproc.shm.ShareableList;
import io.multiproc.shm.SharedMemory;
import io.multiproc.sync.SharedBarrier;
import io.multiproc.sync.SharedEvent;
import io.multiproc.sync.SharedLock;
import io.multiproc.sync.SharedRLock;
import io.multiproc.sync.SharedSemaphore;
import io.multiproc.testing.Python3;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;

import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Everyday misuse fails with a message that names the object and the value, as issue 12 asked. */
@ExtendWith(ReapChildrenCheckShm.class)
class EverydayErrorsTest {

    private static <T extends AutoCloseable> void closedNamesItself(T object, String kind, String name, Consumer<T> use)
            throws Exception {
        object.close();
        assertThatThrownBy(() -> use.accept(object)).isInstanceOf(IllegalStateException.class)
                .hasMessage(kind + " '" + name + "' is closed");
        assertThat(object.toString()).contains(name).contains("closed");
    }

    @Test
    void useAfterCloseNamesTheObjectAndToStringStillWorks() throws Exception {
        SharedLong l = SharedLong.create(1);
        closedNamesItself(l, "SharedLong", l.name(), SharedLong::incrementAndGet);
        SharedInt i = SharedInt.create(1);
        closedNamesItself(i, "SharedInt", i.name(), SharedInt::get);
        SharedDouble d = SharedDouble.create(1);
        closedNamesItself(d, "SharedDouble", d.name(), x -> x.set(2));
        SharedIntArray ia = SharedIntArray.create(3);
        closedNamesItself(ia, "SharedIntArray", ia.name(), x -> x.get(0));
        SharedLongArray la = SharedLongArray.create(3);
        closedNamesItself(la, "SharedLongArray", la.name(), x -> x.incrementAndGet(1));
        SharedDoubleArray da = SharedDoubleArray.create(3);
        closedNamesItself(da, "SharedDoubleArray", da.name(), SharedDoubleArray::toArray);
        SharedLock lock = SharedLock.create();
        closedNamesItself(lock, "SharedLock", lock.name(), SharedLock::lock);
        SharedRLock rlock = SharedRLock.create();
        closedNamesItself(rlock, "SharedRLock", rlock.name(), SharedRLock::tryLock);
        SharedSemaphore sem = SharedSemaphore.create(1);
        closedNamesItself(sem, "SharedSemaphore", sem.name(), SharedSemaphore::release);
        SharedEvent ev = SharedEvent.create();
        closedNamesItself(ev, "SharedEvent", ev.name(), SharedEvent::set);
        SharedBarrier bar = SharedBarrier.create(2);
        closedNamesItself(bar, "SharedBarrier", bar.name(), SharedBarrier::getNumberWaiting);
        ShareableList list = ShareableList.create(null, List.of(1L, "a"));
        try {
            closedNamesItself(list, "ShareableList", list.name(), x -> x.get(0));
        } finally {
            list.unlink();
        }
        SharedMemory shm = SharedMemory.create(null, 64);
        try {
            closedNamesItself(shm, "SharedMemory", shm.name(), SharedMemory::segment);
        } finally {
            shm.unlink();
        }
    }

    @Test
    void closingOneHandleFailsItEvenWhileAnotherHandleMapsTheSameSegment() {
        try (SharedLong a = SharedLong.create(5); SharedLong b = SharedLong.attach(a.name())) {
            b.close();
            assertThatThrownBy(b::get).hasMessage("SharedLong '" + a.name() + "' is closed");
            assertThat(a.incrementAndGet()).isEqualTo(6);
        }
    }

    /** A refused argument leaves nothing behind: no segment is made (or attached) before the arguments are checked. */
    @Test
    void aRefusedCreateLeavesNoSegmentBehind() {
        assertThatThrownBy(() -> SharedLock.create(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("idle");
        assertThatThrownBy(() -> SharedRLock.create(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("idle");
        assertThatThrownBy(() -> SharedEvent.create(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("idle");
        io.multiproc.wait.IdleStrategy idle = io.multiproc.wait.IdleStrategy.blocking();
        assertThatThrownBy(() -> io.multiproc.queue.SharedQueue.create(10, 4096, idle, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("codec");
        assertThatThrownBy(() -> io.multiproc.queue.JoinableQueue.create(10, 4096, idle, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("codec");
        assertThatThrownBy(() -> io.multiproc.queue.SimpleQueue.create(idle, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("codec");
        io.multiproc.manager.Manager m = io.multiproc.manager.Manager.start();
        m.close();
        assertThatThrownBy(m::lock).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(m::queue).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> io.multiproc.manager.Manager.attach(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("name='null'");
        // the extension checks that /dev/shm holds nothing new
    }

    @Test
    void valueRejectsAnOutOfRangeInitialValueNamingIt() {
        assertThatThrownBy(() -> Value.of("i", 5_000_000_000L)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("initial=5000000000").hasMessageContaining("typecode 'i'")
                .hasMessageContaining("-2147483648..2147483647");
        assertThatThrownBy(() -> Value.of("b", 128)).hasMessageContaining("initial=128").hasMessageContaining("-128..127");
        assertThatThrownBy(() -> Value.of("B", -1)).hasMessageContaining("initial=-1").hasMessageContaining("0..255");
        assertThatThrownBy(() -> Value.of("H", 65536)).hasMessageContaining("0..65535");
        assertThatThrownBy(() -> Value.of("Q", -1L)).hasMessageContaining("0..18446744073709551615");
        assertThatThrownBy(() -> Value.of("i", 1.5)).hasMessageContaining("initial=1.5 is not an integer");
        assertThatThrownBy(() -> Value.of("f", 1e39)).hasMessageContaining("initial=1.0E39").hasMessageContaining("'f'");
        assertThatThrownBy(() -> Value.of("u", 1)).hasMessageContaining("typecode='u' is not supported");
    }

    @Test
    void everyJavaRepresentableCpythonTypecodeMapsOntoAStorageKind() throws Exception {
        record Case(String code, Number value, Class<?> type, Object stored) {
        }
        for (Case c : List.of(new Case("b", -128, SharedInt.class, -128), new Case("B", 255, SharedInt.class, 255),
                new Case("c", 65, SharedInt.class, 65), new Case("h", -32768, SharedInt.class, -32768),
                new Case("H", 65535, SharedInt.class, 65535), new Case("i", 7, SharedInt.class, 7),
                new Case("I", 4_294_967_295L, SharedLong.class, 4_294_967_295L), new Case("l", -5L, SharedLong.class, -5L),
                new Case("q", Long.MAX_VALUE, SharedLong.class, Long.MAX_VALUE),
                new Case("L", 3, SharedLong.class, 3L),
                new Case("Q", new BigInteger("18446744073709551615"), SharedLong.class, -1L),
                new Case("f", 0.1, SharedDouble.class, (double) 0.1f), new Case("d", 0.1, SharedDouble.class, 0.1))) {
            try (SharedNumber v = Value.of(c.code(), c.value())) {
                assertThat(v).as(c.code()).isInstanceOf(c.type());
                assertThat(v.getValue()).as(c.code()).isEqualTo(c.stored());
            }
        }
    }

    @Test
    void arrayOfASequenceChecksEachValueNamingItsIndex() {
        try (SharedIntArray a = (SharedIntArray) Array.of("h", List.of(1, -2, 3))) {
            assertThat(a.toArray()).containsExactly(1, -2, 3);
        }
        try (SharedDoubleArray a = (SharedDoubleArray) Array.of("d", List.of(1.5, 2))) {
            assertThat(a.toArray()).containsExactly(1.5, 2.0);
        }
        try (SharedLongArray a = (SharedLongArray) Array.of("I", List.of(4_000_000_000L))) {
            assertThat(a.get(0)).isEqualTo(4_000_000_000L);
        }
        assertThatThrownBy(() -> Array.of("B", List.of(1, 2, 300))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("values[2]=300").hasMessageContaining("0..255");
    }

    @Test
    void shareableListAddSaysFixedSize() throws Exception {
        try (ShareableList list = ShareableList.create(null, List.of(1L))) {
            try {
                for (Executable e : List.<Executable>of(() -> list.add(2L), () -> list.remove(0), list::clear)) {
                    assertThatThrownBy(e::execute).isInstanceOf(UnsupportedOperationException.class)
                            .hasMessageContaining("ShareableList '" + list.name() + "' is fixed size (size=1)");
                }
                assertThat(list).containsExactly(1L);
            } finally {
                list.unlink();
            }
        }
    }

    @Test
    void shareableListAttachOnAnotherKindOfSegmentSaysWhatItFound() throws Exception {
        try (SharedLong notAList = SharedLong.create(1)) {
            assertThatThrownBy(() -> ShareableList.attach(notAList.name())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("segment '" + notAList.name() + "' is not a ShareableList");
        }
    }

    @Test
    void attachingAMissingNameFailsNamingItTheSameWayEverywhere() {
        String name = "mp_missing_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
        String message = "no shared memory segment named '" + name + "'";
        assertThatThrownBy(() -> SharedMemory.attach(name)).isInstanceOf(NoSuchFileException.class).hasMessageContaining(message);
        assertThatThrownBy(() -> ShareableList.attach(name)).isInstanceOf(NoSuchFileException.class).hasMessageContaining(message);
        for (Executable e : List.<Executable>of(() -> SharedLong.attach(name), () -> SharedIntArray.attach(name),
                () -> SharedLock.attach(name), () -> SharedEvent.attach(name))) {
            assertThatThrownBy(e::execute).isInstanceOf(UncheckedIOException.class).hasMessageContaining(message)
                    .cause().isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void attachingAPythonSegmentAsADoubleArraySuggestsSharedMemoryAndAnOffset() throws Exception {
        try (SharedMemory raw = SharedMemory.create(null, 800)) {
            try {
                assertThatThrownBy(() -> SharedDoubleArray.attach(raw.name())).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("is not a SharedDoubleArray").hasMessageContaining("SharedMemory.attach(\"" + raw.name())
                        .hasMessageContaining("offset=dataOffset() (256)");
            } finally {
                raw.unlink();
            }
        }
        try (SharedDoubleArray a = SharedDoubleArray.create(2)) {
            assertThat(a.dataOffset()).isEqualTo(256);
        }
    }

    @Test
    void sixteenZeroBytesAreCpythonsEmptyShareableList() throws Exception {
        // CPython's ShareableList([]) is exactly these bytes (count 0, offsets[0] 0), so they must attach
        // as an empty list for interop (docs/decisions/056); anything else that is not a list is refused.
        Python3.assumePresent();
        String out = Python3.run("from multiprocessing import shared_memory as s\n"
                + "l = s.ShareableList([])\nprint(l.shm.size, bytes(l.shm.buf[:16]).hex())\nl.shm.close(); l.shm.unlink()\n");
        assertThat(out.strip()).isEqualTo("16 " + "00".repeat(16));
        try (SharedMemory zeros = SharedMemory.create(null, 16)) {
            try (ShareableList list = ShareableList.attach(zeros.name())) {
                assertThat(list).isEmpty();
            } finally {
                zeros.unlink();
            }
        }
    }

    @Test
    void aChildNameTooLongForItsTaskFrameOrAClosedChildIsRefusedAtOnce() {
        String huge = "n".repeat(70_000);
        assertThatThrownBy(() -> io.multiproc.process.ChildProcess.builder().name(huge))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("70000 characters").hasMessageContaining("4096");
        io.multiproc.process.ChildProcess never = io.multiproc.process.ChildProcess.builder().name("never").target(() -> { }).build();
        never.close();
        assertThatThrownBy(never::start).isInstanceOf(IllegalStateException.class)
                .hasMessage("child 'never' was closed before it was started");
    }
}
