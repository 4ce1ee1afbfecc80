package io.multiproc.testing;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestShmNamesTest {
    @Test
    void anEntryNamedByAnotherLiveTestJvmIsThatRunsNotALeakOfThisOne() throws Exception {
        Process other = new ProcessBuilder("sleep", "30").start();
        try {
            String theirs = "mpt_slpy_" + other.pid() + "_1f";
            assertThat(TestShmNames.madeByAnotherLiveRun(theirs)).isTrue();
            other.destroyForcibly().waitFor();
            assertThat(TestShmNames.madeByAnotherLiveRun(theirs)).as("its run ended: a leftover counts").isFalse();
        } finally {
            other.destroyForcibly();
        }
        assertThat(TestShmNames.madeByAnotherLiveRun(TestShmNames.unique("slpy"))).as("ours").isFalse();
        assertThat(TestShmNames.madeByAnotherLiveRun("mpt_slpy_1f")).as("no pid").isFalse();
        assertThat(TestShmNames.madeByAnotherLiveRun("psm_1234_ab")).isFalse();
    }

    @Test
    void aTagThatIsNotLowerCaseLettersIsRefused() {
        assertThatThrownBy(() -> TestShmNames.unique("a_b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tag='a_b'");
    }
}
