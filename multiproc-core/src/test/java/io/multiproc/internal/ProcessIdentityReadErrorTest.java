package io.multiproc.internal;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Only a missing /proc entry (or ESRCH while reading it) means a process is gone. Any other failure to
 * read it (EMFILE, ENOMEM, EACCES) used to count as "dead" too: a sweep then unlinked segments a live
 * process mapped, and a waiter took a lock over from a live holder.
 */
class ProcessIdentityReadErrorTest {

    @Test
    void aMissingProcEntryIsGoneAndOtherReadFailuresAreNot() {
        IOException missing = catchThrowableOfType(IOException.class,
                () -> Files.readString(Path.of("/proc", "999999999", "stat")));
        assertThat(ProcessIdentity.gone(missing)).as(String.valueOf(missing)).isTrue();
        assertThat(ProcessIdentity.gone(new IOException("No such process"))).as("ESRCH: exited while read").isTrue();
        assertThat(ProcessIdentity.gone(new FileSystemException("/proc/42/stat: Too many open files"))).isFalse();
        assertThat(ProcessIdentity.gone(new IOException("Cannot allocate memory"))).isFalse();
        assertThat(ProcessIdentity.gone(new java.nio.file.AccessDeniedException("/proc/42/stat"))).isFalse();
    }

    @Test
    void aLiveProcessIsAliveAndAnExitedOneIsNot() throws Exception {
        assertThat(ProcessIdentity.current().isAlive()).isTrue();
        assertThat(ProcessIdentity.isAlive(ProcessIdentity.current().token())).isTrue();
        Process p = new ProcessBuilder("sleep", "30").start();
        try {
            ProcessIdentity id = ProcessIdentity.of(p.pid()).orElseThrow();
            assertThat(id.isAlive()).isTrue();
            p.destroyForcibly().waitFor();
            assertThat(id.isAlive()).isFalse();
            assertThat(ProcessIdentity.isAlive(id.token())).isFalse();
        } finally {
            p.destroyForcibly();
        }
    }
}
