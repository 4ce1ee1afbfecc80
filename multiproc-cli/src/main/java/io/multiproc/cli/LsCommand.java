package io.multiproc.cli;

import io.multiproc.internal.SegmentRegistry;
import picocli.CommandLine.Command;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** Lists /dev/shm segments with their holders (owners or users) and whether those are alive. */
@Command(name = "ls", description = "List shared-memory segments in /dev/shm with their holders and liveness.")
final class LsCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        List<SegmentRegistry.SegmentInfo> segments = SegmentRegistry.list();
        System.out.printf("%-40s %14s  %-9s %s%n", "NAME", "SIZE", "STATE", "HOLDERS (pid.start, alive)");
        for (SegmentRegistry.SegmentInfo s : segments) {
            String state = !s.tracked() ? "untracked" : s.orphaned() ? "orphaned" : "live";
            String holders = s.holders().stream()
                    .map(h -> h.process() + (h.alive() ? " alive" : " dead"))
                    .collect(Collectors.joining(", "));
            System.out.printf("%-40s %14d  %-9s %s%n", s.name(), s.size(), state, holders.isEmpty() ? "-" : holders);
        }
        System.out.println(segments.size() + " segment(s); orphaned ones are removed by 'multiproc clean' or the next multiproc process");
        return 0;
    }
}
