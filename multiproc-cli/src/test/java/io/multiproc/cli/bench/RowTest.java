package io.multiproc.cli.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The medians {@code bench --repeat N} prints. */
class RowTest {

    @Test
    void medianTakesEachColumnsMedianAndTheRatiosRange() {
        List<Row> runs = List.of(row(1.0, 3.0, 3.0), row(2.0, 3.0, 1.5), row(4.0, 2.0, 0.5));
        Row m = Row.median(runs);
        assertThat(m.javaTotal()).isEqualTo(2.0);
        assertThat(m.pythonTotal()).isEqualTo(3.0);
        assertThat(m.ratio()).isEqualTo(1.5);
        assertThat(m.javaWork()).isNaN();
        assertThat(m.phase()).isEqualTo("first run");
        assertThat(m.notes()).startsWith("median of 3 runs, ratio 0.5x to 3.0x; last run: run with 4.0");
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwoAndOfOneRunIsThatRun() {
        Row one = row(1.0, 2.0, 2.0);
        assertThat(Row.median(List.of(one))).isSameAs(one);
        assertThat(Row.median(List.of(row(1.0, 2.0, 2.0), row(3.0, 2.0, 0.5))).javaTotal()).isEqualTo(2.0);
    }

    @Test
    void jsonCarriesThePhaseAndNullForWhatWasNotMeasured() {
        assertThat(row(1.0, 2.0, 2.0).json()).contains("\"phase\":\"first run\"").contains("\"java_work_s\":null")
                .contains("\"ratio\":2.00000");
    }

    @Test
    void jsonEscapesControlCharactersOfAFailedRowsNotes() {
        Row failed = new Row("x", Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                "failed: line one\nline \"two\"\t\u0001", "failed");
        assertThat(failed.json()).contains("\"notes\":\"failed: line one\\nline \\\"two\\\"\\t\\u0001\"}")
                .doesNotContainPattern("[\\x00-\\x1f]");
    }

    private static Row row(double java, double python, double ratio) {
        return new Row("s", java, Double.NaN, python, Double.NaN, ratio, "run with " + java, "first run");
    }
}
