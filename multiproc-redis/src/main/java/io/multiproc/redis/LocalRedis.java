package io.multiproc.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway {@code redis-server} (or {@code valkey-server}) on a free loopback port with no persistence:
 * what the tests, {@code multiproc bench --scenario redis-*} and a first try of {@link RedisManager} use.
 * The server is this JVM's child; {@link #close()} (or this JVM's exit) stops it and deletes its directory.
 *
 * <pre>{@code
 * try (LocalRedis redis = LocalRedis.start();
 *      Manager m = RedisManager.connect(redis.url())) {
 *     m.list("jobs").add("first");
 * }
 * }</pre>
 *
 * <p>The executable is {@code $MULTIPROC_REDIS_SERVER} if set, else {@code redis-server} or
 * {@code valkey-server} on the PATH ({@code bin/test} installs the Debian package {@code redis-server} when
 * it is missing and the user may install packages).
 */
public final class LocalRedis implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(15);
    private static final int PORT_ATTEMPTS = 5;

    private final String executable;
    private final List<String> extraArgs;
    private final Path dir;
    private final int port;
    private final Thread reaper;
    // written and read only by threads of this JVM under this object's monitor
    private Process process;

    private LocalRedis(String executable, List<String> extraArgs, Path dir, int port) {
        this.executable = executable;
        this.extraArgs = List.copyOf(extraArgs);
        this.dir = dir;
        this.port = port;
        this.reaper = new Thread(this::destroyNow, "mp-local-redis-reaper");
    }

    /** Starts a server with no persistence on a free loopback port and waits until it answers PING. */
    public static LocalRedis start() {
        return start(List.of());
    }

    /**
     * Starts a server with {@code extraArgs} appended to its command line (for example
     * {@code List.of("--cluster-enabled", "yes")}) and waits until it answers PING.
     */
    public static LocalRedis start(List<String> extraArgs) {
        String exe = executable();
        IllegalStateException last = null;
        for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
            Path dir;
            try {
                dir = Files.createTempDirectory("multiproc-redis-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a directory for redis-server", e);
            }
            LocalRedis redis = new LocalRedis(exe, extraArgs, dir, freePort());
            try {
                redis.launch();
                Runtime.getRuntime().addShutdownHook(redis.reaper);
                return redis;
            } catch (IllegalStateException e) {
                // another process may have taken the port between freePort() and the bind: try another
                redis.destroyNow();
                last = e;
            }
        }
        throw last;
    }

    /** The executable that {@link #start()} runs; IllegalStateException with what to install if there is none. */
    public static String executable() {
        String configured = System.getenv("MULTIPROC_REDIS_SERVER");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        for (String name : List.of("redis-server", "valkey-server")) {
            String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
            for (String d : path.split(":")) {
                if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
                    return Path.of(d, name).toString();
                }
            }
        }
        throw new IllegalStateException("no redis-server or valkey-server on PATH: install the Debian package"
                + " redis-server (bin/test does when it runs as root), or set MULTIPROC_REDIS_SERVER");
    }

    /** {@code redis://127.0.0.1:PORT}, for {@link RedisManager#connect(String)}. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** The server's process id, or -1 when it is not running. */
    public synchronized long pid() {
        return process != null && process.isAlive() ? process.pid() : -1;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the server with SIGKILL, as a crash would (its data is gone: there is no persistence). */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            waitFor(process);
            process = null;
        }
    }

    /** Starts the server again on the same port after {@link #kill()}; waits until it answers PING. */
    public synchronized void restart() {
        kill();
        launch();
    }

    /** Sends one inline command and returns the server's first reply line (for example "+PONG"). */
    public String command(String inline) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host(), port), 1_000);
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) != -1 && c != '\n') {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("redis-server at " + url() + " did not answer '" + inline + "'", e);
        }
    }

    /** Stops the server and deletes its directory. */
    @Override
    public void close() {
        destroyNow();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException | IllegalArgumentException shuttingDownOrNotRegistered) {
            // the hook is running or was never added: nothing to undo
        }
    }

    private synchronized void launch() {
        List<String> cmd = new ArrayList<>(List.of(executable,
                "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--daemonize", "no", "--protected-mode", "no"));
        cmd.addAll(extraArgs);
        Path log = dir.resolve("redis.log");
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + executable + ": " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server on port " + port + " exited with "
                        + process.exitValue() + ": " + tail(log));
            }
            try {
                if ("+PONG".equals(command("PING"))) {
                    return;
                }
            } catch (UncheckedIOException notYet) {
                // not listening yet
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while redis-server was starting", e);
            }
        }
        throw new IllegalStateException("redis-server on port " + port + " did not answer PING within "
                + READY_TIMEOUT.toSeconds() + " s: " + tail(log));
    }

    private synchronized void destroyNow() {
        kill();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // the directory is in tmpdir; a leftover costs a few bytes and no correctness
        }
    }

    private static void waitFor(Process p) {
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
