package io.multiproc.cli.bench;

import io.multiproc.cli.Json;

import java.util.List;
import java.util.Locale;

/**
 * One line of the benchmark table. Seconds are NaN when not measured. {@code ratio} is CPython's
 * seconds over Java's for the compared phase: above 1 means Java is faster. {@code phase} says what was
 * compared: {@code "first run"} (the user's program end to end in a fresh JVM, {@link FirstRun}),
 * {@code "steady state"} (the work phase after a JIT warm-up), or empty (the scenario says in its notes).
 */
public record Row(String scenario, double javaTotal, double javaWork, double pythonTotal, double pythonWork,
                  double ratio, String notes, String phase) {

    /** A row without a phase label. */
    public Row(String scenario, double javaTotal, double javaWork, double pythonTotal, double pythonWork,
               double ratio, String notes) {
        this(scenario, javaTotal, javaWork, pythonTotal, pythonWork, ratio, notes, "");
    }

    static double ratio(double python, double java) {
        return Double.isNaN(python) || Double.isNaN(java) || java <= 0 ? Double.NaN : python / java;
    }

    Row withPhase(String label) {
        return new Row(scenario, javaTotal, javaWork, pythonTotal, pythonWork, ratio, notes, label);
    }

    /**
     * The median of the same row over several runs: every number is the median of its runs (the ratio
     * too: the median of the ratios each measured within one run), and the notes give the ratio's range
     * and the last run's notes.
     */
    public static Row median(List<Row> runs) {
        Row last = runs.getLast();
        if (runs.size() == 1) {
            return last;
        }
        double[] ratios = runs.stream().mapToDouble(Row::ratio).filter(r -> !Double.isNaN(r)).sorted().toArray();
        String range = ratios.length == 0 ? "" : String.format(Locale.ROOT, ", ratio %.1fx to %.1fx", ratios[0], ratios[ratios.length - 1]);
        return new Row(last.scenario, median(runs, Row::javaTotal), median(runs, Row::javaWork), median(runs, Row::pythonTotal),
                median(runs, Row::pythonWork), median(runs, Row::ratio),
                "median of " + runs.size() + " runs" + range + "; last run: " + last.notes, last.phase);
    }

    private static double median(List<Row> runs, java.util.function.ToDoubleFunction<Row> column) {
        double[] v = runs.stream().mapToDouble(column).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    public String json() {
        return "{\"scenario\":" + Json.quote(scenario) + ",\"phase\":" + Json.quote(phase) + ",\"java_total_s\":" + num(javaTotal)
                + ",\"java_work_s\":" + num(javaWork) + ",\"cpython_total_s\":" + num(pythonTotal) + ",\"cpython_work_s\":" + num(pythonWork)
                + ",\"ratio\":" + num(ratio) + ",\"notes\":" + Json.quote(notes) + "}";
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "null" : String.format(Locale.ROOT, "%.6g", v);
    }
}
