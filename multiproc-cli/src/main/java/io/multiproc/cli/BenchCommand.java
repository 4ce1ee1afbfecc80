package io.multiproc.cli;

import io.multiproc.cli.bench.Row;
import io.multiproc.cli.bench.Scenarios;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Scenario benchmarks, Java beside CPython's multiprocessing in the same run. */
@Command(name = "bench", description = "Run scenario benchmarks: Java beside CPython's multiprocessing, in the same run.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--scenario", paramLabel = "NAME", completionCandidates = ScenarioNames.class,
            description = "Run only this scenario (repeatable): ${COMPLETION-CANDIDATES}.")
    List<String> scenarios = new ArrayList<>();

    /** The scenario names for the help text, from the one list in {@link Scenarios#NAMES}. */
    static final class ScenarioNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Scenarios.NAMES.iterator();
        }
    }

    @Option(names = "--json", description = "Print one JSON object per result row instead of the table.")
    boolean json;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1",
            description = "Run each scenario N times and print the median of each row (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Override
    public Integer call() throws Exception {
        if (repeat < 1 || repeat > 100) {
            System.err.println("multiproc bench: --repeat=" + repeat + " must be between 1 and 100");
            return 2;
        }
        List<String> names = scenarios.isEmpty() ? Scenarios.NAMES : scenarios;
        for (String n : names) {
            if (!Scenarios.NAMES.contains(n)) {
                System.err.println("multiproc bench: --scenario=" + n + " is not one of " + Scenarios.NAMES);
                return 2;
            }
        }
        Scenarios bench = Scenarios.withPython();
        // Build the AOT cache for child JVMs (once per class path) and boot the spare before timing.
        io.multiproc.process.ChildProcess.prepareFastStarts(java.time.Duration.ofSeconds(60));
        if (!json) {
            System.out.printf(Locale.ROOT, "%-40s %-12s %12s %12s %14s %14s %8s  %s%n", "scenario", "phase", "java total s",
                    "java work s", "cpython total s", "cpython work s", "ratio", "notes");
        }
        for (String n : names) {
            for (Row r : medians(bench, n)) {
                System.out.println(json ? r.json() : table(r));
            }
        }
        if (!json) {
            System.out.println(bench.pythonMissing().map(why -> "CPython side not run: " + why)
                    .orElse("ratio = CPython seconds / Java seconds: first run = the program end to end in a fresh JVM (total),"
                            + " steady state = the work phase after a warm-up (work), process-start = per start+join; above 1: Java is faster"));
        }
        return 0;
    }

    /** The scenario's rows, each the median over {@link #repeat} runs (rows matched by scenario and phase). */
    private List<Row> medians(Scenarios bench, String name) throws InterruptedException {
        java.util.Map<String, List<Row>> runs = new java.util.LinkedHashMap<>();
        for (int k = 0; k < repeat; k++) {
            for (Row r : bench.run(name)) {
                runs.computeIfAbsent(r.scenario() + "\0" + r.phase(), key -> new ArrayList<>()).add(r);
            }
        }
        return runs.values().stream().map(Row::median).toList();
    }

    private static String table(Row r) {
        return String.format(Locale.ROOT, "%-40s %-12s %12s %12s %14s %14s %8s  %s", r.scenario(), r.phase().isEmpty() ? "-" : r.phase(),
                f(r.javaTotal()), f(r.javaWork()),
                f(r.pythonTotal()), f(r.pythonWork()), Double.isNaN(r.ratio()) ? "-" : String.format(Locale.ROOT, "%.1fx", r.ratio()), r.notes());
    }

    private static String f(double seconds) {
        return Double.isNaN(seconds) ? "-" : String.format(Locale.ROOT, "%.4f", seconds);
    }
}
