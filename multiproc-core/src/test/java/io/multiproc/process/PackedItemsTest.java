package io.multiproc.process;

import io.multiproc.codec.Codec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Map chunks of Integers, Longs or Doubles travel as primitive arrays; anything else as the List it is. */
class PackedItemsTest {
    private final Codec codec = TaskCodec.codec();

    @Test
    void listsOfOneBoxedNumberTypeTravelAsPrimitiveArraysAndComeBackEqual() {
        assertThat(PackedItems.pack(codec, List.of(1, -2, Integer.MAX_VALUE))).isEqualTo(new int[] {1, -2, Integer.MAX_VALUE});
        assertThat(PackedItems.pack(codec, new LinkedList<>(List.of(1L << 40, -1L)))).isEqualTo(new long[] {1L << 40, -1L});
        assertThat(PackedItems.pack(codec, List.of(0.5, -0.0, Double.NaN))).isEqualTo(new double[] {0.5, -0.0, Double.NaN});
        for (List<?> items : List.of(List.of(1, 2, 3), List.of(4L, 5L), List.of(6.5, Double.NEGATIVE_INFINITY))) {
            byte[] task = PoolFrames.task(7, PoolFrames.MAP, new byte[0], codec, items);
            assertThat(PackedItems.unpack(PoolFrames.decodeTask(codec, task).payload())).isEqualTo(items);
            byte[] reply = PoolFrames.reply(7, PoolFrames.OK, codec, PackedItems.applyPacked(codec, x -> x, items));
            assertThat(PackedItems.unpack(PoolFrames.replyPayload(codec, reply))).isEqualTo(items);
        }
    }

    @Test
    void aWorkersMapLoopAppliesTheFunctionToEveryKindOfChunkAndPacksWhatItCan() {
        java.util.function.Function<Object, Object> half = x -> ((Number) x).doubleValue() / 2;
        java.util.function.Function<Object, Object> same = x -> x;
        assertThat(PackedItems.applyPacked(codec, half, new int[] {2, 5})).isEqualTo(new double[] {1.0, 2.5});
        assertThat(PackedItems.applyPacked(codec, same, new long[] {1L << 40})).isEqualTo(new long[] {1L << 40});
        assertThat(PackedItems.applyPacked(codec, same, new double[] {0.25})).isEqualTo(new double[] {0.25});
        assertThat(PackedItems.applyPacked(codec, same, new LinkedList<>(List.of("a", "b")))).isEqualTo(List.of("a", "b"));
        assertThat(PackedItems.applyPacked(codec, same, new LinkedList<>(List.of(3, 4)))).isEqualTo(new int[] {3, 4});
        assertThat(PackedItems.applyPacked(codec, same, new int[0])).isEqualTo(List.of());
        assertThat(PackedItems.applyPacked(codec, same, List.of())).isEqualTo(List.of());

        assertThat(PackedItems.applyPacked(codec, x -> x, Arrays.asList(new Object[] {1, 2}))).isEqualTo(new int[] {1, 2});
        assertThat(PackedItems.applyPacked(codec, x -> x, Arrays.asList(new Object[] {1L, 2L}))).isEqualTo(new long[] {1L, 2L});
        assertThat(PackedItems.applyPacked(codec, x -> x, Arrays.asList(new Object[] {1.5, 2.0}))).isEqualTo(new double[] {1.5, 2.0});
        for (Object[] mixed : List.of(new Object[] {1, 2L}, new Object[] {1, null}, new Object[] {null, 1}, new Object[] {"x"}, new Object[0])) {
            assertThat(PackedItems.applyPacked(codec, x -> x, Arrays.asList(mixed))).as("results %s", java.util.Arrays.asList(mixed))
                    .isEqualTo(java.util.Arrays.asList(mixed));
        }
    }

    @Test
    void aResultOfAnotherTypeMidChunkKeepsEveryResultInOrder() {
        // the first result picks the packed array; a later Long, null or String must not lose the earlier ones
        java.util.function.Function<Object, Object> oddOnes = x -> {
            int v = (Integer) x;
            return v == 2 ? (Object) 20L : v == 3 ? null : v == 4 ? "four" : (Object) (v * 10);
        };
        assertThat(PackedItems.applyPacked(codec, oddOnes, new int[] {0, 1, 2, 3, 4, 5}))
                .isEqualTo(Arrays.asList(0, 10, 20L, null, "four", 50));
        java.util.function.Function<Object, Object> longsThenInt = x -> (Integer) x < 2 ? (Object) ((Integer) x * 1L) : (Object) 7;
        assertThat(PackedItems.applyPacked(codec, longsThenInt, new int[] {0, 1, 2})).isEqualTo(Arrays.asList(0L, 1L, 7));
        java.util.function.Function<Object, Object> doublesThenNull = x -> (Integer) x == 0 ? 0.5 : null;
        assertThat(PackedItems.applyPacked(codec, doublesThenNull, new int[] {0, 1})).isEqualTo(Arrays.asList(0.5, null));
        java.util.function.Function<Object, Object> nullFirst = x -> (Integer) x == 0 ? null : x;
        assertThat(PackedItems.applyPacked(codec, nullFirst, new int[] {0, 1})).isEqualTo(Arrays.asList(null, 1));
    }

    @Test
    void packingMakesTheMessageAboutFourBytesAnInt() {
        List<Integer> items = new ArrayList<>();
        for (int i = 0; i < 125_000; i++) {
            items.add(i * i);
        }
        byte[] task = PoolFrames.task(1, PoolFrames.MAP, new byte[0], codec, items);
        assertThat(task.length).isBetween(500_000, 500_100); // under half the pipe's 1 MiB ring: no spill
    }

    @Test
    void mixedNullOrOtherItemsAndUserCodecsTravelAsTheListItIs() {
        List<Object> mixed = Arrays.asList(1, 2L);
        List<Integer> withNull = Arrays.asList(1, null, 3);
        List<String> strings = List.of("a", "b");
        assertThat(PackedItems.pack(codec, mixed)).isSameAs(mixed);
        assertThat(PackedItems.pack(codec, withNull)).isSameAs(withNull);
        assertThat(PackedItems.pack(codec, strings)).isSameAs(strings);
        assertThat(PackedItems.pack(codec, List.of())).isEqualTo(List.of());
        Codec user = new Codec() {
            @Override
            public void encode(Object value, io.multiproc.codec.ByteSink out) {
            }

            @Override
            public Object decode(io.multiproc.codec.ByteSource in) {
                return null;
            }
        };
        List<Integer> ints = List.of(1, 2);
        assertThat(PackedItems.pack(user, ints)).isSameAs(ints);
        assertThat(PackedItems.applyPacked(user, x -> x, Arrays.asList(new Object[] {1, 2}))).isEqualTo(List.of(1, 2));
        assertThat(PackedItems.applyPacked(user, x -> x, new int[] {1, 2})).isEqualTo(List.of(1, 2));
        assertThatThrownBy(() -> PackedItems.unpack("x")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("java.lang.String");
    }
}
