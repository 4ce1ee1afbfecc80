/**
 * multiproc: Python's {@code multiprocessing} for the JVM (child JVMs, pools, queues and pipes, shared
 * values, cross-process locks, shared memory, managers).
 *
 * <p>On the module path, require it and give it native access (futex waits, parent-death signal; without
 * it the library falls back to slower pure-Java waiting and logs one line):
 * <pre>{@code
 * module my.app {
 *     requires io.multiproc;
 *     opens my.app.data to io.multiproc;   // only for records that are not Serializable and cross processes
 * }
 * // java --enable-native-access=io.multiproc --module-path mods -m my.app/my.app.Main
 * }</pre>
 * Child JVMs get the parent's module path, every module of the boot layer that came from it, and native
 * access for {@code io.multiproc}: a task's lambdas load in the child as in the parent and need no
 * {@code opens}. Records that are not {@code Serializable} are rebuilt through their constructor, so their
 * package must be open to {@code io.multiproc}; the error says which line to add.
 *
 * <p>Exported: the packages of the public API. {@code io.multiproc.internal} and the manager's
 * implementation packages ({@code io.multiproc.manager.local}, {@code io.multiproc.manager.remote}) are
 * not: they change without notice (decision 080).
 */
module io.multiproc {
    // the manager server's keep-alive timing; optional: without it the system's timing applies
    requires static jdk.net;

    exports io.multiproc;
    exports io.multiproc.codec;
    exports io.multiproc.manager;
    exports io.multiproc.process;
    exports io.multiproc.queue;
    exports io.multiproc.shared;
    exports io.multiproc.shm;
    exports io.multiproc.sync;
    exports io.multiproc.wait;
}
