package io.multiproc.cli;

import io.multiproc.internal.SegmentRegistry;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Removes tracked segments whose holders all died. Segments with a live holder are never touched. */
@Command(name = "clean", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Remove shared-memory segments whose holders all died.",
                "These are the 'orphaned' ones of 'multiproc ls'; never one with a live holder,",
                "never an untracked one. Prints each removed name once, on stdout."})
final class CleanCommand implements Callable<Integer> {
    /** Held strongly: java.util.logging keeps loggers only weakly, and a collected one loses its level. */
    private static final Logger LIBRARY_LOG = Logger.getLogger("io.multiproc");

    @Override
    public Integer call() throws Exception {
        // The library logs what its startup sweep removed; this command reports that itself, on stdout, once.
        Level before = LIBRARY_LOG.getLevel();
        LIBRARY_LOG.setLevel(Level.WARNING);
        List<String> removed;
        try {
            removed = new ArrayList<>(SegmentRegistry.initialSweep());
            removed.addAll(SegmentRegistry.sweep());
        } finally {
            LIBRARY_LOG.setLevel(before);
        }
        for (String name : removed) {
            System.out.println("removed " + name);
        }
        System.out.println(removed.size() + " orphaned segment(s) removed");
        return 0;
    }
}
