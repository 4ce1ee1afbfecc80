package io.multiproc.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs the project's CPython scripts (bench/python/NAME.py), which print {@code key=value} lines.
 */
final class Python {
    private final Path scripts;
    private final String missing;

    private Python(Path scripts, String missing) {
        this.scripts = scripts;
        this.missing = missing;
    }

    static Python find() {
        Path home = Path.of(System.getProperty("multiproc.home", "."));
        Path scripts = home.resolve("bench/python");
        if (!Files.isDirectory(scripts)) {
            return new Python(scripts, "no bench/python scripts under " + home.toAbsolutePath());
        }
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return new Python(scripts, "python3 did not run");
            }
        } catch (IOException e) {
            return new Python(scripts, "python3 not found");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Python(scripts, "interrupted");
        }
        return new Python(scripts, null);
    }

    /** Why CPython's side cannot run, if it cannot. */
    Optional<String> missing() {
        return Optional.ofNullable(missing);
    }

    /** Runs {@code script} with {@code args}; empty if python3 is missing or the script failed. */
    Optional<Map<String, String>> run(String script, String... args) {
        if (missing != null) {
            return Optional.empty();
        }
        List<String> cmd = new ArrayList<>(List.of("python3", scripts.resolve(script).toString()));
        cmd.addAll(List.of(args));
        return runCommand(cmd);
    }

    /** The result checks a script or program may print; anything but 1 means its result was wrong. */
    private static final List<String> CHECKS = List.of("ok", "sum_ok", "verified");

    /**
     * Runs {@code cmd} (stderr inherited) once this program's own processes are quiet ({@link Quiet}),
     * and parses its {@code key=value} stdout lines, adding {@code process_s}: the process's wall time
     * from start to exit. Empty if it failed: it exited
     * with a nonzero code, or one of its {@link #CHECKS} says its result was wrong (a time for wrong work
     * is no benchmark); stderr says which.
     */
    static Optional<Map<String, String>> runCommand(List<String> cmd) {
        try {
            Quiet.await(Quiet.MAX_WAIT); // NOTE: the spares that replace a Java side's children boot and warm for seconds
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = p.waitFor();
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (exit != 0) {
                System.err.println("multiproc bench: " + String.join(" ", cmd) + " exited with " + exit);
                return Optional.empty();
            }
            Map<String, String> values = new LinkedHashMap<>();
            for (String line : out.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    values.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
            for (String flag : CHECKS) {
                String v = values.get(flag);
                if (v != null && !v.equals("1")) {
                    System.err.println("multiproc bench: " + String.join(" ", cmd) + " reported " + flag + "=" + v
                            + ": a wrong result, its numbers are left out");
                    return Optional.empty();
                }
            }
            values.put("process_s", Double.toString(seconds));
            return Optional.of(values);
        } catch (IOException e) {
            System.err.println("multiproc bench: cannot run " + String.join(" ", cmd) + ": " + e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    static double num(Optional<Map<String, String>> values, String key) {
        return values.map(v -> v.get(key)).map(Double::parseDouble).orElse(Double.NaN);
    }
}
