package io.multiproc.cli.bench;

/**
 * One line of the benchmark table. Seconds are NaN when not measured. {@code ratio} is CPython's
 * seconds over Java's for the compared phase: above 1 means Java is faster.
 */
public record Row(String scenario, double javaTotal, double javaWork, double pythonTotal, double pythonWork,
                  double ratio, String notes) {

    static double ratio(double python, double java) {
        return Double.isNaN(python) || Double.isNaN(java) || java <= 0 ? Double.NaN : python / java;
    }

    public String json() {
        return "{\"scenario\":" + esc(scenario) + ",\"java_total_s\":" + num(javaTotal) + ",\"java_work_s\":" + num(javaWork)
                + ",\"cpython_total_s\":" + num(pythonTotal) + ",\"cpython_work_s\":" + num(pythonWork)
                + ",\"ratio\":" + num(ratio) + ",\"notes\":" + esc(notes) + "}";
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "null" : String.format(java.util.Locale.ROOT, "%.6g", v);
    }

    private static String esc(String s) {
        return io.multiproc.cli.Json.quote(s);
    }
}
