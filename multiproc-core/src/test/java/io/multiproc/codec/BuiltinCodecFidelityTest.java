package io.multiproc.codec;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import java.io.Externalizable;
import java.io.IOException;
import java.io.ObjectInput;
import java.io.ObjectOutput;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.Period;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.multiproc.codec.CodecTesting.decode;
import static io.multiproc.codec.CodecTesting.encode;
import static io.multiproc.codec.CodecTesting.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Does what a user sends arrive as the same value, or fail loudly naming it, at the sender where it can?
 * Values users send every day, and the edges where a value could silently change.
 */
class BuiltinCodecFidelityTest {
    private final Codec codec = Codec.defaultCodec();

    // ------------------------------------------------------------------ values that already come back exactly

    record Range(int lo, int hi) {
        Range {
            if (lo > hi) {
                throw new IllegalArgumentException("lo=" + lo + " > hi=" + hi);
            }
        }
    }

    record Box<T>(T value, int[] counts) {
    }

    sealed interface Shape permits Circle, Square {
    }

    record Circle(double r) implements Shape {
    }

    record Square(double side) implements Shape {
    }

    record Drawing(List<Shape> shapes, Shape main) {
    }

    /** Boxes keep their exact bits (NaN payloads, -0.0), strings every char, numbers their scale. */
    @Test
    void everydayValuesComeBackExactly() {
        Float nanF = Float.intBitsToFloat(0x7fc0_1234);
        Double nanD = Double.longBitsToDouble(0x7ff8_0000_dead_beefL);
        assertThat(Float.floatToRawIntBits((Float) roundTrip(codec, nanF))).isEqualTo(0x7fc0_1234);
        assertThat(Double.doubleToRawLongBits((Double) roundTrip(codec, nanD))).isEqualTo(0x7ff8_0000_dead_beefL);
        assertThat(Double.doubleToRawLongBits((Double) roundTrip(codec, -0.0))).isEqualTo(Double.doubleToRawLongBits(-0.0));
        for (Object v : List.of('\ud800', (short) Short.MIN_VALUE, (byte) Byte.MIN_VALUE, "a\u0000b", "\ud83d\ude00\ud800x",
                new BigDecimal("1.10"), new BigDecimal("-0E+7"), new BigInteger("-123456789012345678901234567890"),
                LocalDate.of(2026, 12, 6), Period.ofMonths(3), ZoneId.of("Europe/Paris"),
                ZonedDateTime.of(2026, 12, 6, 13, 0, 0, 5, ZoneId.of("Europe/Paris")), DayOfWeek.SUNDAY)) {
            Object back = roundTrip(codec, v);
            assertThat(back).as("%s", v).isEqualTo(v);
            assertThat(back.getClass()).isEqualTo(v.getClass());
        }
        assertThat(((BigDecimal) roundTrip(codec, new BigDecimal("1.10"))).scale()).isEqualTo(2);
        List<Integer> withNulls = new ArrayList<>(Arrays.asList(1, null, 3, 4));
        assertThat(roundTrip(codec, withNulls.subList(1, 3))).isEqualTo(Arrays.asList(null, 3));
        assertThat(roundTrip(codec, Collections.unmodifiableList(withNulls))).isEqualTo(withNulls);
        Map<String, Integer> nullKey = new HashMap<>();
        nullKey.put(null, null);
        assertThat(roundTrip(codec, nullKey)).isEqualTo(nullKey);
    }

    /** Records: the constructor runs on decoding, generic and array components, sealed interfaces. */
    @Test
    void recordsComeBackThroughTheirConstructor() {
        assertThat(roundTrip(codec, new Range(1, 2))).isEqualTo(new Range(1, 2));
        Box<?> box = (Box<?>) roundTrip(codec, new Box<>(List.of(new Range(0, 0)), new int[] {1, 2}));
        assertThat(box.value()).isEqualTo(List.of(new Range(0, 0)));
        assertThat(box.counts()).containsExactly(1, 2);
        Drawing d = new Drawing(List.of(new Circle(1), new Square(2)), new Circle(-0.0));
        assertThat(roundTrip(codec, d)).isEqualTo(d);
    }

    /** A list holding itself fails at the depth limit, naming it, instead of overflowing the stack. */
    @Test
    void aCycleFailsAtTheDepthLimit() {
        List<Object> self = new ArrayList<>();
        self.add(self);
        assertThatThrownBy(() -> encode(codec, self)).isInstanceOf(CodecException.class).hasMessageContaining("maxDepth=256");
    }

    // ------------------------------------------------------------------ findings

    /**
     * An IdentityHashMap holds keys that are equal but not the same object: decoded as a LinkedHashMap,
     * they merged and entries were lost without a word.
     */
    @Test
    void anIdentityHashMapKeepsEveryEntry() {
        IdentityHashMap<String, Integer> m = new IdentityHashMap<>();
        m.put(new String("k"), 1);
        m.put(new String("k"), 2);
        Object back = roundTrip(codec, m);
        assertThat(back).isInstanceOf(IdentityHashMap.class);
        assertThat((Map<?, ?>) back).hasSize(2);
        assertThat(new ArrayList<Object>(((Map<?, ?>) back).values())).containsExactlyInAnyOrder(1, 2);
    }

    /**
     * A set (or map) whose elements are distinct where they are and equal once decoded (a set over an
     * IdentityHashMap, a TreeSet whose comparator tells equal elements apart) fails loudly instead of
     * arriving with fewer elements.
     */
    @Test
    void aSetWhoseElementsWouldMergeWhenDecodedFailsLoudly() {
        Set<String> s = Collections.newSetFromMap(new IdentityHashMap<>());
        s.add(new String("a"));
        s.add(new String("a"));
        assertThatThrownBy(() -> roundTrip(codec, s)).isInstanceOf(CodecException.class)
                .hasMessageContaining("2 elements");
        Map<String, Integer> identity = new IdentityHashMap<>();
        identity.put(new String("x"), 1);
        identity.put(new String("x"), 2);
        assertThatThrownBy(() -> roundTrip(codec, Collections.unmodifiableMap(identity))).isInstanceOf(CodecException.class)
                .hasMessageContaining("2 entries");
    }

    /** Counts the bytes written and refuses to take more than {@code cap}: a stand-in for memory running out. */
    private static final class CountingSink implements ByteSink {
        private final long cap;
        long position;

        CountingSink(long cap) {
            this.cap = cap;
        }

        private void take(long n) {
            position += n;
            if (position > cap) {
                throw new IllegalStateException("the codec wrote " + position + " bytes, beyond " + cap);
            }
        }

        @Override
        public void writeByte(int value) {
            take(1);
        }

        @Override
        public void writeInt(int value) {
            take(4);
        }

        @Override
        public void writeLong(long value) {
            take(8);
        }

        @Override
        public void write(byte[] src, int offset, int length) {
            take(length);
        }

        @Override
        public void write(MemorySegment src, long offset, long length) {
            take(length);
        }

        @Override
        public long position() {
            return position;
        }
    }

    /**
     * A value over maxBytes fails once it passes the limit, not after it was written in full: sublists
     * shared 40 levels deep (written as a tree, 2^40 copies) would never finish or run out of memory, and a
     * list of 64 one-MiB arrays would be copied whole before being refused.
     */
    @Test
    void aValueOverMaxBytesFailsOnceItPassesTheLimit() {
        BuiltinCodec small = BuiltinCodec.builder().maxBytes(1 << 20).build();
        List<Object> shared = List.of(1, 2, 3);
        for (int i = 0; i < 40; i++) {
            shared = List.of(shared, shared);
        }
        Object dag = shared;
        CountingSink sink = new CountingSink(64L << 20);
        assertThatThrownBy(() -> small.encode(dag, sink)).isInstanceOf(CodecException.class)
                .hasMessageContaining("maxBytes=" + (1 << 20));
        assertThat(sink.position).isLessThan(2L << 20);

        List<byte[]> arrays = Collections.nCopies(64, new byte[1 << 20]);
        CountingSink second = new CountingSink(64L << 20);
        assertThatThrownBy(() -> small.encode(arrays, second)).isInstanceOf(CodecException.class)
                .hasMessageContaining("maxBytes=" + (1 << 20));
        assertThat(second.position).isLessThan(3L << 20);
    }

    /**
     * With the depth limit raised beyond what the thread's stack holds, a deep value fails with a
     * CodecException (as decoding does), not a StackOverflowError out of encode.
     */
    @Test
    void aValueNestedDeeperThanTheStackFailsWithACodecException() {
        BuiltinCodec deep = BuiltinCodec.builder().maxDepth(Integer.MAX_VALUE).build();
        Object v = "leaf";
        for (int i = 0; i < 1_000_000; i++) {
            v = List.of(v);
        }
        Object value = v;
        BufferSink out = new BufferSink(64);
        assertThatThrownBy(() -> deep.encode(value, out)).isInstanceOf(CodecException.class)
                .hasMessageContaining("nested too deeply");
        assertThat(out.size()).isZero();
    }

    /** Externalizable without a public no-arg constructor: the JDK can write it but never read it back. */
    static final class Money implements Externalizable {
        long cents;

        Money(long cents) {
            this.cents = cents;
        }

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeLong(cents);
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException {
            cents = in.readLong();
        }
    }

    /** The same with the constructor the JDK needs. */
    public static final class Cents implements Externalizable {
        long cents;

        public Cents() {
        }

        Cents(long cents) {
            this.cents = cents;
        }

        @Override
        public void writeExternal(ObjectOutput out) throws IOException {
            out.writeLong(cents);
        }

        @Override
        public void readExternal(ObjectInput in) throws IOException {
            cents = in.readLong();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Cents c && c.cents == cents;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(cents);
        }
    }

    /** Not Serializable, and no no-arg constructor: a Serializable subclass cannot be rebuilt. */
    static class Named {
        final String name;

        Named(String name) {
            this.name = name;
        }
    }

    static final class Account extends Named implements Serializable {
        final long balance;

        Account(String name, long balance) {
            super(name);
            this.balance = balance;
        }
    }

    static class Plain {
        Plain() {
        }
    }

    static final class Tagged extends Plain implements Serializable {
        final String tag;

        Tagged(String tag) {
            this.tag = tag;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tagged t && t.tag.equals(tag);
        }

        @Override
        public int hashCode() {
            return tag.hashCode();
        }
    }

    /**
     * An object the receiver's JDK serialization cannot build (an Externalizable without a public no-arg
     * constructor, a Serializable class whose first non-serializable superclass has no usable no-arg
     * constructor) fails at the sender, naming the class: else a queue's put succeeds and every take of
     * it fails, losing the item.
     */
    @Test
    void anObjectTheReceiverCannotBuildFailsAtTheSender() {
        Codec allowing = BuiltinCodec.builder().allowClasses(Money.class, Cents.class, Account.class, Tagged.class).build();
        assertThatThrownBy(() -> encode(allowing, new Money(5))).isInstanceOf(CodecException.class)
                .hasMessageContaining(Money.class.getName()).hasMessageContaining("public no-arg constructor");
        assertThatThrownBy(() -> encode(allowing, List.of(new Account("a", 1)))).isInstanceOf(CodecException.class)
                .hasMessageContaining(Account.class.getName()).hasMessageContaining(Named.class.getName());
        assertThat(roundTrip(allowing, new Cents(7))).isEqualTo(new Cents(7));
        assertThat(roundTrip(allowing, new Tagged("t"))).isEqualTo(new Tagged("t"));
    }

    /** Through a queue: without the check at the sender, put succeeded and every take of the item failed. */
    @Test
    void aQueueRefusesAtPutAnItemItsTakerCouldNeverBuild() throws InterruptedException {
        Codec allowing = BuiltinCodec.builder().allowClasses(Money.class).build();
        try (io.multiproc.queue.SharedQueue<Object> q = io.multiproc.queue.SharedQueue.create(4, 1 << 16,
                io.multiproc.wait.IdleStrategy.blocking(), allowing)) {
            assertThatThrownBy(() -> q.put(new Money(5))).isInstanceOf(CodecException.class)
                    .hasMessageContaining(Money.class.getName());
            q.put("next");
            assertThat(q.take()).isEqualTo("next");
        }
    }

    /** A tree of categories, each holding its children in a HashMap. */
    static final class Category implements Serializable {
        final String name;
        final HashMap<String, Category> children = new HashMap<>();

        Category(String name) {
            this.name = name;
        }
    }

    /**
     * A data codec's JDK stream may hold hash-based collections only 12 deep: a value the receiver will
     * refuse for that fails at the sender (or arrives), never only at the receiver.
     */
    @Test
    @Disabled("codec audit finding 7, not fixed: the sender's skim resolves no class, so it cannot see the receiver's"
            + " limit of 12 levels for hash-based collections in a data codec's JDK stream")
    void aJdkStreamTheReceiverRefusesFailsAtTheSender() {
        Category root = new Category("0");
        Category c = root;
        for (int i = 1; i <= 8; i++) {
            Category next = new Category(Integer.toString(i));
            c.children.put(next.name, next);
            c = next;
        }
        Codec allowing = BuiltinCodec.builder().allowClasses(Category.class).build();
        byte[] bytes;
        try {
            bytes = encode(allowing, root);
        } catch (CodecException refusedAtTheSender) {
            return;
        }
        assertThatCode(() -> decode(allowing, bytes)).doesNotThrowAnyException();
    }

    record Leg(String symbol) {
    }

    record Basket(Leg[] legs) {
    }

    /**
     * An array of records (not Serializable) fails at the sender naming it, with advice that names real
     * classes and packages (not "Leg;.class" and a package "[Lio..."), and the way out that works: a List.
     */
    @Test
    void anArrayOfRecordsFailsWithAdviceThatWorks() {
        assertThatThrownBy(() -> encode(codec, new Basket(new Leg[] {new Leg("a")}))).isInstanceOf(CodecException.class)
                .hasMessageContaining(Leg.class.getName())
                .hasMessageContaining("allowClasses(BuiltinCodecFidelityTest.Leg.class)")
                .hasMessageContaining("allowPackages(\"io.multiproc.codec.\")")
                .hasMessageContaining("a List");
    }
}
