package io.multiproc.process;

/**
 * A child JVM could not start its task: it could not load the task's classes, or it died before it
 * said it had. Thrown by {@link ChildProcess#start()}; the child is gone by then.
 *
 * <pre>{@code
 * try {
 *     ChildProcess.start(task);
 * } catch (ChildStartException e) {
 *     // e.getMessage(): "child 'ChildProcess-1' (pid 4242) could not load its task: ClassNotFoundException:
 *     //  com.example.Hello ... give the child the classes: ChildProcess.builder().classPath(...)"
 *     // e.getCause(): the child's exception, re-created here
 * }
 * }</pre>
 */
public final class ChildStartException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private ChildStartException(String message, Throwable cause) {
        super(message, cause);
    }

    static ChildStartException couldNotLoad(ChildProcess child, long pid, Throwable cause) {
        return new ChildStartException("child '" + child.name() + "' (pid " + pid + ") could not load its task: "
                + rootMessage(cause) + ". The child's class path is this JVM's java.class.path ("
                + System.getProperty("java.class.path") + "), but this JVM loaded the task's classes"
                + " with another class loader (mvn exec:java, Spring Boot, jshell, java Hello.java, a plugin"
                + " loader): give the child the classes with ChildProcess.builder().classPath(List.of(Path.of(\"...\")))"
                + " (the directories or jars they come from; a Pool's workers: Pool.builder().jvmOptions(List.of(\"-cp\","
                + " \"...\")) with the whole class path); a class compiled in memory (java Hello.java, jshell)"
                + " must be compiled to a directory or jar first", cause);
    }

    static ChildStartException diedAtStart(ChildProcess child, long pid, int exitValue) {
        return new ChildStartException("child '" + child.name() + "' (pid " + pid + ") exited with code " + exitValue
                + " before it loaded its task (its stderr says why; \"Could not find or load main class "
                + Launcher.MAIN_CLASS + "\" means multiproc itself is not on java.class.path, as in a Spring Boot"
                + " fat jar: add its jar with ChildProcess.builder().classPath(...), or for a Pool, which has no"
                + " classPath, give its workers a whole class path: Pool.builder().jvmOptions(List.of(\"-cp\", \"...\"))"
                + " with multiproc's jar and the application's classes, extracted from the fat jar)", null);
    }

    /** The innermost "Class: message" of the chain: the missing class's name is there. */
    private static String rootMessage(Throwable t) {
        Throwable root = t;
        for (int i = 0; i < 32 && root.getCause() != null; i++) {
            root = root.getCause();
        }
        String m = root.getMessage();
        String cls = root instanceof io.multiproc.RemoteException r ? r.remoteClassName() : root.getClass().getSimpleName();
        return cls + (m == null ? "" : ": " + m);
    }
}
