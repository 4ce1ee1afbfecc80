package io.multiproc.shm;

import io.multiproc.process.ChildProcess;
import io.multiproc.process.SerializableTask;
import io.multiproc.testing.Children;
import io.multiproc.testing.Python3;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A writer that dies while it changes a slot's type (between storing the slot's format and its code)
 * leaves a slot that CPython reads without raising and that Java reads alike or reports, and the next
 * Java write of the slot repairs it for both languages.
 */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListCrashTest {
    private static final String PY_READ_ALL = """
            import sys
            from multiprocessing import resource_tracker
            from multiprocessing.shared_memory import ShareableList
            sl = ShareableList(name=sys.argv[1])
            # Python 3.11's tracker would unlink a segment this process only attached, at its exit
            resource_tracker.unregister(sl.shm._name, "shared_memory")
            for i in range(len(sl)):
                try:
                    print(repr(sl[i]))
                except Exception as e:
                    print("raised " + type(e).__name__)
            """;

    /** Old item, new item: every change of type a set() makes (none of them to or from byte[]). */
    private static final List<List<Object>> CHANGES = List.of(
            Arrays.asList("abc", 5L), Arrays.asList(null, 5L), Arrays.asList(5L, null), Arrays.asList("abc", null),
            Arrays.asList("abc", true), Arrays.asList(null, true), Arrays.asList(true, null), Arrays.asList(5L, "xy"),
            Arrays.asList(null, "xy"), Arrays.asList(true, "xy"), Arrays.asList("abc", 2.5), Arrays.asList(2.5, null),
            Arrays.asList(true, 5L), Arrays.asList(5L, true));

    @BeforeEach
    void needsPython() {
        Python3.assumePresent();
    }

    @Test
    void writerKilledWhileTurningAStringIntoALongLeavesASlotBothLanguagesReadAndSetRepairs() throws Exception {
        try (ShareableList sl = ShareableList.create(null, List.of("abc")); ShareableList stage = ShareableList.create(null, List.of(0L))) {
            try {
                ChildProcess writer = startHooked(() -> {
                    FaultInjection.hook = p -> {
                        stage.setLong(0, 1);
                        sleepForever();
                    };
                    sl.setLong(0, 5);
                });
                try {
                    Children.awaitUntil("the writer stops between format and code", () -> stage.getLong(0) == 1);
                    writer.kill();
                    assertThat(writer.join(Children.TIMEOUT)).isTrue();
                } finally {
                    writer.close();
                }
                String python = readAll(sl).getFirst();
                assertThat(python).doesNotStartWith("raised");
                assertJavaReadsAsPythonOrReports(sl, 0, python);
                sl.setLong(0, 5);
                assertThat(readAll(sl)).containsExactly("5");
                assertThat(sl.get(0)).isEqualTo(5L);
            } finally {
                sl.unlink();
                stage.unlink();
            }
        }
    }

    @Test
    void everyTypeChangeCutBetweenFormatAndCodeLeavesASlotBothLanguagesRead() throws Exception {
        List<Object> olds = new ArrayList<>();
        for (List<Object> change : CHANGES) {
            olds.add(change.get(0));
        }
        try (ShareableList sl = ShareableList.create(null, olds)) {
            try {
                ChildProcess writer = startHooked(() -> {
                    // the writer "dies" at the hook: the exception leaves the slot as a kill there would
                    FaultInjection.hook = p -> {
                        throw new CutShort();
                    };
                    for (int i = 0; i < CHANGES.size(); i++) {
                        try {
                            sl.set(i, CHANGES.get(i).get(1));
                        } catch (CutShort expected) {
                            // next slot
                        }
                    }
                });
                try {
                    Children.joinOk(writer);
                } finally {
                    writer.close();
                }
                List<String> python = readAll(sl);
                for (int i = 0; i < CHANGES.size(); i++) {
                    assertThat(python.get(i)).as("CPython reads slot %d cut short changing %s", i, CHANGES.get(i))
                            .doesNotStartWith("raised");
                    assertJavaReadsAsPythonOrReports(sl, i, python.get(i));
                }
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < CHANGES.size(); i++) {
                    sl.set(i, CHANGES.get(i).get(1));
                    expected.add(pythonRepr(CHANGES.get(i).get(1)));
                }
                assertThat(readAll(sl)).containsExactlyElementsOf(expected);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void slotACPythonWriterLeftWithANumberFormatAndAStringCodeIsRepairedByEveryLongWrite() throws Exception {
        // CPython's __setitem__ stores the format, then the code: killed between them turning "abc" into
        // 5 it leaves format "q" with code 1, which CPython itself then fails to read
        try (ShareableList sl = ShareableList.create(null, List.of("abc", "abc", "abc", "abc"))) {
            try {
                for (int i = 0; i < 4; i++) {
                    sl.setLong(i, 5);
                    sl.shm().segment().set(JAVA_BYTE, sl.shm().size() - 4 + i, ShareableListLayout.CODE_STRING);
                }
                assertThat(readAll(sl)).containsOnly("raised AttributeError");
                sl.setLong(0, 7);
                sl.set(1, 7L);
                sl.setLongs(2, new long[] {7, 7});
                assertThat(readAll(sl)).containsExactly("7", "7", "7", "7");
                // and the same for a double slot
                sl.setDouble(0, 0.5);
                sl.shm().segment().set(JAVA_BYTE, sl.shm().size() - 4, ShareableListLayout.CODE_STRING);
                assertThat(readAll(sl).getFirst()).isEqualTo("raised AttributeError");
                sl.set(0, 1.5);
                assertThat(readAll(sl).getFirst()).isEqualTo("1.5");
            } finally {
                sl.unlink();
            }
        }
    }

    /** Java's get() reads what CPython printed, or throws the IllegalStateException that names the slot. */
    private static void assertJavaReadsAsPythonOrReports(ShareableList sl, int index, String python) {
        Object java;
        try {
            java = sl.get(index);
        } catch (IllegalStateException e) {
            assertThat(e).hasMessageContaining("slot " + index + " ").hasMessageContaining("inconsistent");
            assertThatThrownBy(() -> sl.getLong(index)).isInstanceOf(ClassCastException.class);
            return;
        }
        assertThat(pythonRepr(java)).as("Java reads slot %d as CPython does", index).isEqualTo(python);
    }

    private static String pythonRepr(Object v) {
        return switch (v) {
            case null -> "None";
            case Boolean b -> b ? "True" : "False";
            case String s -> "'" + s + "'";
            default -> v.toString();
        };
    }

    private static List<String> readAll(ShareableList sl) throws IOException, InterruptedException {
        return List.of(Python3.run(PY_READ_ALL, sl.name()).split("\n"));
    }

    private static ChildProcess startHooked(SerializableTask target) {
        return ChildProcess.builder().jvmOptions(List.of(FaultInjection.JVM_OPTION)).target(target).start();
    }

    private static void sleepForever() {
        try {
            Thread.sleep(600_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Thrown by the hook to stop a write between its format and its code. */
    private static final class CutShort extends RuntimeException {
        CutShort() {
            super("cut short between format and code", null, false, false);
        }
    }
}
