package io.multiproc.internal;

import java.util.function.Supplier;

/**
 * A per-thread flag set for the duration of a call, nesting: the one way multiproc marks "this thread
 * is inside X" for code called deep inside X (a handle's {@code writeReplace} or {@code readResolve}
 * run by the codec) that cannot be handed a parameter.
 *
 * <pre>{@code
 * static final ThreadFlag DECODING_FRAME = new ThreadFlag();
 * Object v = DECODING_FRAME.during(() -> codec.decode(source));   // DECODING_FRAME.isSet() inside
 * }</pre>
 *
 * <p>Not part of the public API.
 */
public final class ThreadFlag {
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);

    /** Runs {@code body} with {@link #isSet()} true on this thread. */
    public <T> T during(Supplier<T> body) {
        int[] d = depth.get();
        d[0]++;
        try {
            return body.get();
        } finally {
            d[0]--;
        }
    }

    /** True inside {@link #during} on this thread. */
    public boolean isSet() {
        return depth.get()[0] > 0;
    }
}
