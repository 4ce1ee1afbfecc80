package io.multiproc.internal;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(ReapChildrenCheckShm.class)
class NativeFallbackTest {

    @Test
    void withoutNativeAccessEverythingWorksAndOneLineNamesTheFlag() throws Exception {
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), NoNativeAccessMain.class.getName())).start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(err).isZero();
            assertThat(out).contains("native=false").contains("size=12289").contains("value=42");
            assertThat(out).contains("huge=refused cannot reserve size=4398046511104");
            assertThat(out).contains("event=true").contains("semaphore=false").contains("condition=true");
            assertThat(err.lines().filter(l -> l.contains("--enable-native-access=ALL-UNNAMED")).count()).isEqualTo(1);
            assertThat(err).as("the one line reads as a sentence: what is slower, then the flag")
                    .contains("native access is off, so waiting (locks, events, queues) uses a slower pure-Java fallback");
            assertThat(err).doesNotContain("restricted method");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void withNativeAccessTheFallbackIsNotUsed() {
        assertThat(Native.isAvailable()).isTrue();
    }
}
