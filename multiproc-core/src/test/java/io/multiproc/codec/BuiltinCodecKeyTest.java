package io.multiproc.codec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link BuiltinCodec#encodeKey}: values equal by equals write equal bytes, and read back as equal values. */
class BuiltinCodecKeyTest {
    private static final Codec CODEC = Codec.defaultCodec();

    /** A record holding a Set and a double: equal records whatever the set's order and the NaN's bits. */
    public record Point(Set<String> tags, double x) {
    }

    private static byte[] key(Object v) {
        BufferSink out = new BufferSink(64);
        CODEC.encodeKey(v, out);
        return out.toByteArray();
    }

    @SafeVarargs
    private static <E> Set<E> ordered(E... elements) {
        return new LinkedHashSet<>(List.of(elements));
    }

    @Test
    public void equalSetsMapsAndRecordsWriteEqualBytesWhateverTheirOrder() {
        assertThat(key(ordered(3, 1, 2))).isEqualTo(key(ordered(1, 2, 3))).isEqualTo(key(new TreeSet<>(Set.of(2, 3, 1))))
                .isEqualTo(key(Set.of(1, 2, 3)));
        Map<Object, Object> ab = new LinkedHashMap<>();
        ab.put("a", ordered(1, 2));
        ab.put(List.of("b"), Map.of("x", 1, "y", 2));
        Map<Object, Object> ba = new HashMap<>();
        ba.put(List.of("b"), Map.of("y", 2, "x", 1));
        ba.put("a", ordered(2, 1));
        assertThat(key(ab)).isEqualTo(key(ba));
        double otherNaN = Double.longBitsToDouble(0x7ff8000000000001L);
        assertThat(key(new Point(ordered("p", "q"), Double.NaN))).isEqualTo(key(new Point(ordered("q", "p"), otherNaN)));
        assertThat(key(List.of(1.5f, Float.NaN))).isEqualTo(key(List.of(1.5f, Float.intBitsToFloat(0x7fc00001))));
        assertThat(key(ordered(1, 2))).isNotEqualTo(key(ordered(1, 3)));
    }

    @Test
    public void aKeyDecodesToAnEqualValue() {
        Object v = List.of(ordered("z", "a"), Map.of(2, "two", 1, "one"), new Point(ordered("q", "p"), 1.0));
        assertThat(CODEC.decode(SegmentSource.of(key(v)))).isEqualTo(v);
    }

    @Test
    public void valuesWithoutSetsOrMapsWriteTheirUsualBytes() {
        for (Object v : List.of("s", 7, 1L << 40, List.of("a", 1, 2.5), new Point(null, 2.0))) {
            assertThat(key(v)).isEqualTo(CodecTesting.encode(CODEC, v));
        }
    }

    /** Each nesting level sorts by its elements' own encodings, computed once: 200 levels must not take 2^200 encodes. */
    @Test
    @Timeout(60)
    public void setsNestedDeeplyAreEncodedOncePerLevel() {
        Object nested = 0;
        for (int i = 1; i <= 200; i++) {
            nested = ordered(nested, i);
        }
        byte[] bytes = key(nested);
        assertThat(CODEC.decode(SegmentSource.of(bytes))).isEqualTo(nested);
    }
}
