package io.multiproc.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The per-user record of which processes hold which /dev/shm segments, so that a segment whose holders
 * all died is removed by the next multiproc process (or {@code multiproc clean}), and a segment with a
 * live holder never is.
 *
 * <h2>Implementation overview</h2>
 * The registry is the directory {@code /dev/shm/multiproc-UID/}. A holder is an empty file named
 * {@code SEGMENT@PID.STARTTICKS} in it ({@link ProcessIdentity}): the owner of a raw
 * {@code SharedMemory}, or every process attached to a high-level object (value, array, lock...).
 * Untracked segments have no record and are never touched.
 * <ul>
 *   <li>Every change (add a holder, drop one, unlink, sweep) runs under {@code registry.lock}: an
 *       {@code fcntl} lock, which the kernel releases when its process dies, so a crash never leaves the
 *       registry locked; plus a JVM-wide {@link ReentrantLock}, because fcntl locks are per process.</li>
 *   <li>Creating: the record is written before the segment file, under the lock, so a sweep never sees a
 *       new segment without its live holder.</li>
 *   <li>Dropping the last live holder unlinks the segment; dead holders' records are deleted on the way.</li>
 *   <li>A JVM shutdown hook drops every hold this process still has, so a program that forgets to close
 *       leaves /dev/shm as it found it; SIGKILL skips the hook and the next sweep cleans up.</li>
 *   <li>A holder can also be another segment: {@code SEGMENT@^PARENT} keeps SEGMENT while PARENT exists
 *       (a queue's spill segment, whose writer may exit before a reader takes it). Unlinking PARENT, by
 *       its last release, {@link #unlink} or a sweep, unlinks such dependents that no live process holds.</li>
 * </ul>
 * The directory itself and its lock file stay (a few bytes, created once per user).
 *
 * <p>Not part of the public API.
 */
public final class SegmentRegistry {
    private static final System.Logger LOG = System.getLogger("io.multiproc");
    private static final char SEP = '@';
    /** Marks a holder that is a segment, not a process: {@code SEGMENT@^PARENT}. */
    private static final char PARENT_MARK = '^';
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();
    /** Segments this process holds; guarded by JVM_LOCK for changes, read by the shutdown hook. */
    private static final Set<String> HELD = ConcurrentHashMap.newKeySet();
    private static final String SELF = ProcessIdentity.current().toString();
    private static volatile Path dir;
    private static FileChannel lockChannel;
    /** What the sweep at this JVM's first use of the registry removed. */
    private static volatile List<String> initialSweep = List.of();
    /** Whether this JVM ran its startup sweep; written once under the class lock. */
    private static volatile boolean swept;

    private SegmentRegistry() {
    }

    /** Information about one segment in /dev/shm, for {@code multiproc ls}. */
    public record SegmentInfo(String name, long size, List<Holder> holders) {
        public boolean tracked() {
            return !holders.isEmpty();
        }

        public boolean orphaned() {
            return tracked() && holders.stream().noneMatch(Holder::alive);
        }
    }

    public record Holder(ProcessIdentity process, boolean alive) {
    }

    /** The segments that the sweep at this JVM's first use of the registry removed. */
    public static List<String> initialSweep() {
        dir();
        return initialSweep;
    }

    /** The registry directory; created (and swept once) on first use in this JVM. */
    public static Path dir() {
        Path d = dir;
        if (d == null || !swept) {
            d = initAndSweep();
        }
        return d;
    }

    /**
     * Opens the registry and runs the startup sweep once. Kept apart from {@link #init()} so that the
     * read-only {@link #list()} ({@code multiproc ls}) opens it without removing anything.
     */
    private static synchronized Path initAndSweep() {
        Path d = init();
        if (!swept) {
            // NOTE: set before sweeping: sweep() comes back through dir(), which must not sweep again.
            swept = true;
            try {
                List<String> removed = sweep();
                initialSweep = List.copyOf(removed);
                if (!removed.isEmpty()) {
                    LOG.log(System.Logger.Level.INFO, "multiproc: removed segments whose holders died: " + removed);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot sweep the segment registry " + d, e);
            }
        }
        return d;
    }

    private static synchronized Path init() {
        if (dir != null) {
            return dir;
        }
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            Path d = ShmFiles.SHM_DIR.resolve("multiproc-" + uid);
            if (!Files.isDirectory(d)) {
                try {
                    Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (FileAlreadyExistsException raced) {
                    // another process made it first
                }
            }
            lockChannel = FileChannel.open(d.resolve("registry.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            dir = d;
            Runtime.getRuntime().addShutdownHook(new Thread(SegmentRegistry::releaseAllAtExit, "multiproc-registry-exit"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the segment registry under " + ShmFiles.SHM_DIR, e);
        }
    }

    @FunctionalInterface
    private interface LockedBody<T> {
        T run(Path dir) throws IOException;
    }

    private static <T> T locked(LockedBody<T> body) throws IOException {
        return locked(dir(), body);
    }

    private static <T> T locked(Path d, LockedBody<T> body) throws IOException {
        JVM_LOCK.lock();
        try (FileLock ignored = lockChannel.lock()) {
            return body.run(d);
        } finally {
            JVM_LOCK.unlock();
        }
    }

    /**
     * Creates segment {@code name} exclusively with this process recorded as a holder; the returned
     * channel is open. FileAlreadyExistsException if the name is taken (and nothing is recorded).
     */
    public static FileChannel createHeld(String name) throws IOException {
        Path path = ShmFiles.path(name);
        return locked(d -> {
            Path record = d.resolve(name + SEP + SELF);
            // NOTE: a record we already have means we hold the existing segment of that name (or a
            // stale one); it must survive a failed create, or the segment loses its owner.
            boolean hadRecord = Files.exists(record);
            if (!hadRecord) {
                Files.createFile(record);
            }
            try {
                FileChannel ch = ShmFiles.createNew(path);
                HELD.add(name);
                return ch;
            } catch (IOException | RuntimeException e) {
                if (!hadRecord) {
                    Files.deleteIfExists(record);
                }
                throw e;
            }
        });
    }

    /**
     * Records this process as a holder of an existing segment; NoSuchFileException if it is gone.
     *
     * @return true if this process did not hold it before, so that {@link #dropHold(String)} undoes this
     */
    public static boolean addHolder(String name) throws IOException {
        Path path = ShmFiles.path(name);
        return locked(d -> {
            if (!Files.exists(path)) {
                throw new NoSuchFileException(path.toString(), null, "no shared memory segment named '" + name + "'");
            }
            Path record = d.resolve(name + SEP + SELF);
            boolean added = !Files.exists(record);
            if (added) {
                Files.createFile(record);
            }
            HELD.add(name);
            return added;
        });
    }

    /**
     * Forgets this process's hold on {@code name} without ever unlinking it: undoes an
     * {@link #addHolder(String)} whose attach failed (the segment may be someone else's, not ours to remove).
     */
    public static void dropHold(String name) throws IOException {
        locked(d -> {
            Files.deleteIfExists(d.resolve(name + SEP + SELF));
            HELD.remove(name);
            return null;
        });
    }

    /**
     * Creates segment {@code name} exclusively, held only by segment {@code parent} (see
     * {@link #addParentHold}); the returned channel is open. FileAlreadyExistsException if the name is
     * taken (and nothing is recorded).
     */
    public static FileChannel createHeldByParent(String name, String parent) throws IOException {
        ShmFiles.validateName(parent);
        Path path = ShmFiles.path(name);
        return locked(d -> {
            Path record = d.resolve(name + SEP + PARENT_MARK + parent);
            Files.createFile(record);
            try {
                return ShmFiles.createNew(path);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(record);
                throw e;
            }
        });
    }

    /**
     * Records that segment {@code name} lives while segment {@code parent} exists, whatever happens to the
     * processes that made or read it; NoSuchFileException if {@code name} is gone. Undone by
     * {@link #unlink(String)} of {@code name}, or when {@code parent} is unlinked.
     */
    public static void addParentHold(String name, String parent) throws IOException {
        ShmFiles.validateName(parent);
        Path path = ShmFiles.path(name);
        locked(d -> {
            if (!Files.exists(path)) {
                throw new NoSuchFileException(path.toString(), null, "no shared memory segment named '" + name + "'");
            }
            Path record = d.resolve(name + SEP + PARENT_MARK + parent);
            if (!Files.exists(record)) {
                Files.createFile(record);
            }
            return null;
        });
    }

    /**
     * Drops this process's hold on {@code name}; when no live holder remains the segment is unlinked.
     *
     * @return true if the segment was unlinked
     */
    public static boolean release(String name) throws IOException {
        return locked(d -> releaseLocked(d, name));
    }

    private static boolean releaseLocked(Path d, String name) throws IOException {
        Files.deleteIfExists(d.resolve(name + SEP + SELF));
        HELD.remove(name);
        if (anyLiveHolder(d, name)) {
            return false;
        }
        boolean unlinked = Files.deleteIfExists(ShmFiles.SHM_DIR.resolve(name));
        unlinkDependents(d, name);
        return unlinked;
    }

    /** Drops the parent holds that {@code parent} (just unlinked) had, unlinking what nothing else holds. */
    private static void unlinkDependents(Path d, String parent) throws IOException {
        String suffix = "" + SEP + PARENT_MARK + parent;
        List<Path> dependents = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) {
                if (p.getFileName().toString().endsWith(suffix)) {
                    dependents.add(p);
                }
            }
        }
        for (Path record : dependents) {
            Files.deleteIfExists(record);
            String f = record.getFileName().toString();
            String child = f.substring(0, f.length() - suffix.length());
            if (!anyLiveHolder(d, child)) {
                Files.deleteIfExists(ShmFiles.SHM_DIR.resolve(child));
                unlinkDependents(d, child);
            }
        }
    }

    /** Unlinks {@code name} and forgets every holder record of it (CPython's {@code unlink()}). */
    public static void unlink(String name) throws IOException {
        Path path = ShmFiles.path(name);
        locked(d -> {
            for (Path record : records(d, name)) {
                Files.deleteIfExists(record);
            }
            HELD.remove(name);
            Files.delete(path);
            unlinkDependents(d, name);
            return null;
        });
    }

    /**
     * Forgets the holders of {@code name} that died without releasing it (crashed), and says how many
     * there were. Structures whose users wait for each other (a barrier) treat that as a broken peer;
     * removing the records makes each death count once. Never unlinks: live holders remain.
     */
    public static int removeDeadHolders(String name) throws IOException {
        return locked(d -> {
            int dead = 0;
            for (Path record : records(d, name)) {
                if (!holderAlive(record.getFileName().toString())) {
                    Files.deleteIfExists(record);
                    dead++;
                }
            }
            return dead;
        });
    }

    /** True if this process holds {@code name}. */
    public static boolean holds(String name) {
        return HELD.contains(name);
    }

    /** Live holders' records are kept; dead ones deleted on the way. */
    private static boolean anyLiveHolder(Path d, String name) throws IOException {
        boolean live = false;
        for (Path record : records(d, name)) {
            if (holderAlive(record.getFileName().toString())) {
                live = true;
            } else {
                Files.deleteIfExists(record);
            }
        }
        return live;
    }

    /** A process holder is alive while it runs; a parent holder ({@code ^PARENT}) while PARENT exists. */
    private static boolean holderAlive(String recordName) {
        int at = recordName.lastIndexOf(SEP);
        if (at <= 0) {
            return false;
        }
        if (recordName.length() > at + 1 && recordName.charAt(at + 1) == PARENT_MARK) {
            String parent = recordName.substring(at + 2);
            return !parent.isEmpty() && Files.exists(ShmFiles.SHM_DIR.resolve(parent));
        }
        ProcessIdentity p = ProcessIdentity.parse(recordName.substring(at + 1));
        return p != null && p.isAlive();
    }

    private static List<Path> records(Path d, String name) throws IOException {
        List<Path> out = new ArrayList<>();
        String prefix = name + SEP;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                if (f.startsWith(prefix) && f.lastIndexOf(SEP) == prefix.length() - 1) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    private static String segmentOf(String recordName) {
        int at = recordName.lastIndexOf(SEP);
        return at <= 0 ? null : recordName.substring(0, at);
    }

    private static ProcessIdentity identityOf(String recordName) {
        int at = recordName.lastIndexOf(SEP);
        return at <= 0 ? null : ProcessIdentity.parse(recordName.substring(at + 1));
    }

    /**
     * Removes every tracked segment whose holders are all dead, and dead holders' records.
     *
     * @return the names of the segments removed
     */
    public static List<String> sweep() throws IOException {
        return locked(d -> {
            List<String> removed = new ArrayList<>();
            for (String name : segmentsWithRecords(d)) {
                if (!anyLiveHolder(d, name) && Files.deleteIfExists(ShmFiles.SHM_DIR.resolve(name))) {
                    removed.add(name);
                    unlinkDependents(d, name);
                }
            }
            return removed;
        });
    }

    /** Every segment with a holder record of either kind. */
    private static Set<String> segmentsWithRecords(Path d) throws IOException {
        Set<String> names = new java.util.TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) {
                String seg = segmentOf(p.getFileName().toString());
                if (seg != null) {
                    names.add(seg);
                }
            }
        }
        return names;
    }

    private static Map<String, List<ProcessIdentity>> recordsBySegment(Path d) throws IOException {
        Map<String, List<ProcessIdentity>> bySegment = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                String seg = segmentOf(f);
                ProcessIdentity id = identityOf(f);
                if (seg != null && id != null) {
                    bySegment.computeIfAbsent(seg, k -> new ArrayList<>()).add(id);
                }
            }
        }
        return bySegment;
    }

    /**
     * Every regular file in /dev/shm with its holders, tracked or not. Read-only: unlike the other entry
     * points it does not run the startup sweep, so that {@code multiproc ls} shows orphans as such.
     */
    public static List<SegmentInfo> list() throws IOException {
        Path d = dir != null ? dir : init();
        Map<String, List<ProcessIdentity>> bySegment = locked(d, SegmentRegistry::recordsBySegment);
        List<SegmentInfo> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(ShmFiles.SHM_DIR)) {
            for (Path p : ds) {
                if (!Files.isRegularFile(p)) {
                    continue;
                }
                String name = p.getFileName().toString();
                List<Holder> holders = new ArrayList<>();
                for (ProcessIdentity id : bySegment.getOrDefault(name, List.of())) {
                    holders.add(new Holder(id, id.isAlive()));
                }
                long size;
                try {
                    size = Files.size(p);
                } catch (NoSuchFileException gone) {
                    continue;
                }
                out.add(new SegmentInfo(name, size, List.copyOf(holders)));
            }
        }
        out.sort(java.util.Comparator.comparing(SegmentInfo::name));
        return out;
    }

    private static void releaseAllAtExit() {
        for (String name : List.copyOf(HELD)) {
            try {
                release(name);
            } catch (IOException | RuntimeException e) {
                // best effort at exit; the next sweep removes what is left once we are gone
            }
        }
    }
}
