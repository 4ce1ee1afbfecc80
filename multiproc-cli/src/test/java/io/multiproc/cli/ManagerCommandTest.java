package io.multiproc.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
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
}
