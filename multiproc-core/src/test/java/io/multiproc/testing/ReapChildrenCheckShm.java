package io.multiproc.testing;

import io.multiproc.process.ChildProcess;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * For every test: afterwards, kill every child JVM still running (destroyForcibly), then fail if
 * /dev/shm holds a file that was not there before the test. Leaked files are not removed: they may
 * belong to another process, and the next test's snapshot includes them, so each leak is reported once.
 */
public final class ReapChildrenCheckShm implements BeforeEachCallback, AfterEachCallback {
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
        if (!leaked.isEmpty()) {
            throw new AssertionError("test leaked /dev/shm entries: " + leaked);
        }
    }

    public static Set<String> shmFiles() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/dev/shm"))) {
            Set<String> out = new TreeSet<>();
            s.filter(Files::isRegularFile).forEach(p -> out.add(p.getFileName().toString()));
            return out;
        }
    }
}
