package io.multiproc.process;

import io.multiproc.internal.PrivateDirectory;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The AOT cache's directory is private to this user (issue: another local user must not plant a cache
 * or a link there), its temporary files never outlive a build, and old caches are pruned. The
 * end-to-end cases run a short program in its own JVM from a jar, with its own {@code java.io.tmpdir}.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(300)
class AotCacheTest {
    private static final Duration BUILD_DEADLINE = Duration.ofSeconds(240);

    @TempDir
    Path tmp;

    // ---- the directory ----

    @Test
    void cacheDirectoryIsCreatedOwnerOnly() throws IOException {
        Path dir = PrivateDirectory.ensure(tmp.resolve("aot"));

        assertThat(mode(dir)).isEqualTo(0700);
    }

    @Test
    void ownDirectoryOthersCouldWriteIsClosedAndClearedOfWhatOthersPlanted() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("loose"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path ours = Files.writeString(dir.resolve("c0.aot"), "x");
        Path plantedLink = Files.createSymbolicLink(dir.resolve("c1.aot"), ours);

        PrivateDirectory.ensure(dir);

        assertThat(mode(dir)).isEqualTo(0700);
        assertThat(ours).exists();
        assertThat(Files.exists(plantedLink, LinkOption.NOFOLLOW_LINKS)).as("a link someone planted").isFalse();
    }

    @Test
    void symbolicLinkToADirectoryIsRefused() throws IOException {
        Path real = PrivateDirectory.ensure(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);

        assertThatThrownBy(() -> PrivateDirectory.ensure(link))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(link.toString())
                .hasMessageContaining("not a directory");
    }

    @Test
    void directoryOfAnotherUserIsRefused() throws IOException {
        assumeTrue(PrivateDirectory.currentUid() == 0, "only root can give a directory to another user");
        Path dir = PrivateDirectory.ensure(tmp.resolve("theirs"));
        Files.setAttribute(dir, "unix:uid", 65534, LinkOption.NOFOLLOW_LINKS);

        assertThatThrownBy(() -> PrivateDirectory.ensure(dir))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("uid=65534");
    }

    @Test
    void ownDirectoryOthersCanOnlyReadIsTightenedTo0700() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("older"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));

        PrivateDirectory.ensure(dir);

        assertThat(mode(dir)).isEqualTo(0700);
    }

    @Test
    void temporaryFileIsNeverCreatedThroughAPlantedLink() throws IOException {
        Path victim = Files.writeString(tmp.resolve("victim"), "precious");
        Path planted = Files.createSymbolicLink(tmp.resolve("cache.aot.1.tmp"), victim);

        assertThatThrownBy(() -> PrivateDirectory.createFile(planted)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(victim)).isEqualTo("precious");
    }

    // ---- tidying ----

    @Test
    void staleTemporaryFilesAreRemovedAndOnlyTheNewestCachesKept() throws IOException {
        Path dir = PrivateDirectory.ensure(tmp.resolve("aot"));
        Instant now = Instant.now();
        List<Path> caches = new ArrayList<>();
        for (int i = 0; i < AotCache.KEEP + 2; i++) {
            Path c = Files.writeString(dir.resolve("c" + i + ".aot"), "x");
            Files.setLastModifiedTime(c, FileTime.from(now.minus(Duration.ofHours(i + 1))));
            caches.add(c);
        }
        Path stale = Files.writeString(dir.resolve("c0.aot.123" + AotCache.TEMP_MARK + ".config"), "");
        Files.setLastModifiedTime(stale, FileTime.from(now.minus(AotCache.STALE_TEMP).minusSeconds(60)));
        Path building = Files.writeString(dir.resolve("c1.aot.456" + AotCache.TEMP_MARK), "");

        AotCache.tidy(dir, caches.get(caches.size() - 1));

        assertThat(stale).doesNotExist();
        assertThat(building).as("a build still running").exists();
        assertThat(caches.get(caches.size() - 1)).as("the one in use, now the most recent").exists();
        assertThat(caches.subList(0, AotCache.KEEP - 1)).allSatisfy(c -> assertThat(c).exists());
        assertThat(caches.subList(AotCache.KEEP - 1, caches.size() - 1)).allSatisfy(c -> assertThat(c).doesNotExist());
    }

    // ---- end to end, in a program of its own ----

    @Test
    void aShortProgramLeavesACacheBehindAndNoTemporaryFiles() throws Exception {
        Path jar = programJar();
        Path tmpdir = Files.createDirectory(tmp.resolve("tmpdir"));
        Path dir = tmpdir.resolve("multiproc-aot-" + System.getProperty("user.name"));

        Result r = runProgram(jar, tmpdir);
        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output).contains("child-exit=0");

        long deadline = System.nanoTime() + BUILD_DEADLINE.toNanos();
        while (!(names(dir).stream().anyMatch(n -> n.endsWith(".aot")) && names(dir).stream().noneMatch(n -> n.contains(".tmp")))) {
            assertThat(System.nanoTime() - deadline).as("cache built within %s; directory holds %s", BUILD_DEADLINE, names(dir)).isNegative();
            Thread.sleep(200);
        }
        assertThat(names(dir)).hasSize(1).allMatch(n -> n.endsWith(".aot"));
        assertThat(mode(dir)).isEqualTo(0700);

        Result again = runProgram(jar, tmpdir);
        assertThat(again.exit).as(again.output).isZero();
        assertThat(again.output).doesNotContain("aot]").doesNotContain("AOT cache");
    }

    @Test
    void aProgramRunAgainWhileTheCacheIsBuildingStartsNoSecondBuild() throws Exception {
        Path jar = programJar();
        Path tmpdir = Files.createDirectory(tmp.resolve("tmpdir"));
        Path dir = tmpdir.resolve("multiproc-aot-" + System.getProperty("user.name"));
        java.util.Set<String> builds = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                try {
                    names(dir).stream().filter(n -> n.endsWith(".tmp")).forEach(builds::add);
                    Thread.sleep(20);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        });
        watcher.start();
        try {
            Result first = runProgram(jar, tmpdir);
            assertThat(first.exit).as(first.output).isZero();
            boolean stillBuilding = names(dir).stream().anyMatch(n -> n.endsWith(".tmp"));
            Result second = runProgram(jar, tmpdir);
            assertThat(second.exit).as(second.output).isZero();
            assumeTrue(stillBuilding, "the first program's build ended before the second program started");

            long deadline = System.nanoTime() + BUILD_DEADLINE.toNanos();
            while (!(names(dir).stream().anyMatch(n -> n.endsWith(".aot")) && names(dir).stream().noneMatch(n -> n.contains(".tmp")))) {
                assertThat(System.nanoTime() - deadline).as("cache built within %s; directory holds %s", BUILD_DEADLINE, names(dir)).isNegative();
                Thread.sleep(200);
            }
        } finally {
            watching.set(false);
            watcher.join();
        }
        assertThat(builds).as("training runs started for one cache").hasSize(1);
        assertThat(names(dir)).hasSize(1).allMatch(n -> n.endsWith(".aot"));
    }

    @Test
    void squattedCacheDirectoryMeansNoCacheAndOneLogLine() throws Exception {
        assumeTrue(PrivateDirectory.currentUid() == 0, "only root can give a directory to another user");
        Path jar = programJar();
        Path tmpdir = Files.createDirectory(tmp.resolve("tmpdir"));
        Path dir = Files.createDirectory(tmpdir.resolve("multiproc-aot-" + System.getProperty("user.name")));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setAttribute(dir, "unix:uid", 65534, LinkOption.NOFOLLOW_LINKS);

        Result r = runProgram(jar, tmpdir);

        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output).contains("child-exit=0");
        assertThat(r.output.lines().filter(l -> l.contains("no AOT cache"))).as(r.output).hasSize(1);
        assertThat(r.output).contains(dir.toString()).contains("uid=65534").contains("mode=0777");
        Thread.sleep(1000);
        assertThat(names(dir)).as("nothing written into a directory others can write").isEmpty();
    }

    // ---- helpers ----

    private record Result(int exit, String output) {
    }

    private static Result runProgram(Path jar, Path tmpdir) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=" + tmpdir,
                "-cp", jar.toString(), ShortProgram.class.getName())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** One jar with the library and {@link ShortProgram}: the AOT cache is for jar class paths only. */
    private Path programJar() throws IOException {
        Path jar = tmp.resolve("program.jar");
        Path main = Path.of(ChildMain.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        Path test = Path.of(ShortProgram.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            add(out, main, p -> true);
            add(out, test, p -> p.getFileName().toString().startsWith("ShortProgram"));
        }
        return jar;
    }

    private static void add(JarOutputStream out, Path root, java.util.function.Predicate<Path> which) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).filter(which)::iterator) {
                out.putNextEntry(new JarEntry(root.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }

    private static List<String> names(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static int mode(Path p) throws IOException {
        return (int) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0777;
    }
}
