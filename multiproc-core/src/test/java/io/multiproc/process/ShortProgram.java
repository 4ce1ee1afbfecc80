package io.multiproc.process;

/**
 * A user's one-shot program, run in its own JVM by {@link AotCacheTest}: starts one child, joins it and
 * exits at once, long before an AOT cache training run could finish.
 */
public final class ShortProgram {
    private ShortProgram() {
    }

    public static void main(String[] args) throws InterruptedException {
        ChildProcess child = ChildProcess.start(() -> { });
        child.join();
        System.out.println("child-exit=" + child.exitCode().orElse(-1));
    }
}
