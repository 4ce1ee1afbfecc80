package io.multiproc.process;

import io.multiproc.internal.PrivateDirectory;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A uid with no passwd entry (OpenShift's arbitrary uids, {@code docker run --user 12345}) is
 * {@code user.name=?} to the JDK. Its per-user directories must still be its own: named for the uid.
 * (With real users: src/test/resources/deploy/nameless-users.sh.)
 */
class NamelessUserTest {

    @Test
    void aUserTheJdkHasNoNameForGetsDirectoriesNamedForItsUid() throws Exception {
        String name = System.getProperty("user.name");
        String own = "uid" + PrivateDirectory.currentUid();
        try {
            System.setProperty("user.name", "?");
            assertThat(AotCache.directory()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir"), "multiproc-aot-" + own));
            assertThat(ChildReport.directory()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir"), "multiproc-reports-" + own));
        } finally {
            System.setProperty("user.name", name);
        }
        assertThat(AotCache.directory().getFileName().toString()).isEqualTo("multiproc-aot-" + name);
    }
}
