package io.multiproc.cli;

import io.multiproc.manager.Manager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code multiproc manager serve}: its arguments. (Serving itself: ManagerServeCliTest.) */
class ManagerCommandTest {
    @TempDir
    Path dir;

    private static String errorOf(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cl = new CommandLine(new Main());
        cl.setErr(new java.io.PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
        int exit = cl.execute(args);
        assertThat(exit).isEqualTo(2);
        return err.toString(StandardCharsets.UTF_8);
    }

    private Path keyFile(String perms, String content) throws Exception {
        Path f = dir.resolve("key-" + perms);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
        return f;
    }

    @Test
    void bindMustBeHostColonPort() throws Exception {
        Path key = keyFile("rw-------", "k");
        assertThat(errorOf("manager", "serve", "--bind", "localhost", "--authkey-file", key.toString()))
                .contains("--bind=localhost must be HOST:PORT");
        assertThat(errorOf("manager", "serve", "--bind", "127.0.0.1:70000", "--authkey-file", key.toString()))
                .contains("port=70000");
        assertThat(ManagerCommand.parseBind("[::1]:5")).isEqualTo(new InetSocketAddress("::1", 5));
    }

    @Test
    void theKeyFileMustBeReadableByItsOwnerOnlyAndNotEmpty() throws Exception {
        assertThat(errorOf("manager", "serve", "--authkey-file", keyFile("rw-r--r--", "k").toString()))
                .contains("accessible to other users").contains("chmod 600");
        assertThat(errorOf("manager", "serve", "--authkey-file", keyFile("rw-------", "\n").toString()))
                .contains("is empty");
        assertThat(errorOf("manager", "serve")).contains("--authkey-file");
        assertThat(ManagerCommand.readKey(keyFile("r--------", "secret\n"))).isEqualTo("secret".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> ManagerCommand.readKey(dir)).hasMessageContaining("not a regular file");
    }

    @Test
    void aPortInUseIsAUsageErrorNamingTheBindAndTheManagerItStartedIsClosed() throws Exception {
        Path key = keyFile("rw-------", "k");
        String name = "cli-busy-" + ProcessHandle.current().pid();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String bind = "127.0.0.1:" + taken.getLocalPort();
            assertThat(errorOf("manager", "serve", "--bind", bind, "--authkey-file", key.toString(), "--name", name))
                    .contains("--bind=" + bind).contains("in use").doesNotContain("\tat ");
        }
        assertThatThrownBy(() -> Manager.attach(name)).hasMessageContaining("no manager named");
    }

    @Test
    void aHostThatDoesNotResolveIsAUsageErrorNamingIt() throws Exception {
        Path key = keyFile("rw-------", "k");
        assertThat(errorOf("manager", "serve", "--bind", "no-such-host.invalid:50000", "--authkey-file", key.toString()))
                .contains("--bind=no-such-host.invalid:50000").contains("cannot be resolved").doesNotContain("\tat ");
    }

    @Test
    void aKeyFileThatCannotBeReadIsAUsageErrorNamingIt() {
        // NOTE: a mode-000 file would do for a normal user, but root reads it; /proc/self/mem is a 0600
        // regular file whose read at offset 0 fails with EIO for everyone.
        assertThat(errorOf("manager", "serve", "--authkey-file", "/proc/self/mem"))
                .contains("--authkey-file=/proc/self/mem cannot be read").doesNotContain("\tat ");
    }

    @Test
    void aKeyFileMayBeASymlinkToAnOwnerOnlyFileAsKubernetesSecretsAre() throws Exception {
        Path link = dir.resolve("key-link");
        Files.createSymbolicLink(link, keyFile("rw-------", "secret\n"));
        assertThat(ManagerCommand.readKey(link)).isEqualTo("secret".getBytes(StandardCharsets.UTF_8));
        Path open = dir.resolve("open-link");
        Files.createSymbolicLink(open, keyFile("rw-r--r--", "secret\n"));
        assertThatThrownBy(() -> ManagerCommand.readKey(open)).hasMessageContaining("accessible to other users");
    }

    @Test
    void managerAndServeHaveHelp() {
        for (String[] args : new String[][] {{"manager", "serve", "--help"}, {"manager", "serve", "-h"},
                {"manager", "--help"}, {"help", "manager"}}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CommandLine cl = new CommandLine(new Main());
            cl.setOut(new java.io.PrintWriter(new PrintStream(out, true, StandardCharsets.UTF_8), true));
            assertThat(cl.execute(args)).as(String.join(" ", args)).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8)).as(String.join(" ", args)).contains("Usage: multiproc manager")
                    .contains("serve");
        }
    }
}
