package io.multiproc.cli;

import io.multiproc.cli.bench.Row;
import io.multiproc.cli.bench.Scenarios;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/** Scenario benchmarks, Java beside CPython's multiprocessing in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Run scenario benchmarks: Java beside CPython's multiprocessing, in one run.",
                "Needs python3 with numpy on the PATH for the CPython side (without them only",
                "Java's columns are filled). Progress goes to stderr while a scenario runs; the",
                "summary table (or --json rows) to stdout. A scenario that throws gets a 'failed'",
                "row naming the error (stack trace on stderr), the others still run, and the",
                "exit code is then 1.",
                "",
                "Columns:",
                "  phase            first run: the program end to end in a fresh JVM;",
                "                   steady state: the work phase after a warm-up",
                "  java total s /   seconds for the whole scenario: starting processes, setup,",
                "  cpython total s  work, joining",
                "  java work s /    seconds for the timed work phase only (docs/decisions/004)",
                "  cpython work s",
                "  ratio            CPython seconds / Java seconds (total for first run, work for",
                "                   steady state, per start+join for process-start); above 1:",
                "                   Java is faster",
                "  notes            what the row measures and checks (for example 'lost 0'",
                "                   updates)"})
final class BenchCommand implements Callable<Integer> {
    /** What bench runs: the scenarios of {@link Scenarios}, or in a test a stand-in whose scenario fails. */
    interface Bench {
        /** Called once before the first scenario runs. */
        default void prepare() throws InterruptedException {
        }

        List<Row> run(String name) throws InterruptedException;

        Optional<String> pythonMissing();
    }

    private final Supplier<Bench> benches;

    BenchCommand() {
        this(BenchCommand::scenarios);
    }

    BenchCommand(Supplier<Bench> benches) {
        this.benches = benches;
    }

    private static Bench scenarios() {
        Scenarios scenarios = Scenarios.withPython();
        return new Bench() {
            @Override
            public void prepare() throws InterruptedException {
                // Build the AOT cache for child JVMs (once per class path) and boot the spare before timing.
                io.multiproc.process.ChildProcess.prepareFastStarts(java.time.Duration.ofSeconds(60));
            }

            @Override
            public List<Row> run(String name) throws InterruptedException {
                return scenarios.run(name);
            }

            @Override
            public Optional<String> pythonMissing() {
                return scenarios.pythonMissing();
            }
        };
    }

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
        Bench bench = benches.get();
        bench.prepare();
        // Progress goes to stderr as each scenario runs; the table is printed whole at the end so that it is
        // not interleaved with progress in a terminal (JSON rows stream as each scenario ends).
        // NOTE: a scenario that throws costs its own rows only: the others still run, the table is printed
        // even when an interrupt or an Error ends the loop, and the exit code says that something failed
        // (CI runs `bin/multiproc bench` under set -e and must fail then).
        List<Row> rows = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        try {
            for (int i = 0; i < names.size(); i++) {
                for (Row r : medians(bench, names.get(i), (i + 1) + "/" + names.size())) {
                    if (json) {
                        System.out.println(r.json());
                    }
                    if (r.phase().equals(FAILED)) {
                        failed.add(r.scenario());
                    }
                    rows.add(r);
                }
            }
        } finally {
            if (!json) {
                printTable(rows, bench);
            }
        }
        if (!failed.isEmpty()) {
            System.err.println("multiproc bench: " + failed.size() + " scenario(s) failed: " + String.join(", ", failed));
            return 1;
        }
        return 0;
    }

    /** The phase of the row that stands for a scenario's failed runs; its numbers are NaN. */
    static final String FAILED = "failed";

    private static void printTable(List<Row> rows, Bench bench) {
        System.out.printf(Locale.ROOT, "%-40s %-12s %12s %12s %14s %14s %8s  %s%n", "scenario", "phase", "java total s",
                "java work s", "cpython total s", "cpython work s", "ratio", "notes");
        rows.forEach(r -> System.out.println(table(r)));
        System.out.println(bench.pythonMissing().map(why -> "CPython side not run: " + why)
                .orElse("ratio = CPython seconds / Java seconds: first run = the program end to end in a fresh JVM (total),"
                        + " steady state = the work phase after a warm-up (work), process-start = per start+join; above 1: Java is faster"));
    }

    /**
     * The scenario's rows, each the median over the runs of {@link #repeat} that succeeded (rows matched by
     * scenario and phase), then one {@link #FAILED} row if any run threw.
     */
    private List<Row> medians(Bench bench, String name, String position) throws InterruptedException {
        java.util.Map<String, List<Row>> runs = new java.util.LinkedHashMap<>();
        int failures = 0;
        RuntimeException lastFailure = null;
        for (int k = 0; k < repeat; k++) {
            String run = repeat > 1 ? " (run " + (k + 1) + " of " + repeat + ")" : "";
            System.err.printf(Locale.ROOT, "multiproc bench: [%s] %s%s ...%n", position, name, run);
            long start = System.nanoTime();
            List<Row> got;
            try {
                got = bench.run(name);
            } catch (RuntimeException e) {
                System.err.printf(Locale.ROOT, "multiproc bench: [%s] %s%s failed after %.1f s: %s%n", position, name, run,
                        (System.nanoTime() - start) / 1e9, e);
                e.printStackTrace(System.err);
                failures++;
                lastFailure = e;
                continue;
            }
            System.err.printf(Locale.ROOT, "multiproc bench: [%s] %s%s done in %.1f s%n", position, name, run,
                    (System.nanoTime() - start) / 1e9);
            for (Row r : got) {
                runs.computeIfAbsent(r.scenario() + "\0" + r.phase(), key -> new ArrayList<>()).add(r);
            }
        }
        List<Row> rows = new ArrayList<>(runs.values().stream().map(Row::median).toList());
        if (failures > 0) {
            String note = (repeat > 1 ? "failed in " + failures + " of " + repeat + " runs, last: " : "") + lastFailure;
            rows.add(new Row(name, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, note, FAILED));
        }
        return rows;
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
