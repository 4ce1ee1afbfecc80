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
            byte[] reply = PoolFrames.mapReply(7, codec, items);
            assertThat(PackedItems.unpack(PoolFrames.replyPayload(codec, reply))).isEqualTo(items);
        }
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
        assertThatThrownBy(() -> PackedItems.unpack("x")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("java.lang.String");
    }
}
