package io.multiproc.cli;

import io.multiproc.Multiproc;
import io.multiproc.redis.RedisPool;
import io.multiproc.redis.RedisPoolWorkers;
import io.multiproc.manager.remote.KeyFile;
import org.redisson.config.Config;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code multiproc worker --redis URL --pool NAME [--workers N]}: this host's share of a {@link RedisPool},
 * as worker JVMs (see {@link RedisPoolWorkers}), until stopped.
 */
@Command(name = "worker", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Run worker JVMs for a Pool across hosts (RedisPool) until stopped.",
        "Stop with Ctrl-C or SIGTERM. Callers on any host: RedisPool.connect(URL, NAME).",
        "Tasks' classes must be on this class path."})
final class WorkerCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--redis", paramLabel = "URL", required = true,
            description = "The Redis or Valkey server: redis://HOST:PORT (rediss:// for TLS). Give a password "
                    + "with --password-file: one in the URL (redis://:PASSWORD@HOST:PORT) works, but every local "
                    + "user can read it in the process list.")
    String redis;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "File holding the server's password (one trailing newline is ignored); readable by you only.")
    Path passwordFile;

    @Option(names = "--pool", paramLabel = "NAME", required = true,
            description = "The pool to serve: the name callers give RedisPool.connect (letters, digits, '.', '_', '-').")
    String pool;

    @Option(names = "--workers", paramLabel = "N",
            description = "How many worker JVMs to run on this host (default: the number of CPUs).")
    Integer workers;

    @Option(names = "--lease", paramLabel = "SECONDS", defaultValue = "5",
            description = "Heartbeat lease: if this host dies, callers fail its running chunks after about this long (default ${DEFAULT-VALUE}).")
    double leaseSeconds;

    @Override
    public Integer call() throws Exception {
        int n = workers != null ? workers : Multiproc.cpuCount();
        Duration lease = Duration.ofMillis((long) (leaseSeconds * 1000));
        Config config = new Config();
        RedisPoolWorkers running;
        try {
            config.useSingleServer().setAddress(redis);
            if (passwordFile != null) {
                byte[] password = KeyFile.read(passwordFile, "--password-file");
                config.useSingleServer().setPassword(new String(password, StandardCharsets.UTF_8));
                Arrays.fill(password, (byte) 0);
            }
            running = RedisPoolWorkers.start(config, pool, n, lease, null);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), redact(e.getMessage()));
        } catch (RuntimeException e) { // the server unreachable, the password refused: one line, no password
            System.err.println("multiproc worker: cannot serve pool " + pool + " at " + redact(redis) + ": "
                    + redact(Main.describe(e)));
            return 1;
        }
        Thread hook = new Thread(running::close, "multiproc-worker-exit");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("serving Redis pool " + pool + " at " + redact(redis) + " with " + n + " worker JVMs");
        System.out.flush();
        try {
            running.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // stopped by the embedding program (a test)
        } finally {
            running.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs now: it closes them too
            }
        }
        return 0;
    }

    /** {@code text} with the password of {@code --redis} (if it has one) replaced by {@code ***}. */
    String redact(String text) {
        if (text == null) {
            return null;
        }
        int at = redis.lastIndexOf('@');
        int scheme = redis.indexOf("://");
        int colon = scheme < 0 ? -1 : redis.indexOf(':', scheme + 3);
        if (at < 0 || colon < 0 || colon > at) {
            return text;
        }
        String password = redis.substring(colon + 1, at);
        return password.isEmpty() ? text : text.replace(password, "***");
    }
}
