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
        System.exit(new CommandLine(new Main()).execute(args));
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
