package io.multiproc.cli;

import io.multiproc.manager.Manager;
import io.multiproc.manager.remote.KeyFile;
import io.multiproc.manager.remote.ManagerServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code multiproc manager serve}: CPython's {@code BaseManager(address, authkey).get_server().serve_forever()}. */
@Command(name = "manager", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Manager commands.", subcommands = ManagerCommand.Serve.class)
final class ManagerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
            "Serve a local manager's lists, dicts, namespaces and values over TCP.",
            "Runs until stopped; clients: Manager.connect(new InetSocketAddress(host, port),",
            "key)."})
    static final class Serve implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--bind", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:50000",
                description = "Address to listen on (default ${DEFAULT-VALUE}: loopback only; name another "
                        + "interface, or 0.0.0.0, only when other hosts must connect). Port 0 picks a free port.")
        String bind;

        @Option(names = "--authkey-file", paramLabel = "FILE", required = true,
                description = "File holding the key every client must know (its bytes; one trailing newline is ignored). "
                        + "Keep it readable by you only.")
        Path authkeyFile;

        @Option(names = "--name", paramLabel = "NAME",
                description = "Serve the live local manager of this name, or start one with this name (default: a new manager).")
        String name;

        @Override
        public Integer call() throws Exception {
            // NOTE: every value is checked (the host resolved, the key read) before a manager is opened, and a
            // bind that fails closes the manager again: a mistake in an argument is a usage error, not a
            // stack trace beside a manager started for nothing.
            InetSocketAddress address;
            byte[] key;
            try {
                address = parseBind(bind);
                key = readKey(authkeyFile);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            Manager manager;
            try {
                manager = openManager(name);
            } catch (IllegalArgumentException | IllegalStateException e) { // a bad name, a file that is not a manager
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            ManagerServer server;
            try {
                server = ManagerServer.start(manager, address, key);
            } catch (RuntimeException e) {
                manager.close();
                if (e instanceof java.io.UncheckedIOException io) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--bind=" + bind + ": cannot listen there: " + io.getCause().getMessage());
                }
                throw e;
            } finally {
                Arrays.fill(key, (byte) 0);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                manager.close();
            }, "multiproc-manager-serve-exit"));
            InetSocketAddress at = server.address();
            System.out.println("serving manager " + manager.name() + " at " + at.getHostString() + ":" + at.getPort());
            System.out.flush();
            try {
                server.awaitClose();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // stopped by the embedding program (a test)
            } finally {
                server.close();
                manager.close();
            }
            return 0;
        }

        private static Manager openManager(String name) {
            if (name == null) {
                return Manager.start();
            }
            try {
                return Manager.attach(name);
            } catch (IllegalStateException | IllegalArgumentException e) {
                return Manager.start(name);
            }
        }
    }

    /** {@code HOST:PORT}, {@code [v6]:PORT}; IllegalArgumentException naming the value. */
    static InetSocketAddress parseBind(String bind) {
        int colon = bind.lastIndexOf(':');
        if (colon <= 0 || colon == bind.length() - 1) {
            throw new IllegalArgumentException("--bind=" + bind + " must be HOST:PORT, e.g. 127.0.0.1:50000");
        }
        String host = bind.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(bind.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--bind=" + bind + ": port must be a number in 0..65535");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--bind=" + bind + ": port=" + port + " must be in 0..65535");
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("--bind=" + bind + ": host=" + host + " cannot be resolved");
        }
        return address;
    }

    /** The key file's bytes as every client's {@code Manager.readKey} reads them ({@link KeyFile}). */
    static byte[] readKey(Path file) {
        return KeyFile.read(file, "--authkey-file");
    }
}
