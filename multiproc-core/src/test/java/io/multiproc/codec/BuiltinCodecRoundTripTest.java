package io.multiproc.codec;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import static io.multiproc.codec.CodecTesting.decodeOffHeap;
import static io.multiproc.codec.CodecTesting.encode;
import static io.multiproc.codec.CodecTesting.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;

class BuiltinCodecRoundTripTest {
    private final Codec codec = Codec.defaultCodec();

    enum Side { BUY, SELL }

    enum Op {
        ADD { int apply(int a, int b) { return a + b; } },
        MUL { int apply(int a, int b) { return a * b; } };

        abstract int apply(int a, int b);
    }

    record Trade(long id, String symbol, double price, int qty) {
    }

    record Primitives(boolean z, byte b, short s, char c, int i, long l, float f, double d) {
    }

    record Order(Trade trade, Side side, List<String> tags, Map<String, Integer> legs, Order parent) {
    }

    record Empty() {
    }

    private record Hidden(String secret) {
    }

    record Job(String name, java.nio.file.Path input, List<java.nio.file.Path> outputs) {
    }

    /**
     * A path of the default file system travels as its string form (a task's input file, a queue of files
     * to process), not Serializable as it is; absolute, relative, empty and non-ASCII names keep their form.
     */
    @Test
    void aPathTravelsAsItsStringForm() {
        for (java.nio.file.Path p : List.of(java.nio.file.Path.of("/tmp/data/in.csv"), java.nio.file.Path.of("rel/out"),
                java.nio.file.Path.of(""), java.nio.file.Path.of("/tmp/Zürich ✓/データ.txt"))) {
            Object back = roundTrip(codec, p);
            assertThat(back).isInstanceOf(java.nio.file.Path.class).isEqualTo(p);
            assertThat(back.toString()).isEqualTo(p.toString());
        }
        Job job = new Job("j", java.nio.file.Path.of("/data/in"), List.of(java.nio.file.Path.of("a"), java.nio.file.Path.of("/b/c")));
        assertThat(roundTrip(codec, job)).isEqualTo(job);
        assertThat(roundTrip(codec, Map.of(java.nio.file.Path.of("k"), 1))).isEqualTo(Map.of(java.nio.file.Path.of("k"), 1));
        assertThat(encode(codec, java.nio.file.Path.of("/tmp/x")).length).isEqualTo(3 + "/tmp/x".length()); // tag, String tag, length
    }

    record Found(String query, java.util.Optional<Trade> trade) {
    }

    /** An Optional travels with its content (empty too), also inside a record and a list. */
    @Test
    void anOptionalTravelsWithItsContent() {
        assertThat(roundTrip(codec, java.util.Optional.of("x"))).isEqualTo(java.util.Optional.of("x"));
        assertThat(roundTrip(codec, java.util.Optional.empty())).isEqualTo(java.util.Optional.empty());
        Found found = new Found("ACME", java.util.Optional.of(new Trade(1, "ACME", 9.5, 100)));
        assertThat(roundTrip(codec, found)).isEqualTo(found);
        assertThat(roundTrip(codec, List.of(java.util.Optional.of(1), java.util.Optional.empty())))
                .isEqualTo(List.of(java.util.Optional.of(1), java.util.Optional.empty()));
        for (Object o : List.of(java.util.OptionalInt.of(-7), java.util.OptionalInt.empty(), java.util.OptionalLong.of(Long.MIN_VALUE),
                java.util.OptionalLong.empty(), java.util.OptionalDouble.of(2.5), java.util.OptionalDouble.empty())) {
            assertThat(roundTrip(codec, o)).isEqualTo(o);
        }
    }

    /**
     * A JDK entry JDK serialization refuses ({@code Map.entry}, a HashMap's entry) arrives as an equal
     * immutable entry, nulls kept; a Serializable one keeps its class.
     */
    @Test
    void mapEntriesTravelAsEqualEntries() {
        Map<String, Integer> m = new HashMap<>();
        m.put("k", null);
        Map.Entry<String, Integer> node = m.entrySet().iterator().next();
        for (Map.Entry<?, ?> e : List.of(Map.entry("a", 1), node, new TreeMap<>(Map.of("t", 2)).firstEntry())) {
            Object back = roundTrip(codec, e);
            assertThat(back).isInstanceOf(java.util.AbstractMap.SimpleImmutableEntry.class).isEqualTo(e);
        }
        var simple = new java.util.AbstractMap.SimpleEntry<>("s", 3);
        assertThat(roundTrip(codec, simple)).isInstanceOf(java.util.AbstractMap.SimpleEntry.class).isEqualTo(simple);
        assertThat(roundTrip(codec, List.of(Map.entry("x", List.of(1, 2))))).isEqualTo(List.of(Map.entry("x", List.of(1, 2))));
    }

    @Test
    void defaultCodecIsTheBuiltinCodec() {
        assertThat(codec).isInstanceOf(BuiltinCodec.class);
    }

    @Test
    void scalarsComeBackEqualAndOfTheSameType() {
        List<Object> values = List.of(true, false, (byte) -7, (short) -300, 'x', '\uffff', 0, -1, 63, -64, 64,
                Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 27, 1 << 28, 0L, -1L, Long.MAX_VALUE, Long.MIN_VALUE,
                1L << 48, 1L << 49, 1.5f, Float.NaN, -0.0f, Math.PI, Double.NEGATIVE_INFINITY, -0.0, "", "abc");
        for (Object v : values) {
            Object back = roundTrip(codec, v);
            assertThat(back).as("%s", v).isEqualTo(v);
            assertThat(back.getClass()).isEqualTo(v.getClass());
        }
        assertThat(roundTrip(codec, null)).isNull();
    }

    @Test
    void smallNumbersTakeTwoBytes() {
        assertThat(encode(codec, 42)).hasSize(2);
        assertThat(encode(codec, -64)).hasSize(2);
        assertThat(encode(codec, 7L)).hasSize(2);
        assertThat(encode(codec, true)).hasSize(1);
        assertThat(encode(codec, null)).hasSize(1);
        assertThat(encode(codec, Integer.MIN_VALUE)).hasSize(5);
        assertThat(encode(codec, Long.MIN_VALUE)).hasSize(9);
    }

    @Test
    void stringsOfEveryKindComeBackExactly() {
        String huge = "x".repeat(3_000_000);
        String hugeMixed = "ab\u00e9\u4e2d\ud83d\ude00".repeat(200_000);
        List<String> strings = List.of("", "a", "ascii only, 64 chars long: 0123456789012345678901234567890123", "caf\u00e9",
                "\u4e2d\u6587", "emoji \ud83d\ude00 pair", "lone high \ud800 surrogate", "lone low \udc00", "\u0000nul",
                "long, with a lone surrogate that UTF-8 would make a question mark: \udbff.", "long, and asking? ".repeat(5),
                huge, hugeMixed);
        for (String s : strings) {
            assertThat((String) roundTrip(codec, s)).isEqualTo(s);
            assertThat((String) decodeOffHeap(codec, encode(codec, s))).isEqualTo(s);
            assertThat(throughPlainSinkAndSource(s)).isEqualTo(s);
        }
        assertThat(encode(codec, "caf\u00e9")).hasSize(2 + 5); // UTF-8
        assertThat(encode(codec, huge)).hasSize(1 + 4 + huge.length()); // 3,000,000 takes a 4-byte varint
    }

    @Test
    void primitiveArraysComeBackEqual() {
        List<Object> arrays = List.of(new byte[] {1, -2, 3}, new short[] {-1, 300}, new char[] {'a', '\u4e2d'},
                new int[] {0, -1, Integer.MAX_VALUE}, new long[] {Long.MIN_VALUE, 5}, new float[] {1.5f, Float.NaN},
                new double[] {Math.E, -0.0}, new boolean[] {true, false, true}, new byte[0], new double[0]);
        for (Object a : arrays) {
            assertThat(roundTrip(codec, a)).isEqualTo(a);
            assertThat(decodeOffHeap(codec, encode(codec, a))).isEqualTo(a);
            assertThat(throughPlainSinkAndSource(a)).isEqualTo(a);
        }
        double[] big = new double[1 << 20];
        Arrays.setAll(big, i -> i * 0.5);
        assertThat(encode(codec, big)).hasSize(1 + 3 + 8 * big.length);
        assertThat((double[]) roundTrip(codec, big)).isEqualTo(big);
    }

    @Test
    void enumsComeBackAsTheSameConstants() {
        assertThat(roundTrip(codec, Side.SELL)).isSameAs(Side.SELL);
        assertThat(roundTrip(codec, Op.MUL)).isSameAs(Op.MUL); // a constant with a body
        assertThat(roundTrip(codec, List.of(Side.BUY, Side.SELL, Side.BUY, Op.ADD)))
                .isEqualTo(List.of(Side.BUY, Side.SELL, Side.BUY, Op.ADD));
    }

    @Test
    void recordsComeBackEqualThroughTheirConstructor() {
        Trade t = new Trade(12345, "ACME", 99.25, -100);
        assertThat(roundTrip(codec, t)).isEqualTo(t);
        Primitives p = new Primitives(true, (byte) -1, (short) 12345, '\u4e2d', -77, Long.MIN_VALUE, 2.5f, Double.MIN_VALUE);
        assertThat(roundTrip(codec, p)).isEqualTo(p);
        assertThat(roundTrip(codec, new Empty())).isEqualTo(new Empty());
        assertThat(roundTrip(codec, new Hidden("s"))).isEqualTo(new Hidden("s"));
    }

    @Test
    void nestedRecordsAndCollectionsComeBackEqual() {
        Order parent = new Order(new Trade(1, "A", 1, 1), Side.BUY, List.of(), Map.of(), null);
        Map<String, Integer> legs = new LinkedHashMap<>();
        legs.put("x", 1);
        legs.put(null, null);
        Order child = new Order(new Trade(2, "B\u00e9", 2, 2), Side.SELL, new ArrayList<>(Arrays.asList("t", null)), legs, parent);
        assertThat(roundTrip(codec, child)).isEqualTo(child);
        List<Object> deep = List.of(List.of(List.of(1, "two"), Set.of(3.0)), Map.of("k", List.of(child)), new int[0].length);
        assertThat(roundTrip(codec, deep)).isEqualTo(deep);
    }

    @Test
    void aRecordClassIsNamedOncePerValue() {
        Trade t = new Trade(1, "A", 1.0, 1);
        int one = encode(codec, List.of(t)).length;
        int ten = encode(codec, java.util.Collections.nCopies(10, t)).length;
        int perTrade = encode(codec, t).length - Trade.class.getName().length();
        assertThat(ten - one).isLessThan(9 * (perTrade + 2));
    }

    @Test
    void collectionsDecodeAsMutableOrderedJdkTypes() {
        Object list = roundTrip(codec, List.of(3, 1, 2));
        assertThat(list).isInstanceOf(ArrayList.class).isEqualTo(List.of(3, 1, 2));
        @SuppressWarnings("unchecked")
        List<Object> mutable = (List<Object>) list;
        mutable.add(4);

        assertThat(roundTrip(codec, new LinkedList<>(List.of("a", "b")))).isInstanceOf(ArrayList.class);
        Object set = roundTrip(codec, new TreeSet<>(List.of("b", "c", "a")));
        assertThat(set).isInstanceOf(LinkedHashSet.class);
        assertThat(new ArrayList<Object>((Set<?>) set)).containsExactly("a", "b", "c");
        assertThat(roundTrip(codec, EnumSet.of(Side.SELL))).isEqualTo(Set.of(Side.SELL));

        TreeMap<String, Integer> tm = new TreeMap<>(Map.of("z", 26, "a", 1, "m", 13));
        Object map = roundTrip(codec, tm);
        assertThat(map).isInstanceOf(LinkedHashMap.class).isEqualTo(tm);
        assertThat(new ArrayList<Object>(((Map<?, ?>) map).keySet())).containsExactly("a", "m", "z");
        assertThat(roundTrip(codec, new ConcurrentHashMap<>(Map.of(1, 2)))).isInstanceOf(LinkedHashMap.class);
        assertThat(roundTrip(codec, new HashMap<>(Map.of(1, 2)).keySet())).isEqualTo(Set.of(1)); // a view
        assertThat(roundTrip(codec, List.of())).isEqualTo(List.of());
        assertThat(roundTrip(codec, Map.of())).isEqualTo(Map.of());
    }

    record Book(String title, TreeMap<String, Integer> index) {
    }

    record Shelves(java.util.SortedSet<String> sorted, java.util.Deque<Integer> queue,
                   java.util.concurrent.CopyOnWriteArrayList<String> cow, ConcurrentHashMap<String, Integer> counts,
                   java.util.Vector<Integer> vector, LinkedList<String> linked, java.util.Collection<String> any) {
    }

    record Sides(EnumSet<Side> sides) {
    }

    /**
     * A record component declared as a collection class the built-in format does not decode to (it
     * decodes Lists, Sets and Maps as ArrayList, LinkedHashSet, LinkedHashMap) comes back as the class
     * sent, comparator included, instead of failing to decode.
     */
    @Test
    void recordComponentsOfOtherCollectionClassesComeBackAsThatClass() {
        Book book = new Book("a", new TreeMap<>(Map.of("b", 2, "a", 1)));
        Object back = roundTrip(codec, book);
        assertThat(back).isEqualTo(book);
        assertThat(((Book) back).index()).isInstanceOf(TreeMap.class);

        TreeMap<String, Integer> reversed = new TreeMap<>(java.util.Comparator.reverseOrder());
        reversed.putAll(Map.of("a", 1, "b", 2, "c", 3));
        Book reverse = (Book) roundTrip(codec, new Book("z", reversed));
        assertThat(reverse.index().keySet()).containsExactly("c", "b", "a");
        assertThat(reverse.index().comparator()).isEqualTo(java.util.Comparator.reverseOrder());

        Shelves shelves = new Shelves(new TreeSet<>(Set.of("x", "y")), new java.util.ArrayDeque<>(List.of(1, 2)),
                new java.util.concurrent.CopyOnWriteArrayList<>(List.of("c")), new ConcurrentHashMap<>(Map.of("k", 1)),
                new java.util.Vector<>(List.of(5)), new LinkedList<>(List.of("l")), new TreeSet<>(Set.of("any")));
        Shelves again = (Shelves) roundTrip(codec, shelves);
        assertThat(again.sorted()).isInstanceOf(TreeSet.class).containsExactly("x", "y");
        assertThat(again.queue()).containsExactly(1, 2);
        assertThat(again.cow()).isInstanceOf(java.util.concurrent.CopyOnWriteArrayList.class).containsExactly("c");
        assertThat(again.counts()).isInstanceOf(ConcurrentHashMap.class).isEqualTo(Map.of("k", 1));
        assertThat(again.vector()).isInstanceOf(java.util.Vector.class).containsExactly(5);
        assertThat(again.linked()).isInstanceOf(LinkedList.class).containsExactly("l");
        assertThat(again.any()).containsExactly("any"); // declared as Collection: the native format's set does

        java.util.Stack<Integer> stack = new java.util.Stack<>();
        stack.push(9);
        Shelves withStack = new Shelves(shelves.sorted(), shelves.queue(), shelves.cow(), shelves.counts(), stack,
                shelves.linked(), shelves.any());
        assertThat(((Shelves) roundTrip(codec, withStack)).vector()).isInstanceOf(java.util.Stack.class).containsExactly(9);
    }

    /**
     * When such a component cannot travel with its class (here an EnumSet of an application enum, which a
     * data channel's codec does not read from JDK streams), the sender fails, naming the component, and
     * the value is never sent half-decodable.
     */
    @Test
    void aRecordComponentThatCannotKeepItsClassFailsAtTheSender() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> encode(codec, new Sides(EnumSet.of(Side.BUY))))
                .isInstanceOf(CodecException.class)
                .hasMessageContaining("component=sides")
                .hasMessageContaining(Sides.class.getName())
                .hasMessageContaining("java.util.EnumSet");
        Codec allowing = BuiltinCodec.builder().allowClasses(Side.class).build();
        assertThat(roundTrip(allowing, new Sides(EnumSet.of(Side.BUY)))).isEqualTo(new Sides(EnumSet.of(Side.BUY)));
    }

    @Test
    void serializableJdkValuesGoThroughTheAllowListFallback() {
        List<Object> values = List.of(new BigDecimal("123.456"), Instant.ofEpochSecond(1, 2), Duration.ofMillis(5),
                UUID.randomUUID(), new String[] {"a", null});
        for (Object v : values) {
            assertThat(roundTrip(codec, v)).isEqualTo(v);
        }
        Object deque = roundTrip(codec, new java.util.ArrayDeque<>(List.of(1, 2)));
        assertThat(deque).isInstanceOf(java.util.ArrayDeque.class);
        Object ex = roundTrip(codec, new IllegalStateException("boom"));
        assertThat((Throwable) ex).isInstanceOf(IllegalStateException.class).hasMessage("boom");
    }

    @Test
    void serializableLambdasRunAfterDecoding() {
        int offset = 7;
        Function<Integer, Integer> f = (Function<Integer, Integer> & java.io.Serializable) x -> x + offset;
        List<?> back = (List<?>) roundTrip(BuiltinCodec.taskCodec(), List.of(f, "and a string"));
        @SuppressWarnings("unchecked")
        Function<Integer, Integer> g = (Function<Integer, Integer>) back.get(0);
        assertThat(g.apply(1)).isEqualTo(8);
    }

    @Test
    void anApplicationsSerializableClassKeepsItsTypeOnceAllowed() {
        Codec allowing = BuiltinCodec.builder().allowClasses(Point.class, MyList.class).build();
        Point p = new Point(3, 4);
        assertThat(roundTrip(allowing, p)).isEqualTo(p);
        MyList mine = new MyList();
        mine.add("x");
        assertThat(roundTrip(allowing, mine)).isInstanceOf(MyList.class).isEqualTo(List.of("x"));
    }

    private Object throughPlainSinkAndSource(Object v) {
        CodecTesting.PlainSink sink = new CodecTesting.PlainSink();
        codec.encode(v, sink);
        byte[] bytes = sink.bytes.toByteArray();
        assertThat(bytes).isEqualTo(encode(codec, v));
        return codec.decode(new CodecTesting.PlainSource(bytes));
    }

    static final class Point implements java.io.Serializable {
        final int x;
        final int y;

        Point(int x, int y) {
            this.x = x;
            this.y = y;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Point p && p.x == x && p.y == y;
        }

        @Override
        public int hashCode() {
            return 31 * x + y;
        }
    }

    static final class MyList extends ArrayList<String> {
    }
}
