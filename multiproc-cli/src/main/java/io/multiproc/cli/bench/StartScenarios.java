package io.multiproc.cli.bench;

import io.multiproc.process.ChildProcess;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code process-start} scenario: start+join of children with an empty task, in this JVM (spares in
 * the state earlier starts left them) and as a user's fresh program would do it (a new JVM running
 * {@link StartProgram}: no spares yet, the parent's own first use included), beside CPython's same
 * programs (bench/python/process_start.py) in the same run.
 */
final class StartScenarios {
    /** Fresh programs per first-run row; the row reports their median. */
    private static final int RUNS = 3;
    /** Fresh programs for the burst and back-to-back rows, whose spread across runs is widest. */
    private static final int BURST_RUNS = 5;

    private final Python python;

    StartScenarios(Python python) {
        this.python = python;
    }

    List<Row> processStart() throws InterruptedException {
        int spares = ChildProcess.spareJvms();
        List<Row> rows = new ArrayList<>();
        double warm;
        // The AOT cache is built once per class path, in the background; a user's second run has it.
        boolean aot = ChildProcess.prepareFastStarts(Duration.ofSeconds(120));
        Optional<Map<String, String>> py = python.run("process_start.py", "--fork", "20", "--spawn", "10", "--forkserver", "10",
                "--bursts", "2,4,20", "--back-to-back", "10");
        double fork = Python.num(py, "fork_mean_s");
        double spawn = Python.num(py, "spawn_mean_s");
        String pyNote = String.format("cpython fork %s ms, forkserver %s ms, spawn %s ms", Scenarios.py("%.1f", fork * 1e3),
                Scenarios.py("%.1f", Python.num(py, "forkserver_mean_s") * 1e3), Scenarios.py("%.1f", spawn * 1e3));
        try {
            ChildProcess.setSpareJvms(0);
            double cold = median(startJoin(5, 0));
            ChildProcess.setSpareJvms(Math.max(1, spares));
            startJoin(2, 0); // a second child: spares follow (cpuCount)
            warm = median(startJoin(10, 1500));
            rows.add(new Row("process-start warm (vs fork)", warm, Double.NaN, fork, Double.NaN, Row.ratio(fork, warm),
                    String.format("java %.1f ms per start+join with a spare JVM ready (median of 10); %s", warm * 1e3, pyNote)));
            rows.add(new Row("process-start cold (vs spawn)", cold, Double.NaN, spawn, Double.NaN, Row.ratio(spawn, cold),
                    String.format("java %.1f ms per start+join, no spare (median of 5), AOT cache %s", cold * 1e3, aot ? "on" : "off")));
        } finally {
            ChildProcess.setSpareJvms(spares);
        }
        // A fresh program per repetition: it bursts 2, and 1.5 s later (its spares booted, as it prints)
        // bursts 2 again; the row is the second burst.
        List<Map<String, String>> twos = fresh(BURST_RUNS, "burst", 2, 1500);
        double two = median(twos, "again");
        rows.add(burstRow("process-start 2 at once, spares ready", two, Python.num(py, "burst_2_s"),
                String.format("java %.1f ms (%s) = %.1fx one warm start+join (target <= 2x), 1.5 s after a first burst of 2"
                        + " in a fresh program; both spares booted, ms after the first burst: %s", two * 1e3, range(twos, "again"), two / warm,
                        sparesReady(twos))));
        // First runs: a fresh JVM per run, the user's program as written.
        double first = median(fresh(RUNS, "burst", 1), "seconds");
        rows.add(new Row("process-start first in a fresh program (vs spawn)", first, Double.NaN, spawn, Double.NaN,
                Row.ratio(spawn, first), String.format("java %.1f ms: the program's first start+join, library loading included", first * 1e3)));
        List<Map<String, String>> four = fresh(BURST_RUNS, "burst", 4, 2000);
        double fourFirst = median(four, "seconds");
        double fourAgain = median(four, "again");
        rows.add(burstRow("process-start 4 at once, first burst", fourFirst, Python.num(py, "burst_4_s"),
                String.format("java %.1f ms (%s) in a fresh program (target <= 2 cold starts, 260 ms)", fourFirst * 1e3,
                        range(four, "seconds"))));
        rows.add(burstRow("process-start 4 at once, repeated burst", fourAgain, Python.num(py, "burst_4_s"),
                String.format("java %.1f ms (%s), 2 s after the first burst (target <= 3 warm start+joins); all 4 spares booted, ms after"
                        + " the first burst: %s", fourAgain * 1e3, range(four, "again"), sparesReady(four))));
        List<Map<String, String>> b2b = fresh(BURST_RUNS, "sequence", 10);
        double b2bMean = median(b2b, "mean");
        double b2bMax = median(b2b, "max");
        rows.add(new Row("process-start 10 back-to-back (vs fork)", b2bMean, Double.NaN, Python.num(py, "back_to_back_mean_s"),
                Double.NaN, Row.ratio(Python.num(py, "back_to_back_mean_s"), b2bMean),
                String.format("java mean %.1f ms (%s), slowest %.1f ms (%s) per start+join in a fresh program (target: each <= one"
                        + " cold start)", b2bMean * 1e3, range(b2b, "mean"), b2bMax * 1e3, range(b2b, "max"))));
        double twenty = median(fresh(RUNS, "burst", 20), "seconds");
        rows.add(burstRow("process-start 20 at once, first burst", twenty, Python.num(py, "burst_20_s"),
                String.format("java %.0f ms in a fresh program, %.0f ms per child", twenty * 1e3, twenty * 1e3 / 20)));
        return rows;
    }

    private static Row burstRow(String name, double java, double cpython, String notes) {
        return new Row(name + " (vs fork)", java, Double.NaN, cpython, Double.NaN, Row.ratio(cpython, java), notes);
    }

    /** Start {@code k} children, then join them all; seconds from the first start to the last join. */
    static double burst(int k) throws InterruptedException {
        long t0 = System.nanoTime();
        List<ChildProcess> children = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            children.add(ChildProcess.start(() -> { }));
        }
        for (ChildProcess c : children) {
            c.join();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        for (ChildProcess c : children) {
            check(c);
        }
        return s;
    }

    static double[] startJoin(int count, long pauseMillis) throws InterruptedException {
        double[] seconds = new double[count];
        for (int i = 0; i < count; i++) {
            if (pauseMillis > 0) {
                Thread.sleep(pauseMillis);
            }
            long t0 = System.nanoTime();
            ChildProcess c = ChildProcess.start(() -> { });
            c.join();
            seconds[i] = (System.nanoTime() - t0) / 1e9;
            check(c);
        }
        return seconds;
    }

    private static void check(ChildProcess c) {
        if (c.exitCode().orElse(-1) != 0) {
            throw new IllegalStateException("empty child exited with " + c.exitCode());
        }
    }

    /** Runs {@link StartProgram} in {@code runs} fresh JVMs and returns what each printed. */
    private static List<Map<String, String>> fresh(int runs, Object... args) throws InterruptedException {
        List<Map<String, String>> out = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), StartProgram.class.getName()));
            for (Object a : args) {
                cmd.add(String.valueOf(a));
            }
            try {
                Quiet.await(Quiet.MAX_WAIT); // this program's own spares must not share the fresh JVM's cores
                Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                Python.Finished done = Python.finish(p, Duration.ofSeconds(120));
                String text = done.out();
                if (done.timedOut() || done.exit() != 0) {
                    throw new IllegalStateException(String.join(" ", cmd) + (done.timedOut()
                            ? " did not finish within 120 s" : " exited with " + done.exit() + ": " + text));
                }
                Map<String, String> values = new LinkedHashMap<>();
                text.lines().filter(l -> l.contains("=")).forEach(l -> values.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
                out.add(values);
            } catch (IOException e) {
                throw new IllegalStateException("cannot run " + cmd, e);
            }
            Thread.sleep(500); // let the previous program's children go
        }
        return out;
    }

    private static double median(List<Map<String, String>> runs, String key) {
        double[] v = runs.stream().mapToDouble(m -> Double.parseDouble(m.get(key))).sorted().toArray();
        return v[v.length / 2];
    }

    /** "min-max ms over N runs" of {@code key}. */
    private static String range(List<Map<String, String>> runs, String key) {
        double[] v = runs.stream().mapToDouble(m -> Double.parseDouble(m.get(key))).sorted().toArray();
        return String.format("%.0f-%.0f ms over %d runs", v[0] * 1e3, v[v.length - 1] * 1e3, v.length);
    }

    /** Each run's time from the end of its first burst until its spares had booted ("not in the pause" if not). */
    private static String sparesReady(List<Map<String, String>> runs) {
        return String.join(", ", runs.stream().map(m -> {
            long ms = Long.parseLong(m.getOrDefault("spares_ready_ms", "-1"));
            return ms < 0 ? "not in the pause" : Long.toString(ms);
        }).toList());
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    private static double mean(double[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }

    /** A user's program, run in a fresh JVM by the scenario: the measured part is timed inside it. */
    public static final class StartProgram {
        private StartProgram() {
        }

        /** {@code burst K [PAUSE_MS]}: K at once (and again after PAUSE_MS); {@code sequence N}: N start+joins. */
        public static void main(String[] args) throws InterruptedException {
            int k = Integer.parseInt(args[1]);
            if (args[0].equals("sequence")) {
                double[] s = startJoin(k, 0);
                System.out.println("mean=" + mean(s));
                System.out.println("max=" + Arrays.stream(s).max().orElse(Double.NaN));
            } else {
                System.out.println("seconds=" + burst(k));
                if (args.length > 2) {
                    System.out.println("spares_ready_ms=" + awaitSpares(k, Long.parseLong(args[2])));
                    System.out.println("again=" + burst(k));
                }
            }
            System.exit(0); // spares exit with us
        }

        /**
         * Sleeps {@code pauseMillis} in steps of 10 ms, watching this JVM's children; returns when (ms into
         * the pause) {@code k} of them were booted spares (process name {@code mp-spare}), or -1.
         */
        private static long awaitSpares(int k, long pauseMillis) throws InterruptedException {
            long t0 = System.nanoTime();
            long ready = -1;
            while (System.nanoTime() - t0 < pauseMillis * 1_000_000L) {
                if (ready < 0 && ProcessHandle.current().children().filter(h -> "mp-spare".equals(comm(h.pid()))).count() >= k) {
                    ready = (System.nanoTime() - t0) / 1_000_000L;
                }
                Thread.sleep(10);
            }
            return ready;
        }

        private static String comm(long pid) {
            try {
                return java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
            } catch (IOException e) {
                return "";
            }
        }
    }
}
