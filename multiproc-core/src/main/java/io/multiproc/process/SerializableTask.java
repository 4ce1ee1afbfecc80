package io.multiproc.process;

import java.io.Serializable;

/**
 * A task for another JVM that may throw checked exceptions: what {@link ChildProcess#start(SerializableTask)}
 * and {@link ChildProcess.Builder#target(SerializableTask)} accept. A lambda is one as written; a
 * {@link SerializableRunnable} is one too (it extends this interface), so code written for it keeps working.
 *
 * <pre>{@code
 * ChildProcess p = ChildProcess.start(() -> Files.writeString(out, "done"));   // IOException allowed
 * p.join();
 * p.failure();   // Optional.empty(), or the exception the task threw, re-created in this JVM
 * }</pre>
 *
 * <p>Why one parameter type and not overloads: {@code start(SerializableRunnable)} beside
 * {@code start(SerializableTask)} makes {@code () -> {}} ambiguous (two unrelated void lambdas) or, with
 * one a subtype of the other, makes a lambda that throws a checked exception pick the non-throwing one
 * and fail to compile. One supertype takes both kinds of lambda (decision 065).
 */
@FunctionalInterface
public interface SerializableTask extends Serializable {
    void run() throws Exception;
}
