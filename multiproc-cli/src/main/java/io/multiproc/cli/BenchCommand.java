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
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Run scenario benchmarks: Java beside CPython's multiprocessing, in the same run.",
                "Needs python3 with numpy on the PATH for the CPython side (without them only Java's columns are filled).",
                "Progress goes to stderr while a scenario runs; the summary table (or --json rows) to stdout.",
                "",
                "Columns:",
                "  java total s / cpython total s   seconds for the whole scenario: starting processes, setup, work, joining",
                "  java work s / cpython work s     seconds for the timed work phase only (see docs/decisions/004)",
                "  ratio                            CPython seconds / Java seconds for the work phase (or per start+join);",
                "                                   above 1: Java is faster",
                "  notes                            what the row measures and checks (for example 'lost 0' updates)"})
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

    @Override
    public Integer call() throws Exception {
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
        // Progress goes to stderr as each scenario runs; the table is printed whole at the end so that it is
        // not interleaved with progress in a terminal (JSON rows stream as they come, one per line).
        List<Row> rows = new ArrayList<>();
        int done = 0;
        for (String n : names) {
            done++;
            System.err.printf(Locale.ROOT, "multiproc bench: [%d/%d] %s ...%n", done, names.size(), n);
            long start = System.nanoTime();
            for (Row r : bench.run(n)) {
                if (json) {
                    System.out.println(r.json());
                }
                rows.add(r);
            }
            System.err.printf(Locale.ROOT, "multiproc bench: [%d/%d] %s done in %.1f s%n", done, names.size(), n,
                    (System.nanoTime() - start) / 1e9);
        }
        if (!json) {
            System.out.printf(Locale.ROOT, "%-40s %12s %12s %14s %14s %8s  %s%n", "scenario", "java total s", "java work s",
                    "cpython total s", "cpython work s", "ratio", "notes");
            rows.forEach(r -> System.out.println(table(r)));
        }
        if (!json) {
            System.out.println(bench.pythonMissing().map(why -> "CPython side not run: " + why)
                    .orElse("ratio = CPython seconds / Java seconds for the work phase (or per start+join); above 1: Java is faster"));
        }
        return 0;
    }

    private static String table(Row r) {
        return String.format(Locale.ROOT, "%-40s %12s %12s %14s %14s %8s  %s", r.scenario(), f(r.javaTotal()), f(r.javaWork()),
                f(r.pythonTotal()), f(r.pythonWork()), Double.isNaN(r.ratio()) ? "-" : String.format(Locale.ROOT, "%.1fx", r.ratio()), r.notes());
    }

    private static String f(double seconds) {
        return Double.isNaN(seconds) ? "-" : String.format(Locale.ROOT, "%.4f", seconds);
    }
}
