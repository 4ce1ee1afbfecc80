package io.multiproc.shm;

import io.multiproc.testing.TestShmNames;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** ShareableList within one JVM: items, type changes, bad input, bulk paths, lifetime. */
@ExtendWith(ReapChildrenCheckShm.class)
class ShareableListTest {
    private static final byte[] BYTES = {1, 2, 3};

    private static List<Object> everyType() {
        return Arrays.asList(42L, -7L, Long.MIN_VALUE, 2.5, -0.0, true, false, null, "abc", "", "héllo €", BYTES, new byte[0]);
    }

    // ---------------------------------------------------------------- items

    @Test
    void createdListReturnsEveryItemTypeItWasGiven() throws IOException {
        try (ShareableList sl = ShareableList.create(null, everyType())) {
            try {
                assertThat(sl.name()).matches("psm_[0-9a-f]{8}");
                assertThat(sl).hasSize(13);
                assertThat(sl.subList(0, 11)).containsExactlyElementsOf(everyType().subList(0, 11));
                assertThat((byte[]) sl.get(11)).containsExactly(BYTES);
                assertThat((byte[]) sl.get(12)).isEmpty();
                assertThat(sl.get(0)).isInstanceOf(Long.class);
                assertThat(sl.get(3)).isInstanceOf(Double.class);
                assertThat(sl.get(5)).isInstanceOf(Boolean.class);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void smallerIntegersAreStoredAsLongsAndFloatsAsDoubles() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1, (short) 2, (byte) 3, 1.5f))) {
            try {
                assertThat(sl).containsExactly(1L, 2L, 3L, 1.5);
                assertThat(sl.format()).isEqualTo("qqqd");
                sl.set(0, 9);
                assertThat(sl.get(0)).isEqualTo(9L);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void formatsAreCPythonsStructFormats() throws IOException {
        try (ShareableList sl = ShareableList.create(null, Arrays.asList(1L, 1.0, true, null, "abc", "12345678", BYTES))) {
            try {
                assertThat(List.of(sl.format(0), sl.format(1), sl.format(2), sl.format(3), sl.format(4), sl.format(5), sl.format(6)))
                        .containsExactly("q", "d", "xxxxxxx?", "xxxxxx?x", "8s", "16s", "8s");
                assertThat(sl.format()).isEqualTo("qdxxxxxxx?xxxxxx?x8s16s8s");
                assertThat(sl.capacity(0)).isEqualTo(8);
                assertThat(sl.capacity(5)).isEqualTo(16);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void nonAsciiStringsGetSlotsSizedByTheirUtf8Bytes() throws IOException {
        String euros = "€".repeat(8); // 8 characters, 24 UTF-8 bytes
        try (ShareableList sl = ShareableList.create(null, List.of(euros))) {
            try {
                assertThat(sl.capacity(0)).isEqualTo(32);
                assertThat(sl.get(0)).isEqualTo(euros);
                sl.set(0, "€".repeat(10)); // 30 bytes
                assertThat(sl.get(0)).isEqualTo("€".repeat(10));
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void emptyListIsSixteenBytesAndHasNoItems() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of())) {
            try {
                assertThat(sl).isEmpty();
                assertThat(sl.shm().size()).isEqualTo(16);
                assertThat(sl.format()).isEmpty();
                try (ShareableList again = ShareableList.attach(sl.name())) {
                    assertThat(again).isEmpty();
                }
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void attachedListSharesTheItemsBothWays() throws IOException {
        String name = uniqueName();
        try (ShareableList created = ShareableList.create(name, everyType())) {
            try (ShareableList attached = ShareableList.attach(name)) {
                assertThat(attached.name()).isEqualTo(name);
                assertThat(attached.subList(0, 11)).containsExactlyElementsOf(everyType().subList(0, 11));
                attached.set(0, "now str");
                created.set(8, 3.25);
                assertThat(created.get(0)).isEqualTo("now str");
                assertThat(attached.get(8)).isEqualTo(3.25);
            } finally {
                created.unlink();
            }
        }
    }

    // ---------------------------------------------------------------- set: type changes and capacity

    @Test
    void setChangesTheSlotsTypeWhenTheValueFits() throws IOException {
        try (ShareableList sl = ShareableList.create(null, Arrays.asList(1L, "abcdefghij", null, 2.0))) {
            try {
                assertThat(sl.set(0, "12345678")).isEqualTo(1L); // a number's slot takes 8 bytes
                assertThat(sl.format(0)).isEqualTo("8s");
                assertThat(sl.set(1, 7L)).isEqualTo("abcdefghij");
                assertThat(sl.format(1)).isEqualTo("q");
                assertThat(sl.set(1, "x".repeat(16))).isEqualTo(7L); // the 16-byte slot stays 16 bytes
                assertThat(sl.format(1)).isEqualTo("16s");
                assertThat(sl.set(2, true)).isNull();
                assertThat(sl.set(3, new byte[] {9})).isEqualTo(2.0);
                assertThat(sl.set(0, null)).isEqualTo("12345678");
                assertThat(sl.get(0)).isNull();
                assertThat(sl.subList(1, 3)).containsExactly("x".repeat(16), true);
                assertThat((byte[]) sl.get(3)).containsExactly(9);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void stringTooLongForItsSlotThrowsNamingTheCapacityAndKeepsTheOldValue() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(5L, "abc"))) {
            try {
                assertThatThrownBy(() -> sl.set(0, "123456789"))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("capacity=8").hasMessageContaining("slot 0").hasMessageContaining("'123456789'");
                assertThatThrownBy(() -> sl.set(1, "123456789".getBytes(StandardCharsets.US_ASCII)))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("capacity=8").hasMessageContaining("byte[9]");
                assertThat(sl).containsExactly(5L, "abc");
                assertThat(sl.format()).isEqualTo("q8s");
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void unsupportedTypesThrowNamingTheClassAndChangeNothing() throws IOException {
        assertThatThrownBy(() -> ShareableList.create(null, List.of(1L, BigInteger.TEN)))
                .isInstanceOf(ClassCastException.class).hasMessageContaining("java.math.BigInteger");
        try (ShareableList sl = ShareableList.create(null, List.of(5L))) {
            try {
                assertThatThrownBy(() -> sl.set(0, 'c'))
                        .isInstanceOf(ClassCastException.class).hasMessageContaining("java.lang.Character");
                assertThatThrownBy(() -> sl.set(0, new ArrayList<>()))
                        .isInstanceOf(ClassCastException.class).hasMessageContaining("java.util.ArrayList");
                assertThat(sl).containsExactly(5L);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void valuesEndingInNulAreRefusedBecauseCPythonWouldStripThem() throws IOException {
        assertThatThrownBy(() -> ShareableList.create(null, List.of("ok", "a\0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("item 1").hasMessageContaining("'a\\0'")
                .hasMessageContaining("trailing NUL");
        try (ShareableList sl = ShareableList.create(null, List.of("abc", new byte[] {1}))) {
            try {
                assertThatThrownBy(() -> sl.set(1, new byte[] {1, 0}))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("byte[2]");
                sl.set(0, "a\0b"); // a NUL inside is kept
                assertThat(sl.get(0)).isEqualTo("a\0b");
                assertThat((byte[]) sl.get(1)).containsExactly(1);
            } finally {
                sl.unlink();
            }
        }
    }

    /** Java's UTF-8 encoder writes '?' for an unpaired surrogate; CPython refuses such a string. */
    @Test
    void stringsThatAreNotValidUnicodeAreRefusedNamingTheItemInsteadOfStoredAsQuestionMarks() throws IOException {
        assertThatThrownBy(() -> ShareableList.create(null, List.of("ok", "a\uD800")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("item 1").hasMessageContaining("surrogate");
        try (ShareableList sl = ShareableList.create(null, List.of("abcdef"))) {
            try {
                assertThatThrownBy(() -> sl.set(0, "x\uDC00y")).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("item 0");
                assertThat(sl.get(0)).isEqualTo("abcdef");
                sl.set(0, "\uD83D\uDE00"); // a valid pair: one code point, four UTF-8 bytes
                assertThat(sl.get(0)).isEqualTo("\uD83D\uDE00");
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void stringsLongerThanCPythonsFormatAllowsAreRefusedAtCreate() throws IOException {
        String longest = "a".repeat(ShareableListLayout.MAX_STRING_BYTES);
        try (ShareableList sl = ShareableList.create(null, List.of(longest))) {
            try {
                assertThat(sl.format(0)).isEqualTo("9999992s");
                assertThat(sl.get(0)).isEqualTo(longest);
            } finally {
                sl.unlink();
            }
        }
        assertThatThrownBy(() -> ShareableList.create(null, List.of(longest + "a")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("9999992 bytes")
                .hasMessageContaining(Integer.toString(ShareableListLayout.MAX_STRING_BYTES));
    }

    @Test
    void indexesOutsideTheListThrowNamingTheIndex() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, 2L))) {
            try {
                for (int bad : new int[] {-1, 2, Integer.MAX_VALUE}) {
                    assertThatThrownBy(() -> sl.get(bad)).isInstanceOf(IndexOutOfBoundsException.class)
                            .hasMessageContaining("index=" + bad).hasMessageContaining("size=2");
                    assertThatThrownBy(() -> sl.set(bad, 1L)).isInstanceOf(IndexOutOfBoundsException.class)
                            .hasMessageContaining("index=" + bad);
                    assertThatThrownBy(() -> sl.getLong(bad)).hasMessageContaining("index=" + bad);
                    assertThatThrownBy(() -> sl.setDouble(bad, 1)).hasMessageContaining("index=" + bad);
                    assertThatThrownBy(() -> sl.format(bad)).hasMessageContaining("index=" + bad);
                }
                assertThatThrownBy(() -> sl.getLongs(1, new long[2])).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("from=1 count=2");
                assertThatThrownBy(() -> sl.setLongs(-1, new long[1])).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("from=-1");
                assertThat(sl).containsExactly(1L, 2L);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void lengthIsFixed() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, 2L))) {
            try {
                assertThatThrownBy(() -> sl.add(3L)).isInstanceOf(UnsupportedOperationException.class);
                assertThatThrownBy(() -> sl.remove(0)).isInstanceOf(UnsupportedOperationException.class);
                assertThatThrownBy(sl::clear).isInstanceOf(UnsupportedOperationException.class);
                assertThat(sl).containsExactly(1L, 2L);
            } finally {
                sl.unlink();
            }
        }
    }

    // ---------------------------------------------------------------- unboxed and bulk

    @Test
    void unboxedAccessorsReadAndWriteTheirTypeAndRefuseOthers() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, 2.0, "abc"))) {
            try {
                sl.setLong(0, sl.getLong(0) * 10);
                sl.setDouble(1, sl.getDouble(1) * 10);
                assertThat(sl.subList(0, 2)).containsExactly(10L, 20.0);
                assertThatThrownBy(() -> sl.getLong(1)).isInstanceOf(ClassCastException.class)
                        .hasMessageContaining("slot 1").hasMessageContaining("holds a double, not a long");
                assertThatThrownBy(() -> sl.getDouble(2)).isInstanceOf(ClassCastException.class)
                        .hasMessageContaining("holds a String, not a double");
                sl.setLong(2, 5); // any slot takes a number
                assertThat(sl.getLong(2)).isEqualTo(5L);
                assertThat(sl.format(2)).isEqualTo("q");
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void bulkLongsAndDoublesCopyRunsOfSlots() throws IOException {
        List<Object> values = new ArrayList<>();
        for (long i = 0; i < 1000; i++) {
            values.add(i);
        }
        try (ShareableList sl = ShareableList.create(null, values)) {
            try {
                long[] longs = new long[500];
                sl.getLongs(250, longs);
                assertThat(longs[0]).isEqualTo(250L);
                assertThat(longs[499]).isEqualTo(749L);
                for (int k = 0; k < longs.length; k++) {
                    longs[k] *= 2;
                }
                sl.setLongs(250, longs);
                assertThat(sl.get(249)).isEqualTo(249L);
                assertThat(sl.get(250)).isEqualTo(500L);
                assertThat(sl.get(749)).isEqualTo(1498L);
                assertThat(sl.get(750)).isEqualTo(750L);

                double[] doubles = {0.5, 1.5, 2.5};
                sl.setDoubles(10, doubles);
                assertThat(sl.subList(9, 14)).containsExactly(9L, 0.5, 1.5, 2.5, 13L);
                double[] back = new double[3];
                sl.getDoubles(10, back);
                assertThat(back).containsExactly(0.5, 1.5, 2.5);
                sl.getLongs(0, new long[0]);
                sl.getLongs(1000, new long[0]);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void bulkPathsWorkAcrossSlotsOfDifferentSizes() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, "a longer string", 3L, "b".repeat(20).getBytes(StandardCharsets.US_ASCII), 5L))) {
            try {
                sl.setLongs(0, new long[] {10, 20, 30, 40, 50}); // numbers fit every slot
                assertThat(sl).containsExactly(10L, 20L, 30L, 40L, 50L);
                long[] back = new long[5];
                sl.getLongs(0, back);
                assertThat(back).containsExactly(10, 20, 30, 40, 50);
                sl.setDoubles(1, new double[] {0.25, 0.5});
                double[] d = new double[2];
                sl.getDoubles(1, d);
                assertThat(d).containsExactly(0.25, 0.5);
                sl.set(1, "x".repeat(16)); // the slot kept its 16 bytes
                assertThat(sl.get(1)).isEqualTo("x".repeat(16));
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void bulkReadOverAnotherTypeThrowsNamingTheSlotAndCopiesNothing() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, 2L, "three", 4L))) {
            try {
                long[] dst = {-1, -1, -1, -1};
                assertThatThrownBy(() -> sl.getLongs(0, dst)).isInstanceOf(ClassCastException.class)
                        .hasMessageContaining("slot 2").hasMessageContaining("String");
                assertThat(dst).containsOnly(-1L);
                assertThatThrownBy(() -> sl.getDoubles(0, new double[1])).hasMessageContaining("slot 0")
                        .hasMessageContaining("holds a long, not a double");
            } finally {
                sl.unlink();
            }
        }
    }

    // ---------------------------------------------------------------- search and List behaviour

    @Test
    void countIndexOfAndContainsCompareAfterWideningAndByteArraysByContent() throws IOException {
        try (ShareableList sl = ShareableList.create(null, Arrays.asList(1L, 2.0, "a", 1L, new byte[] {7}, null, true))) {
            try {
                assertThat(sl.count(1)).isEqualTo(2); // Integer 1 finds the longs
                assertThat(sl.count(1L)).isEqualTo(2);
                assertThat(sl.count(1.0)).isZero();   // Java equality, not Python's 1 == 1.0
                assertThat(sl.indexOf(2.0f)).isEqualTo(1);
                assertThat(sl.lastIndexOf(1)).isEqualTo(3);
                assertThat(sl.indexOf(new byte[] {7})).isEqualTo(4);
                assertThat(sl.indexOf(null)).isEqualTo(5);
                assertThat(sl.contains(true)).isTrue();
                assertThat(sl.contains("b")).isFalse();
                assertThat(sl.indexOf(new Object())).isEqualTo(-1);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void worksAsAnyJavaList() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(3L, 1L, 2L))) {
            try {
                sl.sort(null);
                assertThat(sl).containsExactly(1L, 2L, 3L).isEqualTo(List.of(1L, 2L, 3L));
                sl.replaceAll(v -> (long) v * 10);
                assertThat(new ArrayList<>(sl)).containsExactly(10L, 20L, 30L);
                assertThat(sl.toString()).isEqualTo("ShareableList[name=" + sl.name() + ", size=3, items=[10, 20, 30]]");
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void serializedListReattachesByName() throws Exception {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, "two"))) {
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                    out.writeObject(sl);
                }
                assertThat(bytes.toString(StandardCharsets.ISO_8859_1)).contains(sl.name());
                try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()));
                     ShareableList copy = (ShareableList) in.readObject()) {
                    assertThat(copy).isNotSameAs(sl).containsExactly(1L, "two");
                    copy.set(0, 5L);
                    assertThat(sl.get(0)).isEqualTo(5L);
                }
            } finally {
                sl.unlink();
            }
        }
    }

    // ---------------------------------------------------------------- lifetime and bad segments

    @Test
    void closeUnmapsAndUnlinkRemovesTheName() throws IOException {
        ShareableList sl = ShareableList.create(null, List.of(1L));
        String name = sl.name();
        try {
            sl.close();
            sl.close();
            assertThatThrownBy(() -> sl.get(0)).isInstanceOf(IllegalStateException.class);
            assertThat(Path.of("/dev/shm", name)).exists();
        } finally {
            sl.unlink();
        }
        assertThat(Path.of("/dev/shm", name)).doesNotExist();
        assertThatThrownBy(() -> ShareableList.attach(name)).isInstanceOf(NoSuchFileException.class).hasMessageContaining(name);
    }

    @Test
    void createWithATakenNameFailsAndLeavesTheExistingList() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L))) {
            try {
                assertThatThrownBy(() -> ShareableList.create(sl.name(), List.of(2L)))
                        .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
                assertThat(sl).containsExactly(1L);
            } finally {
                sl.unlink();
            }
        }
    }

    @Test
    void attachingASegmentThatIsNotAListFailsNamingItAndLeavesIt() throws IOException {
        try (SharedMemory shm = SharedMemory.create(null, 64)) {
            try {
                shm.segment().set(JAVA_LONG, 0, 1_000_000L);
                assertThatThrownBy(() -> ShareableList.attach(shm.name()))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("'" + shm.name() + "' is not a ShareableList")
                        .hasMessageContaining("n=1000000");
                assertThat(Path.of("/dev/shm", shm.name())).exists();
            } finally {
                shm.unlink();
            }
        }
    }

    @Test
    void slotWhoseFormatAndCodeDisagreeIsReportedAndRepairedBySet() throws IOException {
        try (ShareableList sl = ShareableList.create(null, List.of(1L, "abc"))) {
            try {
                // as if a writer died between the format and the code: "8s" with code 0 (a number)
                sl.shm().segment().set(JAVA_BYTE, sl.shm().size() - 1, (byte) 0);
                assertThatThrownBy(() -> sl.get(1)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("slot 1").hasMessageContaining("format='8s', code=0");
                assertThat(sl.set(1, "fixed")).isNull();
                assertThat(sl).containsExactly(1L, "fixed");
            } finally {
                sl.unlink();
            }
        }
    }

    private static String uniqueName() {
        return TestShmNames.unique("sl");
    }
}
