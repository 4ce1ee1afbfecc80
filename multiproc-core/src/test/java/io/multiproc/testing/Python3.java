package io.multiproc.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the real {@code python3} for interoperability tests; they are skipped when it is not installed. */
public final class Python3 {
    private Python3() {
    }

    /** Skips the calling test when python3 is not installed. */
    public static void assumePresent() {
        Assumptions.assumeTrue(runs("--version"), "python3 is not installed");
    }

    /** True if {@code python3 -c "import MODULE"} works. */
    public static boolean hasModule(String module) {
        return runs("-c", "import " + module);
    }

    private static boolean runs(String... args) {
        List<String> cmd = new ArrayList<>(List.of("python3"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code python3 -c script args...}; returns its trimmed output, failing on a non-zero exit. */
    public static String run(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
        cmd.addAll(List.of(args));
        return exec(cmd);
    }

    /** Runs {@code command} (a script file and its arguments, for example), like {@link #run}. */
    public static String exec(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PYTHONIOENCODING", "utf-8"); // non-ASCII output whatever the locale
        Process p = pb.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command.getFirst()).isTrue();
            assertThat(p.exitValue()).as("%s exit code; output:%n%s", command, out).isZero();
            return out.trim();
        } finally {
            p.destroyForcibly();
        }
    }
}
