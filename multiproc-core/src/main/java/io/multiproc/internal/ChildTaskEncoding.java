package io.multiproc.internal;

import java.util.function.Supplier;

/**
 * Whether this thread is encoding a child's task, which travels over the child's stdin (a pipe only the
 * parent and the child hold) and never through a file or shared memory. A shared object whose handle
 * may carry a secret on that channel only (a remote manager's authkey, decision 116) asks
 * {@link #active()} in its {@code writeReplace}. Thread-confined; brackets nest.
 *
 * <pre>{@code
 * byte[] task = ChildTaskEncoding.encode(() -> TaskCodec.encode(target));   // ChildProcess.start
 * }</pre>
 *
 * <p>Not part of the public API.
 */
public final class ChildTaskEncoding {
    private static final ThreadFlag ENCODING = new ThreadFlag();

    private ChildTaskEncoding() {
    }

    /** Runs {@code encode} (the encoding of one child task) with {@link #active()} true on this thread. */
    public static <T> T encode(Supplier<T> encode) {
        return ENCODING.during(encode);
    }

    /** True inside {@link #encode} on this thread. */
    public static boolean active() {
        return ENCODING.isSet();
    }
}
