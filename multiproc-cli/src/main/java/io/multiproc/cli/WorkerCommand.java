package io.multiproc.cli;

import io.multiproc.Multiproc;
import io.multiproc.redis.RedisPool;
import io.multiproc.redis.RedisPoolWorkers;
import org.redisson.config.Config;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code multiproc worker --redis URL --pool NAME [--workers N]}: this host's share of a {@link RedisPool},
 * as worker JVMs (see {@link RedisPoolWorkers}), until stopped.
 */
@Command(name = "worker", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Run worker JVMs for a Pool across hosts (RedisPool) until stopped (Ctrl-C or SIGTERM);",
        "callers on any host: RedisPool.connect(URL, NAME). Tasks' classes must be on this class path."})
final class WorkerCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--redis", paramLabel = "URL", required = true,
            description = "The Redis or Valkey server: redis://HOST:PORT (rediss:// for TLS; redis://:PASSWORD@HOST:PORT with a password).")
    String redis;

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
        config.useSingleServer().setAddress(redis);
        RedisPoolWorkers running;
        try {
            running = RedisPoolWorkers.start(config, pool, n, lease, null);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Thread hook = new Thread(running::close, "multiproc-worker-exit");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("serving Redis pool " + pool + " at " + redis + " with " + n + " worker JVMs");
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
}
