package io.multiproc.shm;

import io.multiproc.testing.TestShmNames;
import io.multiproc.internal.SegmentRegistry;
import io.multiproc.process.ChildProcess;
import io.multiproc.testing.BusySegment;
import io.multiproc.testing.Python3;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static io.multiproc.testing.Children.joinOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(ReapChildrenCheckShm.class)
class SharedMemoryTest {
    private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(20);

    // ---------------------------------------------------------------- create, attach, close, unlink

    @Test
    void createWithoutANameGivesAFreshPsmName() throws IOException {
        SharedMemory a = SharedMemory.create(null, 100);
        SharedMemory b = SharedMemory.create(null, 100);
        try {
            assertThat(a.name()).matches("psm_[0-9a-f]{8}");
            assertThat(b.name()).matches("psm_[0-9a-f]{8}").isNotEqualTo(a.name());
            assertThat(shm(a.name())).exists();
        } finally {
            a.close();
            b.close();
            a.unlink();
            b.unlink();
        }
        assertThat(shm(a.name())).doesNotExist();
        assertThat(shm(b.name())).doesNotExist();
    }

    @Test
    void createdSegmentHasTheRequestedSizeAndStartsZeroFilled() throws IOException {
        String name = uniqueName();
        try (SharedMemory shm = SharedMemory.create(name, 10_000)) {
            try {
                assertThat(shm.name()).isEqualTo(name);
                assertThat(shm.size()).isEqualTo(10_000);
                assertThat(shm.segment().byteSize()).isEqualTo(10_000);
                assertThat(Files.size(shm(name))).isEqualTo(10_000);
                assertThat(shm.segment().toArray(JAVA_BYTE)).containsOnly((byte) 0);
                assertThat(shm.toString()).contains("name=" + name, "size=10000");
            } finally {
                shm.unlink();
            }
        }
    }

    @Test
    void attachSeesTheCreatorsBytesAndSize() throws IOException {
        try (SharedMemory created = SharedMemory.create(null, 4096)) {
            try {
                created.segment().set(JAVA_LONG, 8, 0x1122_3344_5566_7788L);
                // the POSIX form Python shows as shm._name ("/psm_..."): the same segment, named without it
                try (SharedMemory slashed = SharedMemory.attach("/" + created.name())) {
                    assertThat(slashed.name()).isEqualTo(created.name());
                    assertThat(slashed.size()).isEqualTo(4096);
                }
                try (SharedMemory attached = SharedMemory.attach(created.name())) {
                    assertThat(attached.name()).isEqualTo(created.name());
                    assertThat(attached.size()).isEqualTo(4096);
                    assertThat(attached.segment().get(JAVA_LONG, 8)).isEqualTo(0x1122_3344_5566_7788L);
                    attached.segment().set(JAVA_LONG, 16, -5L);
                    assertThat(created.segment().get(JAVA_LONG, 16)).isEqualTo(-5L);
                }
            } finally {
                created.unlink();
            }
        }
    }

    @Test
    void closeUnmapsButKeepsTheSegmentUntilUnlink() throws IOException {
        SharedMemory shm = SharedMemory.create(null, 64);
        String name = shm.name();
        try {
            shm.segment().set(JAVA_LONG, 0, 77L);
            shm.close();
            shm.close(); // idempotent
            assertThatThrownBy(() -> shm.segment().get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
            assertThat(shm(name)).exists();
            try (SharedMemory again = SharedMemory.attach(name)) {
                assertThat(again.segment().get(JAVA_LONG, 0)).isEqualTo(77L);
            }
        } finally {
            shm.unlink();
        }
        assertThat(shm(name)).doesNotExist();
    }

    @Test
    void closeWhileAThreadIsInIoOnTheSegmentFailsNamingItAndCanBeRetried() throws Exception {
        try (SharedMemory shm = SharedMemory.create(null, 1 << 20)) {
            try {
                try (BusySegment writer = new BusySegment(shm.segment())) {
                    assertThatThrownBy(shm::close)
                            .isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("'" + shm.name() + "'");
                    assertThat(shm.segment().get(JAVA_LONG, 0)).isZero(); // still mapped
                }
                shm.close();
                assertThatThrownBy(shm::segment).isInstanceOf(IllegalStateException.class);
            } finally {
                shm.unlink();
            }
        }
    }

    @Test
    void unlinkRemovesTheNameButKeepsExistingMappingsUsable() throws IOException {
        try (SharedMemory shm = SharedMemory.create(null, 64)) {
            shm.segment().set(JAVA_LONG, 0, 5L);
            shm.unlink();
            assertThat(shm(shm.name())).doesNotExist();
            assertThat(shm.segment().get(JAVA_LONG, 0)).isEqualTo(5L);
            assertThatThrownBy(() -> SharedMemory.attach(shm.name())).isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void attachingAnEmptySegmentFailsClearlyInsteadOfMappingNothing() throws IOException {
        // what attach finds between another process's create and its sizing, or a file made by hand
        String name = uniqueName();
        Files.createFile(shm(name), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            assertThatThrownBy(() -> SharedMemory.attach(name))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("'" + name + "'")
                    .hasMessageContaining("size=0");
            assertThat(shm(name)).exists();
        } finally {
            Files.deleteIfExists(shm(name));
        }
    }

    // ---------------------------------------------------------------- across processes

    @Test
    void childSeesParentsWritesAndParentSeesChildsWrites() throws Exception {
        try (SharedMemory shm = SharedMemory.create(null, 4096)) {
            try {
                shm.segment().set(JAVA_LONG, 0, 41L);
                shm.segment().set(JAVA_LONG, 4000, 1000L);
                String name = shm.name();
                ChildProcess child = ChildProcess.start(() -> SharedMemoryTest.readAndAnswer(name));
                try {
                    joinOk(child);
                } finally {
                    child.close();
                }
                assertThat(shm.segment().get(JAVA_LONG, 8)).isEqualTo(42L);
                assertThat(shm.segment().get(JAVA_LONG, 4008)).isEqualTo(1001L);
            } finally {
                shm.unlink();
            }
        }
    }

    @Test
    void attachWhileAnotherProcessCreatesSeesTheWholeSegmentOrFails() throws Exception {
        // below 512 MiB a fresh JVM reserves the space by writing zeros (no native call to link): ~100 ms here
        long size = 256L << 20;
        String name = uniqueName();
        ChildProcess creator = ChildProcess.start(() -> SharedMemory.create(name, size, false).close());
        try {
            List<Long> sizes = new ArrayList<>();
            boolean creatorDone;
            do {
                creatorDone = !creator.isAlive();
                try (SharedMemory shm = SharedMemory.attach(name)) {
                    sizes.add(shm.size());
                } catch (NoSuchFileException notYet) {
                    // the creator has not made the file yet
                } catch (IOException empty) {
                    assertThat(empty).hasMessageContaining("size=0"); // made, not yet sized
                }
            } while (!creatorDone);
            joinOk(creator);
            assertThat(sizes).as("sizes seen by attach").isNotEmpty().containsOnly(size);
        } finally {
            creator.close();
            Files.deleteIfExists(shm(name));
        }
    }

    /** Runs in a child: answers every long the parent wrote with that long + 1 in the next slot. */
    static void readAndAnswer(String name) {
        try (SharedMemory shm = SharedMemory.attach(name)) {
            MemorySegment s = shm.segment();
            if (shm.size() != 4096) {
                throw new IllegalStateException("size=" + shm.size());
            }
            s.set(JAVA_LONG, 8, s.get(JAVA_LONG, 0) + 1);
            s.set(JAVA_LONG, 4008, s.get(JAVA_LONG, 4000) + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void sizeMustBePositive() {
        for (long size : new long[] {0, -1, Long.MIN_VALUE}) {
            assertThatThrownBy(() -> SharedMemory.create(null, size))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("size=" + size);
            assertThatThrownBy(() -> SharedMemory.create("mpt_never_" + Math.abs(size % 1000), size, false))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("size=" + size);
        }
    }

    @Test
    void namesWithSlashOrNulAreRejectedNamingTheValue() {
        assertThatThrownBy(() -> SharedMemory.create("a/b", 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a/b");
        for (String bad : new String[] {"//lead", "/a/b", "/"}) { // beyond shm_open's one leading '/'
            assertThatThrownBy(() -> SharedMemory.create(bad, 64))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bad);
            assertThatThrownBy(() -> SharedMemory.attach(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bad);
        }
        assertThatThrownBy(() -> SharedMemory.create("nul\0here", 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nul\\0here");
        assertThatThrownBy(() -> SharedMemory.attach("x/y"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x/y");
    }

    @Test
    void emptyNameIsRejected() {
        assertThatThrownBy(() -> SharedMemory.create("", 64))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name=''");
        assertThatThrownBy(() -> SharedMemory.attach(""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name=''");
    }

    @Test
    void namesLongerThan200BytesAreRejectedNamingTheValue() throws IOException {
        String ascii201 = "n" + "x".repeat(200);
        assertThatThrownBy(() -> SharedMemory.create(ascii201, 64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ascii201)
                .hasMessageContaining("201 bytes");
        // 101 two-byte characters: short in chars, too long in bytes
        String utf8202 = "é".repeat(101);
        assertThatThrownBy(() -> SharedMemory.create(utf8202, 64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(utf8202)
                .hasMessageContaining("202 bytes");

        // exactly 200 bytes is allowed
        String name200 = uniqueName() + "_";
        name200 = name200 + "y".repeat(200 - name200.getBytes(StandardCharsets.UTF_8).length);
        assertThat(name200.getBytes(StandardCharsets.UTF_8)).hasSize(200);
        try (SharedMemory shm = SharedMemory.create(name200, 64)) {
            assertThat(shm(name200)).exists();
            shm.unlink();
        }
    }

    @Test
    void creatingAnExistingNameFailsAndLeavesTheSegmentAndItsOwnerIntact() throws IOException {
        String name = uniqueName();
        try (SharedMemory first = SharedMemory.create(name, 64)) {
            try {
                first.segment().set(JAVA_LONG, 0, 123L);
                assertThatThrownBy(() -> SharedMemory.create(name, 64))
                        .isInstanceOf(FileAlreadyExistsException.class);
                assertThatThrownBy(() -> SharedMemory.create(name, 128, false))
                        .isInstanceOf(FileAlreadyExistsException.class);
                assertThat(Files.size(shm(name))).isEqualTo(64);
                assertThat(first.segment().get(JAVA_LONG, 0)).isEqualTo(123L);
                // this process is still recorded as the owner, so the segment stays tracked
                assertThat(info(name).holders()).singleElement()
                        .satisfies(h -> assertThat(h.process().pid()).isEqualTo(ProcessHandle.current().pid()));
            } finally {
                first.unlink();
            }
        }
    }

    @Test
    void attachingAMissingNameFailsWithNoSuchFile() {
        String name = uniqueName();
        assertThatThrownBy(() -> SharedMemory.attach(name))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(name);
    }

    /**
     * A name in /dev/shm that is a symbolic link is refused, as CPython's shm_open refuses it (glibc opens
     * with O_NOFOLLOW: "Too many levels of symbolic links"): attaching must not map, and let this process
     * write, whatever file the link points to.
     */
    @Test
    void attachRefusesASymbolicLinkAndLeavesTheFileItPointsToAlone() throws IOException {
        Path target = Files.createTempFile("multiproc-audit-", ".bin");
        Path link = Path.of("/dev/shm", uniqueName());
        try {
            Files.write(target, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            Files.createSymbolicLink(link, target);
            assertThatThrownBy(() -> {
                try (SharedMemory shm = SharedMemory.attach(link.getFileName().toString())) {
                    shm.segment().set(JAVA_BYTE, 0, (byte) 99);
                }
            }).isInstanceOf(IOException.class).hasMessageContaining(link.getFileName().toString())
                    .hasMessageContaining("symbolic link");
            assertThat(Files.readAllBytes(target)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        } finally {
            Files.deleteIfExists(link);
            Files.deleteIfExists(target);
        }
    }

    @Test
    void unlinkingTwiceFailsWithNoSuchFile() throws IOException {
        try (SharedMemory shm = SharedMemory.create(null, 64)) {
            shm.unlink();
            assertThatThrownBy(shm::unlink)
                    .isInstanceOf(NoSuchFileException.class)
                    .hasMessageContaining(shm.name());
        }
    }

    /**
     * Another program removed this segment and made a new one under its name (CPython 3.11's resource
     * tracker unlinks a segment that a Python process only attached, then anyone may create the name
     * again): this segment is already unlinked, so {@code unlink()} says so and leaves the other
     * program's segment alone, whether this process created it (tracked or not) or attached it.
     */
    @Test
    void unlinkLeavesAnotherProgramsNewSegmentOfTheSameName() throws Exception {
        for (String how : new String[] {"tracked", "untracked", "attached"}) {
            String name = uniqueName();
            SharedMemory creator = SharedMemory.create(name, 64, !how.equals("untracked"));
            SharedMemory mine = how.equals("attached") ? SharedMemory.attach(name) : creator;
            try {
                ChildProcess other = ChildProcess.start(() -> SharedMemoryTest.unlinkAndCreateAgain(name));
                try {
                    joinOk(other);
                } finally {
                    other.close();
                }
                assertThat(Files.size(shm(name))).as("the other program's segment").isEqualTo(99);
                assertThatThrownBy(mine::unlink).as(how)
                        .isInstanceOf(NoSuchFileException.class)
                        .hasMessageContaining("'" + name + "'")
                        .hasMessageContaining("already unlinked");
                assertThat(shm(name)).as("%s: the other program's segment of that name", how).exists();
                assertThat(Files.size(shm(name))).isEqualTo(99);
            } finally {
                mine.close();
                creator.close();
                Files.deleteIfExists(shm(name));
            }
        }
    }

    /** Runs in a child: removes the segment, as CPython's tracker would, and makes a new one of that name. */
    static void unlinkAndCreateAgain(String name) {
        try {
            try (SharedMemory attached = SharedMemory.attach(name)) {
                attached.unlink();
            }
            SharedMemory.create(name, 99, false).close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void sizeBeyondFreeSpaceFailsAtCreateAndLeavesNoFile() throws IOException {
        long huge = 1L << 40;
        assertThat(Files.getFileStore(Path.of("/dev/shm")).getUsableSpace()).isLessThan(huge);
        String name = uniqueName();
        for (boolean track : new boolean[] {true, false}) {
            assertThatThrownBy(() -> SharedMemory.create(name, huge, track))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(Long.toString(huge));
            assertThat(shm(name)).doesNotExist();
            assertThat(registryRecords(name)).isEmpty();
        }
        // the failure freed the name
        try (SharedMemory shm = SharedMemory.create(name, 64)) {
            shm.unlink();
        }
    }

    /**
     * In a container /dev/shm is a 64 MiB tmpfs unless the runtime is told otherwise: the message names
     * /dev/shm's size and the fix outside the program, not only its free bytes.
     * (With a real 64 MiB /dev/shm: src/test/resources/deploy/small-dev-shm.sh.)
     */
    @Test
    void aFullDevShmSaysItsSizeAndHowToGetMore() throws IOException {
        long total = Files.getFileStore(Path.of("/dev/shm")).getTotalSpace();
        long huge = Math.max(total, 1L << 40) + (1L << 30);
        assertThatThrownBy(() -> SharedMemory.create(null, huge))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("size=" + huge)
                .hasMessageContaining("bytes free of " + total + " (" + (total >> 20) + " MiB)")
                .hasMessageContaining("--shm-size")
                .hasMessageContaining("multiproc clean");
    }

    /**
     * A page the segment's file no longer backs (another program truncated it; or a segment CPython made,
     * which only ftruncate sizes, touched when /dev/shm is full) raises SIGBUS in the process that touches
     * it: CPython dies of it; here the access throws the JDK's InternalError and the JVM goes on.
     */
    @Test
    void touchingAPageTheFileNoLongerBacksThrowsInsteadOfKillingTheJvm() throws IOException {
        try (SharedMemory shm = SharedMemory.create(null, 8192)) {
            try {
                shm.segment().set(JAVA_LONG, 4096, 1L);
                try (var ch = java.nio.channels.FileChannel.open(shm(shm.name()), java.nio.file.StandardOpenOption.WRITE)) {
                    ch.truncate(100); // what another program's ftruncate does to the file under the mapping
                }
                assertThatThrownBy(() -> shm.segment().get(JAVA_LONG, 4096))
                        .isInstanceOf(InternalError.class)
                        .hasMessageContaining("fault occurred in an unsafe memory access");
                assertThat(shm.segment().get(JAVA_LONG, 0)).isZero(); // the first page is still the file's
            } finally {
                shm.unlink();
            }
        }
    }

    // ---------------------------------------------------------------- CPython interop

    private static final String PY_ATTACH_READ_WRITE = """
            import sys
            from multiprocessing import shared_memory, resource_tracker
            shm = shared_memory.SharedMemory(name=sys.argv[1])
            resource_tracker.unregister(shm._name, "shared_memory")
            print(shm.size, bytes(shm.buf[0:5]).hex())
            shm.buf[5:10] = b"world"
            shm.close()
            """;

    private static final String PY_CREATE_WRITE = """
            import sys
            from multiprocessing import shared_memory, resource_tracker
            shm = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=int(sys.argv[2]))
            resource_tracker.unregister(shm._name, "shared_memory")
            shm.buf[0:4] = b"py!!"
            shm.close()
            print("created")
            """;

    private static final String PY_ATTACH_READ = """
            import sys
            from multiprocessing import shared_memory, resource_tracker
            shm = shared_memory.SharedMemory(name=sys.argv[1])
            resource_tracker.unregister(shm._name, "shared_memory")
            print(shm.size, bytes(shm.buf[0:8]).decode("ascii"))
            shm.close()
            """;

    @Test
    void pythonReadsWhatJavaWroteAndJavaSeesWhatPythonWrote() throws Exception {
        assumePython();
        try (SharedMemory shm = SharedMemory.create(null, 64)) {
            try {
                MemorySegment.copy("hello".getBytes(StandardCharsets.US_ASCII), 0, shm.segment(), JAVA_BYTE, 0, 5);
                String out = python(PY_ATTACH_READ_WRITE, shm.name());
                assertThat(out).isEqualTo("64 " + HexFormat.of().formatHex("hello".getBytes(StandardCharsets.US_ASCII)));
                byte[] seen = shm.segment().asSlice(5, 5).toArray(JAVA_BYTE);
                assertThat(new String(seen, StandardCharsets.US_ASCII)).isEqualTo("world");
                assertThat(shm(shm.name())).as("Python's exit must not unlink a segment it only attached").exists();
            } finally {
                shm.unlink();
            }
        }
    }

    @Test
    void javaAttachesToASegmentPythonCreated() throws Exception {
        assumePython();
        String name = uniqueName();
        try {
            assertThat(python(PY_CREATE_WRITE, name, "100")).isEqualTo("created");
            try (SharedMemory shm = SharedMemory.attach(name)) {
                assertThat(shm.size()).isEqualTo(100);
                assertThat(new String(shm.segment().asSlice(0, 4).toArray(JAVA_BYTE), StandardCharsets.US_ASCII))
                        .isEqualTo("py!!");
                MemorySegment.copy("java".getBytes(StandardCharsets.US_ASCII), 0, shm.segment(), JAVA_BYTE, 4, 4);
                assertThat(python(PY_ATTACH_READ, name)).isEqualTo("100 py!!java");
                shm.unlink();
            }
            assertThat(shm(name)).doesNotExist();
        } finally {
            Files.deleteIfExists(shm(name));
        }
    }

    /**
     * "/name", shm_open's form, which CPython's SharedMemory(name="/name", create=True) and attach("/name")
     * take, names the segment "name" in create too: Python attaching either form sees what Java wrote.
     */
    @Test
    void createTakesTheLeadingSlashFormAsAttachAndPythonDo() throws Exception {
        assumePython();
        String name = uniqueName();
        try (SharedMemory shm = SharedMemory.create("/" + name, 64)) {
            try {
                assertThat(shm.name()).isEqualTo(name);
                assertThat(shm(name)).exists();
                assertThatThrownBy(() -> SharedMemory.create(name, 64)).isInstanceOf(FileAlreadyExistsException.class);
                MemorySegment.copy("hello".getBytes(StandardCharsets.US_ASCII), 0, shm.segment(), JAVA_BYTE, 0, 5);
                assertThat(python(PY_ATTACH_READ_WRITE, "/" + name))
                        .isEqualTo("64 " + HexFormat.of().formatHex("hello".getBytes(StandardCharsets.US_ASCII)));
                try (SharedMemory bare = SharedMemory.attach(name)) {
                    assertThat(new String(bare.segment().asSlice(5, 5).toArray(JAVA_BYTE), StandardCharsets.US_ASCII))
                            .isEqualTo("world");
                }
            } finally {
                shm.unlink();
            }
        }
        assertThat(shm(name)).doesNotExist();
    }

    @Test
    void javaAttachesAndUnlinksSegmentsPythonMadeWithNamesUpTo255Bytes() throws Exception {
        assumePython();
        for (int length : new int[] {201, 220, 255}) {
            String name = uniqueName() + "_";
            name = name + "l".repeat(length - name.length());
            try {
                assertThat(python(PY_CREATE_WRITE, name, "100")).isEqualTo("created");
                try (SharedMemory shm = SharedMemory.attach(name)) {
                    assertThat(shm.size()).isEqualTo(100);
                    assertThat(new String(shm.segment().asSlice(0, 4).toArray(JAVA_BYTE), StandardCharsets.US_ASCII))
                            .isEqualTo("py!!");
                    shm.unlink();
                    assertThatThrownBy(shm::unlink).isInstanceOf(NoSuchFileException.class).hasMessageContaining(name);
                }
                assertThat(shm(name)).doesNotExist();
                String missing = name;
                assertThatThrownBy(() -> SharedMemory.attach(missing)).isInstanceOf(NoSuchFileException.class);
            } finally {
                Files.deleteIfExists(shm(name));
            }
        }
        String name256 = "n".repeat(256);
        assertThatThrownBy(() -> SharedMemory.attach(name256))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("256 bytes").hasMessageContaining("255");
    }

    private static final String PY_ATTACH_AND_EXIT = """
            import sys
            from multiprocessing import shared_memory
            shm = shared_memory.SharedMemory(name=sys.argv[1])   # 3.11's tracker unlinks it at exit
            shm.close()
            print("attached")
            """;

    @Test
    void aSegmentPythonsTrackerUnlinkedAndPythonMadeAgainIsNotJavasToUnlink() throws Exception {
        assumePython();
        String name = uniqueName();
        try (SharedMemory shm = SharedMemory.create(name, 64)) {
            assertThat(python(PY_ATTACH_AND_EXIT, name)).contains("attached"); // and the tracker's leak warning
            io.multiproc.testing.Children.awaitUntil("Python's resource tracker unlinked " + name,
                    () -> !Files.exists(shm(name)));
            assertThat(python(PY_CREATE_WRITE, name, "100")).isEqualTo("created");
            assertThatThrownBy(shm::unlink).isInstanceOf(NoSuchFileException.class).hasMessageContaining(name);
            assertThat(Files.size(shm(name))).as("Python's new segment").isEqualTo(100);
        } finally {
            Files.deleteIfExists(shm(name));
        }
    }

    private static void assumePython() {
        Python3.assumePresent();
    }

    private static String python(String script, String... args) throws IOException, InterruptedException {
        return Python3.run(script, args);
    }

    // ---------------------------------------------------------------- helpers

    private static String uniqueName() {
        return TestShmNames.unique("shm");
    }

    private static Path shm(String name) {
        return Path.of("/dev/shm", name);
    }

    private static SegmentRegistry.SegmentInfo info(String name) throws IOException {
        return SegmentRegistry.list().stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no segment " + name + " in SegmentRegistry.list()"));
    }

    private static List<String> registryRecords(String name) throws IOException {
        try (var files = Files.list(SegmentRegistry.dir())) {
            return files.map(p -> p.getFileName().toString()).filter(f -> f.startsWith(name + "@")).toList();
        }
    }

}
