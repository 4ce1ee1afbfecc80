package io.multiproc.process;

/**
 * Who a process is, as {@link ChildProcess#current()} and {@link ChildProcess#parent()} tell it
 * (CPython's {@code current_process()} and {@code parent_process()}).
 *
 * <pre>{@code
 * ChildProcess.start(() -> {
 *     ProcessInfo me = ChildProcess.current();              // pid, "ChildProcess-1", multiprocChild=true
 *     ProcessInfo parent = ChildProcess.parent().get();     // the starting JVM: "MainProcess", false
 * });
 * }</pre>
 *
 * @param pid            the process id
 * @param name           the child's name given to its builder, or {@code "MainProcess"} for a JVM that
 *                       multiproc did not start
 * @param multiprocChild true if multiproc started this process to run a task
 */
public record ProcessInfo(long pid, String name, boolean multiprocChild) {
}
