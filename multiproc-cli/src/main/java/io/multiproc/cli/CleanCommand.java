package io.multiproc.cli;

import io.multiproc.internal.SegmentRegistry;
import picocli.CommandLine.Command;

import java.util.List;
import java.util.concurrent.Callable;

/** Removes tracked segments whose holders all died. Segments with a live holder are never touched. */
@Command(name = "clean", description = "Remove shared-memory segments whose owners/users all died; never one with a live holder.")
final class CleanCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        // Opening the registry already sweeps once; report that sweep and one more.
        List<String> removed = new java.util.ArrayList<>(SegmentRegistry.initialSweep());
        removed.addAll(SegmentRegistry.sweep());
        for (String name : removed) {
            System.out.println("removed " + name);
        }
        System.out.println(removed.size() + " orphaned segment(s) removed");
        return 0;
    }
}
