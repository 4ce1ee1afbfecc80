package io.multiproc.queue;

import io.multiproc.wait.IdleStrategy;

import java.io.Serializable;

/**
 * The idle strategy of a queue or pipe travels with it: its segment records which built-in strategy
 * its creator chose (so every process waits the same way), and a handle carries a custom strategy if
 * that is {@link Serializable}. A custom strategy that is not serializable becomes
 * {@link IdleStrategy#blocking()} in other processes.
 */
final class Idles {
    static final int CUSTOM = 0;
    private static final IdleStrategy[] BUILT_IN = {null, IdleStrategy.busySpin(), IdleStrategy.yielding(),
            IdleStrategy.backoff(), IdleStrategy.blocking()};

    private Idles() {
    }

    static int code(IdleStrategy idle) {
        for (int i = 1; i < BUILT_IN.length; i++) {
            if (BUILT_IN[i] == idle) {
                return i;
            }
        }
        return CUSTOM;
    }

    /** The strategy for a recorded code; {@code custom} (or blocking) for a custom one. */
    static IdleStrategy of(int code, IdleStrategy custom) {
        if (code > 0 && code < BUILT_IN.length) {
            return BUILT_IN[code];
        }
        return custom != null ? custom : IdleStrategy.blocking();
    }

    /** What a handle carries: the custom strategy if it can travel, else nothing. */
    static IdleStrategy portable(IdleStrategy idle) {
        return code(idle) == CUSTOM && idle instanceof Serializable ? idle : null;
    }
}
