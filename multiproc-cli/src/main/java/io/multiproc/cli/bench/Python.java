package io.multiproc.cli.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
        if (needsNumpy(script) && !hasNumpy()) {
            System.err.println("multiproc bench: CPython's side of " + script + " not run: python3 has no numpy "
                    + "(python3 -m pip install numpy)");
            return Optional.empty();
        }
        List<String> cmd = new ArrayList<>(List.of("python3", scripts.resolve(script).toString()));
        cmd.addAll(List.of(args));
        return runCommand(cmd);
    }

    private boolean needsNumpy(String script) {
        try {
            return Files.readString(scripts.resolve(script)).contains("import numpy");
        } catch (IOException e) {
            return false; // the run itself reports the missing script
        }
    }

    // written and read only by the bench's one thread
    private Boolean numpy;

    private boolean hasNumpy() {
        if (numpy == null) {
            try {
                Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                numpy = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
                p.destroyForcibly();
            } catch (IOException e) {
                numpy = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return numpy;
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
        return runCommand(cmd, LIMIT);
    }

    /** How long one script or program may run before it is killed (the longest take about a minute). */
    static final Duration LIMIT = Duration.ofMinutes(10);

    /** {@link #runCommand(List)} that kills {@code cmd} after {@code limit}: a hung script fails its row, not the run. */
    static Optional<Map<String, String>> runCommand(List<String> cmd, Duration limit) {
        try {
            Quiet.await(Quiet.MAX_WAIT); // NOTE: the spares that replace a Java side's children boot and warm for seconds
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Finished done = finish(p, limit);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (done.timedOut()) {
                System.err.println("multiproc bench: " + String.join(" ", cmd) + " did not finish within "
                        + limit.toSeconds() + " s and was killed");
                return Optional.empty();
            }
            if (done.exit() != 0) {
                System.err.println("multiproc bench: " + String.join(" ", cmd) + " exited with " + done.exit());
                return Optional.empty();
            }
            String out = done.out();
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

    /** A process's end: its exit code and stdout, or {@code timedOut} (then it was killed). */
    record Finished(boolean timedOut, int exit, String out) {
    }

    /**
     * Reads {@code p}'s stdout while waiting at most {@code limit} for it to exit, then kills it: reading
     * stdout to its end first would wait for as long as the process (or a child holding its stdout) lives.
     */
    static Finished finish(Process p, Duration limit) throws InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(); // its methods are synchronized
        Thread reader = Thread.ofVirtual().name("multiproc-bench-stdout").start(() -> {
            try {
                p.getInputStream().transferTo(out);
            } catch (IOException closed) {
                // closed below: a grandchild kept the pipe open after the process exited
            }
        });
        try {
            if (!p.waitFor(limit.toNanos(), TimeUnit.NANOSECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                return new Finished(true, -1, out.toString(StandardCharsets.UTF_8));
            }
            reader.join(Duration.ofSeconds(10));
            return new Finished(false, p.exitValue(), out.toString(StandardCharsets.UTF_8));
        } finally {
            if (p.isAlive()) { // interrupted
                p.destroyForcibly();
            }
            try {
                p.getInputStream().close();
            } catch (IOException ignored) {
                // nothing more to read
            }
        }
    }

    static double num(Optional<Map<String, String>> values, String key) {
        return values.map(v -> v.get(key)).map(Double::parseDouble).orElse(Double.NaN);
    }
}
