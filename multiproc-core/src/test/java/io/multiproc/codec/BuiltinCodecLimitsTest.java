package io.multiproc.codec;

import io.multiproc.shared.SharedLong;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

import static io.multiproc.codec.CodecTesting.decode;
import static io.multiproc.codec.CodecTesting.encode;
import static io.multiproc.codec.CodecTesting.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

@ExtendWith(ReapChildrenCheckShm.class)
class BuiltinCodecLimitsTest {
    /** The broadest list (a task's): the limits hold whatever the allow-list admits. */
    private final Codec codec = BuiltinCodec.taskCodec();

    enum Side { BUY, SELL }

    record Trade(long id, String symbol, double price, int qty, Side side, List<String> tags) {
    }

    static final class Chain implements Serializable {
        final Chain next;
        final long[] data;

        Chain(Chain next, long[] data) {
            this.next = next;
            this.data = data;
        }
    }

    /**
     * The "SerialDOS" stream: sets holding the same two sets again by back-reference, 100 levels deep, a
     * few KB whose reading rehashes 2^100 times. A data codec (a queue's, a remote manager's) refuses it
     * at once; it held the decoding thread for hours (a thread no interrupt stops).
     */
    @Test
    void nestedHashSetsSharingTheirChildrenAreRefusedInsteadOfHashingForHours() throws Exception {
        java.util.Set<Object> root = new java.util.HashSet<>();
        java.util.Set<Object> s1 = root;
        java.util.Set<Object> s2 = new java.util.HashSet<>();
        for (int i = 0; i < 100; i++) {
            java.util.Set<Object> t1 = new java.util.HashSet<>();
            java.util.Set<Object> t2 = new java.util.HashSet<>();
            t1.add("x"); // unequal to t2
            s1.add(t1);
            s1.add(t2);
            s2.add(t1);
            s2.add(t2);
            s1 = t1;
            s2 = t2;
        }
        ByteArrayOutputStream jdk = new ByteArrayOutputStream();
        try (java.io.ObjectOutputStream oos = new java.io.ObjectOutputStream(jdk)) {
            oos.writeObject(root);
        }
        byte[] stream = jdk.toByteArray();
        BufferSink framed = new BufferSink(stream.length + 8);
        framed.writeByte(WireFormat.SERIALIZED);
        Varints.writeUnsigned(framed, stream.length);
        framed.write(stream);
        byte[] bytes = framed.toByteArray();
        Throwable refused = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                () -> catchThrowable(() -> Codec.defaultCodec().decode(SegmentSource.of(bytes))));
        assertThat(refused).isInstanceOf(CodecException.class).hasMessageContaining("hash-based collection");
        // shallow hash-based collections in a JDK stream still read
        java.util.HashMap<String, java.util.HashSet<String>> shallow = new java.util.HashMap<>(Map.of("k", new java.util.HashSet<>(List.of("v"))));
        ByteArrayOutputStream ok = new ByteArrayOutputStream();
        try (java.io.ObjectOutputStream oos = new java.io.ObjectOutputStream(ok)) {
            oos.writeObject(shallow);
        }
        BufferSink okFramed = new BufferSink(ok.size() + 8);
        okFramed.writeByte(WireFormat.SERIALIZED);
        Varints.writeUnsigned(okFramed, ok.size());
        okFramed.write(ok.toByteArray());
        assertThat(Codec.defaultCodec().decode(SegmentSource.of(okFramed.toByteArray()))).isEqualTo(shallow);
    }

    @Test
    void aCycleFailsAtTheDepthLimitInsteadOfOverflowingTheStack() {
        List<Object> self = new ArrayList<>();
        self.add(self);
        assertThatThrownBy(() -> encode(codec, self)).isInstanceOf(CodecException.class)
                .hasMessageContaining("depth=257 exceeds maxDepth=256");
    }

    @Test
    void nestingDeeperThanMaxDepthFailsBothWays() {
        Codec shallow = BuiltinCodec.builder().maxDepth(3).build();
        Object three = List.of(Map.of("k", List.of(1)));
        assertThat(roundTrip(shallow, three)).isEqualTo(three);
        Object four = List.of(List.of(List.of(List.of())));
        assertThatThrownBy(() -> encode(shallow, four)).isInstanceOf(CodecException.class).hasMessageContaining("depth=4");
        byte[] bytes = encode(codec, four);
        assertThatThrownBy(() -> decode(shallow, bytes)).isInstanceOf(CodecException.class).hasMessageContaining("depth=4");
    }

    @Test
    void hostileDeepNestingFailsWithoutStackOverflow() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < 1_000_000; i++) {
            b.write(WireFormat.LIST);
            b.write(1);
        }
        b.write(WireFormat.NULL);
        assertThatThrownBy(() -> decode(codec, b.toByteArray())).isInstanceOf(CodecException.class)
                .hasMessageContaining("exceeds maxDepth");
    }

    @Test
    void deepJdkSerializedGraphsAreRefusedByTheFilter() {
        Chain chain = null;
        for (int i = 0; i < 50; i++) {
            chain = new Chain(chain, null);
        }
        byte[] bytes = encode(codec, chain);
        assertThat(roundTrip(codec, chain)).isInstanceOf(Chain.class);
        Codec shallow = BuiltinCodec.builder().allowClasses(Chain.class).maxDepth(20).build();
        assertThatThrownBy(() -> decode(shallow, bytes)).isInstanceOf(CodecException.class).hasMessageContaining("maxDepth=20");
    }

    /**
     * A JDK-serialized object deeper than the limit fails at the sender, as a native value does, instead
     * of encoding fine and failing in every receiver; the limit left where it sits counts.
     */
    @Test
    void deepJdkSerializedGraphsFailAtTheSender() {
        Chain chain = null;
        for (int i = 0; i < 300; i++) {
            chain = new Chain(chain, i % 7 == 0 ? new long[] {i} : null);
        }
        Chain deep = chain;
        assertThatThrownBy(() -> encode(codec, deep)).isInstanceOf(CodecException.class)
                .hasMessageContaining("class=" + Chain.class.getName())
                .hasMessageContaining("exceeds maxDepth=256");
        Chain fifty = chain;
        for (int i = 0; i < 250; i++) {
            fifty = fifty.next;
        }
        Codec shallow = BuiltinCodec.builder().allowClasses(Chain.class).maxDepth(60).build();
        assertThat(roundTrip(shallow, fifty)).isInstanceOf(Chain.class);
        Object nested = List.of(List.of(List.of(List.of(List.of(List.of(List.of(List.of(List.of(List.of(List.of(fifty)))))))))));
        assertThatThrownBy(() -> encode(shallow, nested)).isInstanceOf(CodecException.class)
                .hasMessageContaining("exceeds maxDepth=49");
    }

    /** Large, shallow JDK streams of every shape (custom writeObject data, arrays, enums) pass that check. */
    @Test
    void largeShallowJdkSerializedValuesStillEncode() {
        IllegalStateException ex = new IllegalStateException("outer", new RuntimeException("cause"));
        ex.addSuppressed(new java.io.UncheckedIOException(new java.io.IOException("io")));
        java.util.ArrayDeque<Object> deque = new java.util.ArrayDeque<>();
        java.util.EnumMap<java.time.DayOfWeek, long[]> days = new java.util.EnumMap<>(java.time.DayOfWeek.class);
        for (int i = 0; i < 500; i++) {
            deque.add(i % 3 == 0 ? "s" + i : i % 3 == 1 ? new int[] {i} : java.time.Instant.ofEpochSecond(i));
        }
        for (java.time.DayOfWeek d : java.time.DayOfWeek.values()) {
            days.put(d, new long[100]);
        }
        deque.add(days); // alone it would go natively, as a Map
        Chain shallow = new Chain(new Chain(null, new long[1000]), new long[1000]);
        for (Object v : List.of(ex, deque, shallow)) {
            assertThat(encode(codec, v).length).as("%s", v.getClass()).isGreaterThan(5 * 256);
            Object back = roundTrip(codec, v);
            assertThat(back).isInstanceOf(v.getClass());
        }
        assertThat(((Throwable) roundTrip(codec, ex)).getSuppressed()).hasSize(1);
        assertThat((java.util.ArrayDeque<?>) roundTrip(codec, deque)).hasSize(501);
    }

    @Test
    void valuesLargerThanMaxBytesFailBothWays() {
        Codec small = BuiltinCodec.builder().maxBytes(100).build();
        assertThatThrownBy(() -> encode(small, new byte[1000])).isInstanceOf(CodecException.class)
                .hasMessageContaining("maxBytes=100");
        assertThatThrownBy(() -> encode(small, List.of("x".repeat(60), "y".repeat(60))))
                .isInstanceOf(CodecException.class).hasMessageContaining("maxBytes=100");
        byte[] big = encode(codec, new byte[1000]);
        assertThatThrownBy(() -> decode(small, big)).isInstanceOf(CodecException.class).hasMessageContaining("maxBytes");
        byte[] many = encode(codec, java.util.Collections.nCopies(200, 1));
        assertThatThrownBy(() -> decode(small, many)).isInstanceOf(CodecException.class).hasMessageContaining("maxBytes");
        assertThat(roundTrip(small, new byte[50])).isEqualTo(new byte[50]);
    }

    /**
     * Every list, set, map and record counts as at least 32 bytes against maxBytes, on both sides: two
     * bytes of input cannot make a collection object twenty times their size, beyond the limit.
     */
    @Test
    void manySmallContainersCountAgainstMaxBytesBothWays() {
        Codec small = BuiltinCodec.builder().maxBytes(1024).build();
        List<Object> empties = java.util.Collections.nCopies(100, List.of()); // ~200 bytes, 100 collections
        byte[] bytes = encode(codec, empties);
        assertThat(bytes.length).isLessThan(300);
        assertThatThrownBy(() -> decode(small, bytes)).isInstanceOf(CodecException.class)
                .hasMessageContaining("maxBytes=1024");
        assertThatThrownBy(() -> encode(small, empties)).isInstanceOf(CodecException.class)
                .hasMessageContaining("maxBytes=1024");
        List<Object> fewer = java.util.Collections.nCopies(25, Map.of());
        assertThat(roundTrip(small, fewer)).isEqualTo(fewer);
    }

    @Test
    void hostileLengthsFailBeforeAnythingIsAllocated() {
        byte[] max = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07}; // varint Integer.MAX_VALUE
        for (int tag : new int[] {WireFormat.LIST, WireFormat.SET, WireFormat.MAP, WireFormat.BYTES, WireFormat.LONGS,
                WireFormat.BOOLEANS, WireFormat.STRING, WireFormat.STRING_UTF16, WireFormat.SERIALIZED}) {
            byte[] bytes = concat(new byte[] {(byte) tag}, max, new byte[10]);
            assertThatThrownBy(() -> decode(codec, bytes)).as("tag %x", tag).isInstanceOf(CodecException.class)
                    .hasMessageContaining("length=2147483647");
        }
        byte[] className = concat(new byte[] {(byte) WireFormat.RECORD, WireFormat.NEW_CLASS}, max, new byte[3]);
        assertThatThrownBy(() -> decode(codec, className)).isInstanceOf(CodecException.class);
    }

    @Test
    void aJdkStreamClaimingAHugeArrayIsRefusedByTheFilter() {
        byte[] bytes = encode(codec, new Chain(null, new long[10]));
        int at = lastIndexOf(bytes, concat(new byte[] {0, 0, 0, 10}, new byte[80])); // the array's length, its zeros
        assertThat(at).isPositive();
        bytes[at] = 0x7F;
        bytes[at + 1] = (byte) 0xFF;
        byte[] hostile = bytes;
        assertThatThrownBy(() -> decode(codec, hostile)).isInstanceOf(CodecException.class).hasMessageContaining("arrayLength=");
    }

    @Test
    void malformedTagsAndVarintsFail() {
        assertThatThrownBy(() -> decode(codec, new byte[0])).isInstanceOf(CodecException.class);
        assertThatThrownBy(() -> decode(codec, new byte[] {(byte) 0xEE})).isInstanceOf(CodecException.class)
                .hasMessageContaining("tag=0xee");
        byte[] overlong = {WireFormat.INT, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01};
        assertThatThrownBy(() -> decode(codec, overlong)).isInstanceOf(CodecException.class).hasMessageContaining("varint");
        assertThatThrownBy(() -> decode(codec, new byte[] {WireFormat.BOOLEANS, 1, 2})).isInstanceOf(CodecException.class);
        assertThatThrownBy(() -> decode(codec, new byte[] {WireFormat.ENUM, 99})).isInstanceOf(CodecException.class)
                .hasMessageContaining("class ref=99");
    }

    @Test
    void everyTruncationOfAnEncodingFails() {
        try (SharedLong v = SharedLong.create(3)) {
            for (Object value : samples(v)) {
                byte[] bytes = encode(codec, value);
                for (int n = 0; n < bytes.length; n++) {
                    byte[] cut = Arrays.copyOf(bytes, n);
                    Throwable t = catchThrowable(() -> closeAll(codec.decode(SegmentSource.of(cut))));
                    assertThat(t).as("%s cut to %d of %d bytes", value, n, bytes.length).isInstanceOf(CodecException.class);
                }
            }
        }
    }

    @Test
    void randomByteFlipsDecodeToSomethingOrFailWithCodecException() {
        Random random = new Random(42);
        try (SharedLong v = SharedLong.create(3)) {
            for (Object value : samples(v)) {
                byte[] bytes = encode(codec, value);
                for (int trial = 0; trial < 1500; trial++) {
                    byte[] garbled = bytes.clone();
                    for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                        garbled[random.nextInt(garbled.length)] ^= (byte) (1 << random.nextInt(8));
                    }
                    Throwable t = catchThrowable(() -> closeAll(codec.decode(SegmentSource.of(garbled))));
                    if (t != null) {
                        assertThat(t).as("%s garbled as %s", value, Arrays.toString(garbled)).isInstanceOf(CodecException.class);
                    }
                }
            }
        }
    }

    private static List<Object> samples(SharedLong v) {
        Supplier<String> lambda = (Supplier<String> & Serializable) () -> "x";
        return List.of(
                List.of(1, -5L, "caf\u00e9", 2.5, Map.of("k", List.of(true, 'c')), new int[] {1, 2, 3}),
                new Trade(77, "ACME", 1.25, 10, Side.SELL, List.of("a", "b")),
                List.of(new Trade(1, "A", 1, 1, Side.BUY, List.of()), new Trade(2, "B", 2, 2, Side.BUY, List.of("t"))),
                "a string of some length \u4e2d\u6587",
                Map.of("lambda", lambda),
                new Chain(new Chain(null, new long[] {1, 2}), null),
                List.of("handle", v));
    }

    /** Closes the shared objects a garbled decode may have produced. */
    private static void closeAll(Object decoded) throws Exception {
        if (decoded instanceof AutoCloseable c) {
            c.close();
        } else if (decoded instanceof Iterable<?> it) {
            for (Object o : it) {
                closeAll(o);
            }
        } else if (decoded instanceof Map<?, ?> m) {
            closeAll(m.keySet());
            closeAll(m.values());
        }
    }

    private static int lastIndexOf(byte[] bytes, byte[] part) {
        for (int i = bytes.length - part.length; i >= 0; i--) {
            if (Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }
}
