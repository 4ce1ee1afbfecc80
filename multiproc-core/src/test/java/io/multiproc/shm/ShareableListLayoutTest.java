package io.multiproc.shm;

import io.multiproc.testing.TestShmNames;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The arithmetic of CPython's ShareableList layout, checked against numbers CPython 3.11 produced. */
class ShareableListLayoutTest {

    @Test
    void regionsFollowEachOtherAsInCPython() {
        // CPython 3.11: ShareableList([1, 2.5, True, None, "abc", b"\x01\x02", "", "12345678", -3])
        // has 9 items, 80 data bytes (7 slots of 8, one of 16) and a 249-byte segment.
        int n = 9;
        long data = 80;
        assertThat(ShareableListLayout.offsetEntry(0)).isEqualTo(8);
        assertThat(ShareableListLayout.offsetEntry(n)).isEqualTo(80);
        assertThat(ShareableListLayout.dataStart(n)).isEqualTo(88);
        assertThat(ShareableListLayout.formatsStart(n, data)).isEqualTo(168);
        assertThat(ShareableListLayout.codesStart(n, data)).isEqualTo(240);
        assertThat(ShareableListLayout.totalSize(n, data)).isEqualTo(249);
    }

    @Test
    void emptyListTakesSixteenBytes() {
        assertThat(ShareableListLayout.dataStart(0)).isEqualTo(16);
        assertThat(ShareableListLayout.totalSize(0, 0)).isEqualTo(16);
    }

    @Test
    void stringSlotIsTheNextMultipleOfEightStrictlyAboveTheLength() {
        assertThat(ShareableListLayout.stringCapacity(0)).isEqualTo(8);
        assertThat(ShareableListLayout.stringCapacity(7)).isEqualTo(8);
        assertThat(ShareableListLayout.stringCapacity(8)).isEqualTo(16);
        assertThat(ShareableListLayout.stringCapacity(15)).isEqualTo(16);
        assertThat(ShareableListLayout.stringCapacity(16)).isEqualTo(24);
    }

    @Test
    void longestStringKeepsItsFormatWithinEightCharacters() {
        int cap = ShareableListLayout.stringCapacity(ShareableListLayout.MAX_STRING_BYTES);
        assertThat(ShareableListLayout.stringFormat(cap)).isEqualTo("9999992s").hasSize(8);
        int oneMore = ShareableListLayout.stringCapacity(ShareableListLayout.MAX_STRING_BYTES + 1);
        assertThat(ShareableListLayout.stringFormat(oneMore)).hasSize(9);
    }

    @Test
    void formatWordsAreTheNulPaddedAsciiInNativeOrder() {
        long q = ShareableListLayout.formatWord("q");
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            assertThat(q).isEqualTo(0x71L);
            assertThat(ShareableListLayout.FORMAT_BOOLEAN_WORD).isEqualTo(0x3f78_7878_7878_7878L);
            assertThat(ShareableListLayout.FORMAT_NULL_WORD).isEqualTo(0x783f_7878_7878_7878L);
        }
        assertThat(ShareableListLayout.FORMAT_LONG_WORD).isEqualTo(q);
        for (String f : new String[] {"q", "d", "xxxxxxx?", "xxxxxx?x", "8s", "16s", "9999992s"}) {
            assertThat(ShareableListLayout.formatString(ShareableListLayout.formatWord(f))).isEqualTo(f);
        }
        assertThatThrownBy(() -> ShareableListLayout.formatWord("123456789"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("format='123456789'");
    }

    @Test
    void stringFormatLengthParsesOnlyDigitsFollowedByS() {
        assertThat(ShareableListLayout.stringFormatLength(ShareableListLayout.formatWord("8s"))).isEqualTo(8);
        assertThat(ShareableListLayout.stringFormatLength(ShareableListLayout.formatWord("16s"))).isEqualTo(16);
        assertThat(ShareableListLayout.stringFormatLength(ShareableListLayout.formatWord("9999992s"))).isEqualTo(9_999_992);
        for (String notString : new String[] {"q", "d", "xxxxxxx?", "xxxxxx?x", "s", "16", "1s1", "16sx", "x16s"}) {
            assertThat(ShareableListLayout.stringFormatLength(ShareableListLayout.formatWord(notString)))
                    .as(notString).isEqualTo(-1);
        }
        assertThat(ShareableListLayout.stringFormatLength(0)).isEqualTo(-1);
    }

    @Test
    void everyChangeOfTypeHasAnOrderOfFormatAndCodeThatLeavesAReadablePair() {
        String[] formats = {"q", "d", "xxxxxxx?", "xxxxxx?x", "8s", "8s", "8s"};
        byte[] codes = {0, 0, 0, 3, 1, 2, 3};
        for (int from = 0; from < formats.length; from++) {
            long oldFormat = ShareableListLayout.formatWord(formats[from]);
            assertThat(ShareableListLayout.readableTogether(oldFormat, codes[from])).as(formats[from]).isTrue();
            for (int to = 0; to < formats.length - 1; to++) { // the last is a None whose format was not rewritten
                long newFormat = ShareableListLayout.formatWord(formats[to]);
                assertThat(ShareableListLayout.readableTogether(newFormat, codes[from])
                        || ShareableListLayout.readableTogether(oldFormat, codes[to]))
                        .as("%s/%d to %s/%d", formats[from], codes[from], formats[to], codes[to]).isTrue();
            }
        }
        assertThat(ShareableListLayout.readableTogether(ShareableListLayout.FORMAT_LONG_WORD, ShareableListLayout.CODE_STRING)).isFalse();
        assertThat(ShareableListLayout.readableTogether(ShareableListLayout.FORMAT_DOUBLE_WORD, ShareableListLayout.CODE_NULL)).isFalse();
        assertThat(ShareableListLayout.readableTogether(ShareableListLayout.FORMAT_NULL_WORD, ShareableListLayout.CODE_BYTES)).isFalse();
    }

    @Test
    void validateReturnsAbsoluteSlotOffsetsOfAWellFormedList() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = list(arena, 249, 9, 0, 8, 16, 24, 32, 40, 56, 64, 72, 80);
            long[] slots = ShareableListLayout.validate(seg, "t");
            assertThat(slots).containsExactly(88, 96, 104, 112, 120, 128, 144, 152, 160, 168);
        }
    }

    @Test
    void validateRejectsWhatIsNotAListNamingTheProblem() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> ShareableListLayout.validate(arena.allocate(8), "tiny"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("'tiny'").hasMessageContaining("size=8");
            assertThatThrownBy(() -> ShareableListLayout.validate(list(arena, 64, -1), "neg"))
                    .hasMessageContaining("n=-1");
            assertThatThrownBy(() -> ShareableListLayout.validate(list(arena, 64, 1000), "big"))
                    .hasMessageContaining("n=1000").hasMessageContaining("size=64");
            assertThatThrownBy(() -> ShareableListLayout.validate(list(arena, 64, 1, 8, 16), "first"))
                    .hasMessageContaining("offsets[0]=8");
            assertThatThrownBy(() -> ShareableListLayout.validate(list(arena, 64, 1, 0, 12), "odd"))
                    .hasMessageContaining("slot 0 spans offsets 0 to 12");
            assertThatThrownBy(() -> ShareableListLayout.validate(list(arena, 64, 1, 0, 0), "empty"))
                    .hasMessageContaining("slot 0 spans offsets 0 to 0");
            assertThatThrownBy(() -> ShareableListLayout.validate(list(arena, 40, 1, 0, 8), "tooSmallForOne"))
                    .hasMessageContaining("n=1").hasMessageContaining("size=40");
            // one 16-byte item needs 24 + 16 + 8 + 1 = 49 bytes
            assertThatThrownBy(() -> ShareableListLayout.validate(list(arena, 48, 1, 0, 16), "short"))
                    .hasMessageContaining("need size=49").hasMessageContaining("size=48");
            assertThat(ShareableListLayout.validate(list(arena, 49, 1, 0, 16), "ok")).containsExactly(24, 40);
            assertThat(ShareableListLayout.validate(list(arena, 41, 1, 0, 8), "one")).containsExactly(24, 32);
        }
    }

    @Test
    void validateRejectsOffsetsThatGoBackwardsOrBelowZeroWhateverTheirDifference() {
        try (Arena arena = Arena.ofConfined()) {
            // each difference, 1000 -> MIN+992 and MIN+992 -> 984, wraps around to a positive multiple of 8
            MemorySegment backwards = list(arena, 2000, 3, 0, 1000, Long.MIN_VALUE + 992, 984);
            assertThatThrownBy(() -> ShareableListLayout.validate(backwards, "backwards"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'backwards' is not a ShareableList")
                    .hasMessageContaining("slot 1 spans offsets 1000 to " + (Long.MIN_VALUE + 992));
            MemorySegment negativeEnd = list(arena, 200, 2, 0, 8, Long.MIN_VALUE);
            assertThatThrownBy(() -> ShareableListLayout.validate(negativeEnd, "negativeEnd"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("slot 1 spans offsets 8 to " + Long.MIN_VALUE);
            MemorySegment shrinking = list(arena, 200, 2, 0, 16, 8);
            assertThatThrownBy(() -> ShareableListLayout.validate(shrinking, "shrinking"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("slot 1 spans offsets 16 to 8");
        }
    }

    @Test
    void validateRejectsAnItemCountBeyondWhatAJavaListCanHold() throws IOException {
        // a sparse /dev/shm file big enough that 2^31 items of 25 bytes would fit: only n's page is touched
        long size = 25L * (1L << 31) + 4096;
        for (long n : new long[] {1L << 31, Integer.MAX_VALUE}) {
            String name = TestShmNames.unique("sparse");
            Path path = Path.of("/dev/shm", name);
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE); Arena arena = Arena.ofConfined()) {
                ch.write(java.nio.ByteBuffer.allocate(1), size - 1); // sparse: no page but the last is written
                MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
                seg.set(JAVA_LONG, 0, n);
                assertThatThrownBy(() -> ShareableListLayout.validate(seg, name))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("'" + name + "' is not a ShareableList")
                        .hasMessageContaining("n=" + n);
            } finally {
                Files.deleteIfExists(path);
            }
        }
    }

    /** A zeroed segment of {@code size} bytes starting with the given int64 words (n, offsets...). */
    private static MemorySegment list(Arena arena, long size, long... words) {
        MemorySegment seg = arena.allocate(size, 8);
        for (int i = 0; i < words.length; i++) {
            seg.set(JAVA_LONG, 8L * i, words[i]);
        }
        return seg;
    }
}
