package io.multiproc.testing;

import io.multiproc.process.ChildProcess;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.multiproc.internal.SegmentRegistry;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * For every test: afterwards, kill every child JVM still running (destroyForcibly), then fail if
 * /dev/shm holds a file that was not there before the test. Leaked files are not removed: they may
 * belong to another process, and the next test's snapshot includes them, so each leak is reported once.
 * New files that other processes hold (another test run on the same machine) are not counted, and new
 * files get a few seconds to go away before they count as leaked.
 */
public final class ReapChildrenCheckShm implements BeforeEachCallback, AfterEachCallback {
    private static final Duration GRACE = Duration.ofSeconds(3);
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ReapChildrenCheckShm.class);

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        context.getStore(NS).put("before", shmFiles());
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (ChildProcess c : ChildProcess.activeChildren()) {
            c.close();
        }
        @SuppressWarnings("unchecked")
        Set<String> before = (Set<String>) context.getStore(NS).get("before");
        Set<String> leaked = new TreeSet<>(shmFiles());
        leaked.removeAll(before);
        // Other test runs may share this machine: their segments come and go, and are held by live
        // processes outside this JVM's tree. A real leak stays, so waiting a little hides none.
        long deadline = System.nanoTime() + GRACE.toNanos();
        while (!leaked.isEmpty()) {
            leaked.retainAll(shmFiles());
            leaked.removeAll(heldOnlyByOthers());
            leaked.removeIf(TestShmNames::madeByAnotherLiveRun);
            if (leaked.isEmpty() || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(50);
        }
        if (!leaked.isEmpty()) {
            throw new AssertionError("test leaked /dev/shm entries: " + leaked);
        }
    }

    /**
     * Segments whose holders are all live processes that are neither this JVM nor its descendants. A
     * segment held by another segment ({@code SEG@^PARENT} in the registry, e.g. a manager's heap
     * extents) counts as held by its parent's holders.
     */
    private static Set<String> heldOnlyByOthers() throws IOException {
        Set<Long> ours = new HashSet<>();
        ours.add(ProcessHandle.current().pid());
        ProcessHandle.current().descendants().forEach(h -> ours.add(h.pid()));
        Map<String, SegmentRegistry.SegmentInfo> byName = new HashMap<>();
        for (SegmentRegistry.SegmentInfo info : SegmentRegistry.list()) {
            byName.put(info.name(), info);
        }
        Map<String, String> parents = new HashMap<>();
        try (Stream<Path> records = Files.list(SegmentRegistry.dir())) {
            records.map(r -> r.getFileName().toString()).filter(r -> r.contains("@^"))
                    .forEach(r -> parents.putIfAbsent(r.substring(0, r.indexOf("@^")), r.substring(r.indexOf("@^") + 2)));
        }
        Set<String> out = new TreeSet<>();
        for (SegmentRegistry.SegmentInfo info : byName.values()) {
            SegmentRegistry.SegmentInfo holderInfo = info;
            for (int hops = 0; !holderInfo.tracked() && parents.containsKey(holderInfo.name()) && hops < 8; hops++) {
                holderInfo = byName.getOrDefault(parents.get(holderInfo.name()), holderInfo);
            }
            if (holderInfo.tracked()
                    && holderInfo.holders().stream().allMatch(h -> h.alive() && !ours.contains(h.process().pid()))) {
                out.add(info.name());
            }
        }
        return out;
    }

    public static Set<String> shmFiles() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/dev/shm"))) {
            Set<String> out = new TreeSet<>();
            s.filter(Files::isRegularFile).forEach(p -> out.add(p.getFileName().toString()));
            return out;
        }
    }
}
