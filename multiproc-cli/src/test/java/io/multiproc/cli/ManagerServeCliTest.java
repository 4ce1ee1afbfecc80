package io.multiproc.cli;

import io.multiproc.manager.AuthenticationException;
import io.multiproc.manager.Manager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code multiproc manager serve} serving a real local manager over loopback. */
class ManagerServeCliTest {
    @TempDir
    Path dir;

    @Test
    void serveMakesANamedManagersObjectsReachableWithTheKey() throws Exception {
        Path keyFile = dir.resolve("key");
        Files.writeString(keyFile, "s3cret\n");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        String name = "cli-serve-" + ProcessHandle.current().pid();
        PrintStream realOut = System.out;
        PipedInputStream printed = new PipedInputStream(4096);
        System.setOut(new PrintStream(new PipedOutputStream(printed), true, StandardCharsets.UTF_8));
        int[] exit = {-1};
        Thread serving = new Thread(() -> exit[0] = new CommandLine(new Main()).execute("manager", "serve",
                "--bind", "127.0.0.1:0", "--authkey-file", keyFile.toString(), "--name", name));
        serving.start();
        try {
            String line = new BufferedReader(new InputStreamReader(printed, StandardCharsets.UTF_8)).readLine();
            Matcher at = Pattern.compile("serving manager " + name + " at 127\\.0\\.0\\.1:(\\d+)").matcher(line);
            assertThat(at.matches()).as(line).isTrue();
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(at.group(1)));
            try (Manager remote = Manager.connect(address, "s3cret".getBytes(StandardCharsets.UTF_8));
                 Manager attached = Manager.attach(name)) {
                ConcurrentMap<String, Integer> d = remote.dict("config");
                d.put("threads", 8);
                assertThat(attached.<String, Integer>dict("config").get("threads")).isEqualTo(8);
                // the README's client: the key read from the file as the server reads it
                try (Manager viaFile = Manager.connect(address, Manager.readKey(keyFile))) {
                    assertThat(viaFile.<String, Integer>dict("config").get("threads")).isEqualTo(8);
                }
            }
            assertThatThrownBy(() -> Manager.connect(address, "s3cret\n".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(AuthenticationException.class);
        } finally {
            serving.interrupt();
            serving.join(TimeUnit.SECONDS.toMillis(30));
            System.setOut(realOut);
        }
        assertThat(exit[0]).isZero();
        assertThatThrownBy(() -> Manager.attach(name)).hasMessageContaining("no manager named");
    }

    @Test
    void aBadManagerNameIsAUsageErrorNamingItNotAStackTrace() throws Exception {
        Path keyFile = dir.resolve("key");
        Files.writeString(keyFile, "s3cret\n");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        java.io.StringWriter err = new java.io.StringWriter();
        int exit = new CommandLine(new Main()).setErr(new java.io.PrintWriter(err, true))
                .execute("manager", "serve", "--bind", "127.0.0.1:0", "--authkey-file", keyFile.toString(), "--name", "a b");
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("a b").doesNotContain("\tat ");
    }
}
