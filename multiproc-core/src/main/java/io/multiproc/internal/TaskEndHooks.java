package io.multiproc.internal;

import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What a child JVM runs when its task has returned (or thrown), before it waits for the task's
 * non-daemon threads as a JVM's main does: a library whose threads are infrastructure, not the task's
 * (a Redis client's event loop and timer, which Redisson makes non-daemon), closes them here so the
 * child exits. Hooks stay registered and run after every task, in registration order, on the child's main thread; a hook that throws is
 * skipped. Not called in the parent JVM (it exits the JVM's own way).
 */
public final class TaskEndHooks {
    private static final CopyOnWriteArrayList<Runnable> HOOKS = new CopyOnWriteArrayList<>();

    private TaskEndHooks() {
    }

    /** Adds {@code hook} (once: registering the same instance again does nothing). */
    public static void register(Runnable hook) {
        HOOKS.addIfAbsent(hook);
    }

    /** Runs every registered hook; called by the child's main after the task. */
    public static void runAll() {
        for (Runnable hook : HOOKS) {
            try {
                hook.run();
            } catch (RuntimeException ignored) {
                // one library failing to close must not keep the child from exiting
            }
        }
    }
}
