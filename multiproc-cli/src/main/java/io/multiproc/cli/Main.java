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
 * multiproc manager serve --bind HOST:PORT --authkey-file FILE   serve a manager over TCP
 * </pre>
 */
@Command(name = "multiproc", mixinStandardHelpOptions = true, version = "multiproc 0.1.0",
        description = "Python's multiprocessing shared-state toolkit for the JVM.",
        subcommands = {BenchCommand.class, LsCommand.class, CleanCommand.class, ManagerCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
