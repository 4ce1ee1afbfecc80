package io.multiproc.shm;

import io.multiproc.testing.TestShmNames;
import io.multiproc.testing.Python3;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * ShareableList against the real CPython on this machine, both directions, every item type: a list Java
 * creates is byte for byte the one CPython creates; each side reads what the other wrote, including
 * type changes of slots.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListPythonTest {
    /** The same items on both sides (ASCII strings: CPython sizes non-ASCII str slots differently). */
    private static final String PY_ITEMS = "[42, -7, -9223372036854775808, 2.5, -0.0, True, False, None, 'abc', '', '12345678', b'\\x01\\x02\\x03', b'']";
    private static final List<Object> JAVA_ITEMS = Arrays.asList(42L, -7L, Long.MIN_VALUE, 2.5, -0.0, true, false, null,
            "abc", "", "12345678", new byte[] {1, 2, 3}, new byte[0]);

    private static final String PY_PRELUDE = """
            import sys
            from multiprocessing import resource_tracker
            from multiprocessing.shared_memory import ShareableList
            def attach(name):
                sl = ShareableList(name=name)
                # Python 3.11's tracker would unlink a segment this process only attached, at its exit
                resource_tracker.unregister(sl.shm._name, "shared_memory")
                return sl
            """;

    @BeforeEach
    void needsPython() {
        Python3.assumePresent();
    }

    @Test
    void listJavaCreatesIsByteForByteTheListCPythonCreates() throws Exception {
        String pyHex = Python3.run(PY_PRELUDE + """
                sl = ShareableList(%s)
                print(bytes(sl.shm.buf).hex())
                sl.shm.close()
                sl.shm.unlink()
                """.formatted(PY_ITEMS));
        try (ShareableList sl = ShareableList.create(null, JAVA_ITEMS)) {
            try {
                String javaHex = HexFormat.of().formatHex(sl.shm().segment().toArray(JAVA_BYTE));
                assertThat(javaHex).isEqualTo(pyHex);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void pythonReadsEveryItemTypeJavaWroteAndJavaReadsPythonsWrites() throws Exception {
        List<Object> items = new java.util.ArrayList<>(JAVA_ITEMS);
        items.set(9, "héllo €"); // 9 UTF-8 bytes: a 16-byte slot
        try (ShareableList sl = ShareableList.create(null, items)) {
            try {
                sl.set(12, 3L); // a long into a bytes slot, before Python looks
                String out = Python3.run(PY_PRELUDE + """
                        sl = attach(sys.argv[1])
                        print(repr(list(sl)))
                        print(sl.format)
                        sl[0] = 'py'        # str into an int slot
                        sl[3] = 7           # int into a float slot
                        sl[5] = b'zz'       # bytes into a bool slot
                        sl[7] = 1.5         # float into a None slot
                        sl[8] = None        # None into a str slot
                        sl[9] = 'ü' * 8     # 16 UTF-8 bytes: the slot is full
                        sl[10] = False      # bool into a str slot
                        sl[11] = -1         # int into a bytes slot
                        sl.shm.close()
                        """, sl.name());
                assertThat(out.lines().toList()).containsExactly(
                        "[42, -7, -9223372036854775808, 2.5, -0.0, True, False, None, 'abc', 'héllo €', '12345678', b'\\x01\\x02\\x03', 3]",
                        "qqqddxxxxxxx?xxxxxxx?xxxxxx?x8s16s16s8sq");
                assertThat(sl.subList(0, 5)).containsExactly("py", -7L, Long.MIN_VALUE, 7L, -0.0);
                assertThat((byte[]) sl.get(5)).containsExactly('z', 'z');
                assertThat(sl.subList(6, 11)).containsExactly(false, 1.5, null, "ü".repeat(8), false);
                assertThat(sl.get(11)).isEqualTo(-1L);
                assertThat(sl.format()).isEqualTo("8sqqqd8sxxxxxxx?dxxxxxx?x16sxxxxxxx?qq");
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void javaReadsAndWritesEveryItemTypeOfAListPythonCreated() throws Exception {
        String name = uniqueName();
        try {
            assertThat(Python3.run(PY_PRELUDE + """
                    sl = ShareableList(%s, name=sys.argv[1])
                    resource_tracker.unregister(sl.shm._name, "shared_memory")  # Java unlinks it
                    sl.shm.close()
                    print("created")
                    """.formatted(PY_ITEMS), name)).isEqualTo("created");
            try (ShareableList sl = ShareableList.attach(name)) {
                assertThat(sl).hasSize(13);
                assertThat(sl.subList(0, 11)).containsExactlyElementsOf(JAVA_ITEMS.subList(0, 11));
                assertThat((byte[]) sl.get(11)).containsExactly(1, 2, 3);
                assertThat((byte[]) sl.get(12)).isEmpty();
                assertThat(sl.format()).isEqualTo("qqqddxxxxxxx?xxxxxxx?xxxxxx?x8s8s16s8s8s");

                sl.set(0, "java");            // String into a long slot
                sl.setLong(1, sl.getLong(1) * 3);
                sl.set(3, true);              // boolean into a double slot
                sl.set(5, 0.125);             // double into a boolean slot
                sl.set(7, new byte[] {5, 6}); // byte[] into a null slot
                sl.set(8, 99L);               // long into a String slot
                sl.set(9, null);              // null into a String slot
                sl.set(10, "x".repeat(16));   // fills its 16-byte slot
                sl.set(11, "é");              // String into a byte[] slot
                sl.setDouble(12, -2.5);       // double into a byte[] slot
                String out = Python3.run(PY_PRELUDE + """
                        sl = attach(sys.argv[1])
                        print(repr(list(sl)))
                        print(sl.format)
                        sl.shm.close()
                        """, name);
                assertThat(out.lines().toList()).containsExactly(
                        "['java', -21, -9223372036854775808, True, -0.0, 0.125, False, b'\\x05\\x06', 99, None, '"
                                + "x".repeat(16) + "', 'é', -2.5]",
                        "8sqqxxxxxxx?ddxxxxxxx?8sqxxxxxx?x16s8sd");
                sl.unlink();
            }
        } finally {
            Files.deleteIfExists(Path.of("/dev/shm", name));
        }
    }

    @Test
    void javaReadsValuesPythonStoredWithTrailingNulsAsPythonReadsThem() throws Exception {
        String name = uniqueName();
        try {
            String out = Python3.run(PY_PRELUDE + """
                    sl = ShareableList([b'ab\\x00', 'x\\x00\\x00', b'\\x00'], name=sys.argv[1])
                    resource_tracker.unregister(sl.shm._name, "shared_memory")
                    print(repr(list(sl)))
                    sl.shm.close()
                    """, name);
            assertThat(out).isEqualTo("[b'ab', 'x', b'']");
            try (ShareableList sl = ShareableList.attach(name)) {
                assertThat((byte[]) sl.get(0)).containsExactly('a', 'b');
                assertThat(sl.get(1)).isEqualTo("x");
                assertThat((byte[]) sl.get(2)).isEmpty();
                sl.unlink();
            }
        } finally {
            Files.deleteIfExists(Path.of("/dev/shm", name));
        }
    }

    @Test
    void pythonReadsANonAsciiStringJavaSizedByItsBytes() throws Exception {
        // CPython 3.11 itself would give "€€€€€€€€" a 16-byte slot (8 characters) and fail to read it back.
        try (ShareableList sl = ShareableList.create(null, List.of("€".repeat(8)))) {
            try {
                String out = Python3.run(PY_PRELUDE + """
                        sl = attach(sys.argv[1])
                        print(sl[0] == '€' * 8, sl.format)
                        sl.shm.close()
                        """, sl.name());
                assertThat(out).isEqualTo("True 32s");
            } finally {
                sl.unlink();
            }
        }
    }

    private static String uniqueName() {
        return TestShmNames.unique("slpy");
    }
}
