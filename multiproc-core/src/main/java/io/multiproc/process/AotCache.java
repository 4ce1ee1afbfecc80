package io.multiproc.process;

import io.multiproc.internal.PrivateDirectory;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A JDK 25 AOT cache (JEP 483/514/515) for child JVMs: classes loaded and linked ahead of time, plus the
 * method profiles of a training run that exercised the library's hot paths ({@link HotPaths}), so a
 * child's JIT compiles them early.
 *
 * <p>Only for class paths made of jar files (the JDK refuses non-empty directories) and children with
 * default options. The cache is built once per class path by a training JVM ({@code -XX:AOTCacheOutput},
 * run by ChildMain in {@code TRAIN} mode) under a small shell that renames the result into place and
 * removes the JDK's temporary files: it runs at the lowest priority, in the background, and finishes
 * even when the program that started it has already exited (a short program leaves nothing behind; the
 * next run finds the cache). Until the cache exists children start without it.
 *
 * <h2>Where, and why it can be trusted</h2>
 * {@code $TMPDIR/multiproc-aot-USER/}, one {@code HASH.aot} per class path (the key covers the JDK, the
 * class path and each jar's size and modification time; on the module path also the module options and
 * the module jars, see {@link ModulePath}). Another local user must not plant a cache there
 * (children would load it as trusted class metadata) nor a symbolic link at a temporary name, so the
 * directory is created 0700 and used only when owned by this user and writable by nobody else, checked
 * without following links ({@link PrivateDirectory}); temporary files are created {@code CREATE_NEW}
 * and {@code NOFOLLOW_LINKS} before the JDK writes them. Otherwise there is no AOT cache, and one log
 * line says why. Temporary files older than {@link #STALE_TEMP} (a build killed with its program) are
 * removed, and only the {@link #KEEP} most recently used caches are kept (each is ~17 MB).
 */
final class AotCache {
    /** {@code -Dmultiproc.aotCache=false} turns the cache off. */
    static final String PROPERTY = "multiproc.aotCache";
    /** Caches kept per user: the most recently used ones. */
    static final int KEEP = 4;
    /** A temporary file this old belongs to a build that was killed (a build takes seconds). */
    static final Duration STALE_TEMP = Duration.ofMinutes(10);
    static final String TEMP_MARK = ".tmp";

    /** Built on first use: System.getLogger boots java.util.logging (~20 ms before a program's first child). */
    private static final class Log {
        static final System.Logger LOG = System.getLogger("io.multiproc");
    }
    private static final Path FILE = cacheFile();
    private static CompletableFuture<Boolean> training;

    private AotCache() {
    }

    /** The cache file of this class path, or null when there is none to have (see the class comment). */
    static Path file() {
        return FILE;
    }

    /** JVM options for a default child: the cache if it exists (training it on first call otherwise). */
    static List<String> options() {
        if (FILE == null) {
            return List.of();
        }
        if (PrivateDirectory.isPrivateFile(FILE)) {
            return List.of("-XX:AOTCache=" + FILE);
        }
        train();
        return List.of();
    }

    /** Waits for the cache to be built (starting that if needed); false if unsupported or not in time. */
    static boolean await(long timeoutNanos) throws InterruptedException {
        if (FILE == null) {
            return false;
        }
        if (PrivateDirectory.isPrivateFile(FILE)) {
            return true;
        }
        try {
            return train().get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    private static synchronized CompletableFuture<Boolean> train() {
        if (training != null) {
            return training;
        }
        Path other = buildUnderWay();
        if (other != null) {
            // NOTE: a program run again before its previous run's training ended (users rerun programs)
            // waits for that build instead of starting a second training JVM for the same cache.
            training = CompletableFuture.supplyAsync(() -> awaitBuild(other), r -> {
                Thread t = new Thread(r, "multiproc-aot-wait");
                t.setDaemon(true);
                t.start();
            });
            return training;
        }
        Path tmp = FILE.resolveSibling(FILE.getFileName() + "." + ProcessHandle.current().pid() + TEMP_MARK);
        Path config = tmp.resolveSibling(tmp.getFileName() + ".config");
        try {
            // NOTE: both names are ours before the JDK opens them: a link planted there makes this fail.
            PrivateDirectory.createFile(tmp);
            PrivateDirectory.createFile(config);
        } catch (IOException e) {
            deleteQuietly(tmp);
            Log.LOG.log(System.Logger.Level.INFO, "multiproc: no AOT cache for child JVMs: cannot create " + tmp + ": " + e);
            training = CompletableFuture.completedFuture(false);
            return training;
        }
        List<String> java = Launcher.command(List.of("-XX:AOTCacheOutput=" + tmp), Launcher.Mode.TRAIN);
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", BUILD_SCRIPT, "multiproc-aot", tmp.toString(), FILE.toString()));
        command.addAll(java);
        training = Launcher.startDetached(command).thenCompose(Process::onExit)
                .handle((p, err) -> err == null && p.exitValue() == 0 && PrivateDirectory.isPrivateFile(FILE));
        return training;
    }

    /**
     * Another program's build of this cache that is still under way: its temporary cache file, younger
     * than {@link #STALE_TEMP} (the build script removes it when it ends, whatever happened), or null.
     */
    static Path buildUnderWay() {
        Instant staleBefore = Instant.now().minus(STALE_TEMP);
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(FILE.getParent(), FILE.getFileName() + ".*" + TEMP_MARK)) {
            for (Path tmp : temps) {
                if (modified(tmp).isAfter(staleBefore)) {
                    return tmp;
                }
            }
        } catch (IOException | RuntimeException e) {
            return null; // then this program builds it
        }
        return null;
    }

    /** Waits until the build that writes {@code tmp} has ended; true if it left the cache. */
    private static boolean awaitBuild(Path tmp) {
        Instant giveUp = modified(tmp).plus(STALE_TEMP);
        while (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS) && Instant.now().isBefore(giveUp)) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return false;
            }
        }
        return PrivateDirectory.isPrivateFile(FILE);
    }

    /**
     * Runs the training JVM at the lowest priority, then renames its cache into place (one atomic
     * rename in the private directory) and removes the temporary files, whatever happened.
     * Arguments: $1 the temporary cache, $2 the cache, then the java command.
     */
    private static final String BUILD_SCRIPT = """
            tmp=$1; final=$2; shift 2
            if command -v nice >/dev/null 2>&1; then nice -n 19 "$@"; else "$@"; fi >/dev/null 2>&1 </dev/null
            rc=$?
            if [ "$rc" -eq 0 ] && [ -s "$tmp" ]; then mv -f "$tmp" "$final" || rc=1; else rc=1; fi
            rm -f "$tmp" "$tmp.config"
            exit "$rc"
            """;

    private static Path cacheFile() {
        String cp = System.getProperty("java.class.path", "");
        // On the module path (decision 081) the cache also covers the module options and the module jars.
        List<String> entries = new ArrayList<>(ModulePath.entries());
        if (!cp.isEmpty()) {
            entries.addAll(List.of(cp.split(File.pathSeparator)));
        }
        if (entries.isEmpty() || "false".equals(System.getProperty(PROPERTY))) {
            return null;
        }
        String key;
        try {
            CacheKey k = new CacheKey();
            k.add(System.getProperty("java.home") + '\n' + System.getProperty("java.vm.version") + '\n' + cp
                    + '\n' + String.join("\n", ModulePath.cacheKey()));
            for (String entry : entries) {
                Path jar = Path.of(entry);
                if (!entry.endsWith(".jar") || !Files.isRegularFile(jar)) {
                    return null; // directories (or missing entries) rule the AOT cache out
                }
                k.add(Files.size(jar) + ":" + Files.getLastModifiedTime(jar).toMillis() + '\n');
            }
            key = k.hex();
        } catch (IOException | RuntimeException e) {
            return null;
        }
        Path dir = directory();
        try {
            PrivateDirectory.ensure(dir);
        } catch (IOException | RuntimeException e) {
            Log.LOG.log(System.Logger.Level.WARNING, "multiproc: no AOT cache for child JVMs (they start slower): " + e.getMessage());
            return null;
        }
        Path file = dir.resolve(key + ".aot");
        // NOTE: off the program's first start, which computes this before it launches its first JVM
        // (the directory scan and its file attributes took 30-50 ms there).
        Thread.ofPlatform().daemon().name("multiproc-aot-tidy").start(() -> tidy(dir, file));
        return file;
    }

    /**
     * The cache's name: two 64-bit hashes of the JDK, the class path and each jar's size and time, 96
     * bits shown. Not a MessageDigest: its first use costs a fresh JVM 50-80 ms (security providers) on
     * the first start's path. Nothing relies on the name for safety: the directory is private, and the JDK
     * itself checks a cache against the class path and ignores one that does not match.
     */
    static final class CacheKey {
        private long fnv = 0xcbf29ce484222325L;
        private long poly = 0x9e3779b97f4a7c15L;

        void add(String text) {
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                fnv = (fnv ^ (b & 0xff)) * 0x100000001b3L;
                poly = (poly + (b & 0xff)) * 0xff51afd7ed558ccdL;
            }
        }

        String hex() {
            long mixed = poly ^ (poly >>> 33);
            mixed *= 0xc4ceb9fe1a85ec53L;
            mixed ^= mixed >>> 33;
            return HexFormat.of().toHexDigits(fnv) + HexFormat.of().toHexDigits((int) (mixed >>> 32));
        }
    }

    static Path directory() {
        return Path.of(System.getProperty("java.io.tmpdir"), "multiproc-aot-" + PrivateDirectory.userTag());
    }

    /**
     * Removes stale temporary files and all but the {@link #KEEP} most recently used caches; marks
     * {@code current} as used now (its modification time is its last use).
     */
    static void tidy(Path dir, Path current) {
        if (PrivateDirectory.isPrivateFile(current)) {
            try {
                Files.setLastModifiedTime(current, FileTime.from(Instant.now()));
            } catch (IOException ignored) {
                // pruning may then take it a little early; it is rebuilt if needed
            }
        }
        Instant staleBefore = Instant.now().minus(STALE_TEMP);
        List<Path> caches = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (name.contains(TEMP_MARK)) {
                    if (modified(p).isBefore(staleBefore)) {
                        deleteQuietly(p);
                    }
                } else if (name.endsWith(".aot") && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    caches.add(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            return;
        }
        caches.sort(Comparator.comparing(AotCache::modified).reversed());
        for (int i = KEEP; i < caches.size(); i++) {
            deleteQuietly(caches.get(i));
        }
    }

    private static Instant modified(Path p) {
        try {
            return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // another process of this user removed it, or will
        }
    }
}
