package io.multiproc.codec;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link BuiltinCodec#inlineInt}: an Integer read straight from a word of up to 7 encoded bytes, or null. */
class BuiltinCodecInlineIntTest {
    private static final Codec CODEC = Codec.defaultCodec();

    @Test
    void everyIntTheCodecWritesAsAVarintReadsBackFromAWord() {
        int[] edges = {0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, 1 << 20, -(1 << 20), (1 << 27) - 1, -(1 << 27),
                1 << 27, Integer.MAX_VALUE, Integer.MIN_VALUE};
        for (int v : edges) {
            check(v);
        }
        for (int v = -70_000; v <= 70_000; v++) {
            check(v);
        }
    }

    @Test
    void otherValuesAndBytesThatAreNotExactlyOneIntAreLeftToTheDecoder() {
        for (Object v : new Object[] {5L, "abc", true, (short) 3, 2.0f, null}) {
            byte[] b = encode(v);
            if (b.length <= 7) {
                assertThat(BuiltinCodec.inlineInt(word(b), b.length)).as("%s", v).isNull();
            }
        }
        byte[] seven = encode(7);
        assertThat(BuiltinCodec.inlineInt(word(seven), seven.length + 1)).as("a trailing byte").isNull();
        byte[] big = encode(1 << 20);
        assertThat(BuiltinCodec.inlineInt(word(big), big.length - 1)).as("a cut varint").isNull();
    }

    private static void check(int v) {
        byte[] b = encode(v);
        Integer got = b.length <= 7 ? BuiltinCodec.inlineInt(word(b), b.length) : null;
        int zigzag = (v << 1) ^ (v >> 31);
        if (Integer.compareUnsigned(zigzag, 1 << 28) < 0) {                 // written as a varint INT
            assertThat(got).as("v=%d", v).isEqualTo(v);
        } else {
            assertThat(got).as("v=%d (%d bytes, a fixed-width int)", v, b.length).isNull();
        }
    }

    private static byte[] encode(Object v) {
        BufferSink out = new BufferSink(16);
        CODEC.encode(v, out);
        return out.toByteArray();
    }

    private static long word(byte[] b) {
        long w = 0;
        for (int i = 0; i < b.length; i++) {
            w |= (b[i] & 0xFFL) << (8 * i);
        }
        return w | Long.MIN_VALUE | (long) b.length << 56; // as a manager keeps it: the flag and length on top
    }
}
