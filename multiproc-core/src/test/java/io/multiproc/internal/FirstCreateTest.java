package io.multiproc.internal;

import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What a program's first shared object costs: no native linking, no SecureRandom, space still reserved. */
@ExtendWith(ReapChildrenCheckShm.class)
class FirstCreateTest {

    @Test
    void firstSmallCreatesReserveTheirMemoryWithoutLinkingNativeCallsOrSecureRandom() throws Exception {
        long size = 3 * 1024 * 1024 + 5;
        String out = runFresh(size);
        assertThat(out).contains("value=42").contains("size=" + size).contains("nonzero=0")
                .contains("fallocateLinked=false");
        long allocated = Long.parseLong(out.lines().filter(l -> l.startsWith("allocated="))
                .findFirst().orElseThrow().substring("allocated=".length()));
        assertThat(allocated).as("tmpfs pages allocated at create").isGreaterThanOrEqualTo(size);
        // -verbose:class lines name each class as it loads.
        assertThat(out).doesNotContain("java.security.SecureRandom ")
                .doesNotContain("io.multiproc.internal.Native$Files ")
                .doesNotContain("jdk.internal.foreign.abi.DowncallLinker ");
    }

    @Test
    void randomNamesAreFreshHexOfTheAskedLength() {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String n = ShmFiles.randomName("t_", 8);
            assertThat(n).matches("t_[0-9a-f]{16}");
            names.add(n);
        }
        assertThat(names).hasSize(10_000);
        assertThat(ShmFiles.randomName("", 3)).matches("[0-9a-f]{6}");
    }

    private static String runFresh(long size) throws Exception {
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xlog:class+load=info:stdout", "-cp",
                System.getProperty("java.class.path"), FirstCreateMain.class.getName(), Long.toString(size)))
                .redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            return out;
        } finally {
            p.destroyForcibly();
        }
    }
}
