package io.multiproc.codec;

import java.util.Arrays;

/**
 * The classes one value has named so far, in order (see {@link WireFormat}, class ref): what the
 * encoder and the decoder of one call keep the same. Most values name one class, which takes no array.
 */
abstract sealed class ClassTable permits Encoder, Decoder {
    private Class<?> first;
    private Class<?>[] more;
    private int count;

    /** The index {@code type} was given, or -1. */
    final int indexOf(Class<?> type) {
        if (count > 0 && first == type) {
            return 0;
        }
        for (int i = 1; i < count; i++) {
            if (more[i - 1] == type) {
                return i;
            }
        }
        return -1;
    }

    /** Gives {@code type} the next index. */
    final void add(Class<?> type) {
        if (count == 0) {
            first = type;
        } else if (more == null) {
            more = new Class<?>[4];
            more[0] = type;
        } else {
            if (count - 1 == more.length) {
                more = Arrays.copyOf(more, more.length * 2);
            }
            more[count - 1] = type;
        }
        count++;
    }

    /** The class of {@code index}, or null if no class has it. */
    final Class<?> classAt(int index) {
        if (index < 0 || index >= count) {
            return null;
        }
        return index == 0 ? first : more[index - 1];
    }
}
