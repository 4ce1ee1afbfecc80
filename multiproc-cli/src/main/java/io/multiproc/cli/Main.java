package io.multiproc.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code multiproc} command.
 *
 * <pre>
 * multiproc bench [--scenario NAME]... [--json]   scenario benchmarks beside CPython's multiprocessing
 * multiproc ls                                    shared-memory segments with their holders
 * multiproc clean                                 remove segments whose holders all died
 * multiproc help [COMMAND]                        help; every command also takes -h/--help
 * multiproc manager serve --bind HOST:PORT --authkey-file FILE   serve a manager over TCP
 * multiproc worker --redis URL --pool NAME [--workers N]     worker JVMs of a Pool across hosts (RedisPool)
 * </pre>
 */
@Command(name = "multiproc", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Python's multiprocessing shared-state toolkit for the JVM.",
        subcommands = {BenchCommand.class, LsCommand.class, CleanCommand.class, ManagerCommand.class,
                WorkerCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command as {@link #main} runs it: a command that fails prints one line naming what went wrong
     * (exit 2 for a value it refused, 1 otherwise), not a stack trace.
     */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, failed, parsed) -> {
            failed.getErr().println(failed.getCommandSpec().qualifiedName() + ": " + describe(e));
            failed.getErr().flush();
            return e instanceof IllegalArgumentException ? 2 : 1;
        });
        return cli;
    }

    /** {@code e}'s message, and its causes' where they add something, on one line. */
    static String describe(Throwable e) {
        StringBuilder line = new StringBuilder();
        String last = null;
        for (Throwable t = e; t != null && line.length() < 1_000; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
            if (last == null || !last.contains(message)) {
                line.append(line.isEmpty() ? "" : ": ").append(message.replace('\n', ' '));
            }
            last = message;
        }
        return line.toString();
    }

    /** One version string for the command and every subcommand's {@code --version}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"multiproc 0.1.0"};
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
