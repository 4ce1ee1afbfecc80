package io.multiproc.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLockInterruptionException;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.LinkOption;
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
 * The registry is the directory {@code /dev/shm/multiproc-UID/}. A holder is a small file named
 * {@code SEGMENT@PID.STARTTICKS} in it ({@link ProcessIdentity}): the owner of a raw
 * {@code SharedMemory}, or every process attached to a high-level object (value, array, lock...).
 * Untracked segments have no record and are never touched.
 * <ul>
 *   <li>Every change (add a holder, drop one, unlink, sweep) runs under {@code registry.lock}: an
 *       {@code fcntl} lock, which the kernel releases when its process dies, so a crash never leaves the
 *       registry locked; plus a JVM-wide {@link ReentrantLock}, because fcntl locks are per process.</li>
 *   <li>Creating: the record is written before the segment file, under the lock, so a sweep never sees a
 *       new segment without its live holder.</li>
 *   <li>Dropping the last live holder unlinks the segment; dead holders' records are deleted on the way,
 *       each step's records only after its unlinks (a process killed in between leaves records naming a
 *       file that is gone, which a sweep deletes, never a file no record names).
 *       A process whose own record is gone when it releases (another process unlinked the segment, and
 *       the name may since be another program's file) unlinks nothing.</li>
 *   <li>A JVM shutdown hook drops every hold this process still has, so a program that forgets to close
 *       leaves /dev/shm as it found it; SIGKILL skips the hook and the next sweep cleans up.</li>
 *   <li>A holder can also be another segment: {@code SEGMENT@^PARENT} keeps SEGMENT while PARENT exists
 *       (a queue's spill segment, whose writer may exit before a reader takes it). Unlinking PARENT, by
 *       its last release, {@link #unlink} or a sweep, unlinks such dependents that no live process holds.</li>
 *   <li>Handles in flight ({@link InFlight}): a shared object encoded into a queue item or pipe message is
 *       held by the carrier's segment through the same parent record, whose content counts the items
 *       (empty means 1); the taking receiver's attach replaces one count with its own record in one step,
 *       and an attach that then fails (a header mismatch) gives the count back in one step.
 *       One encoded into a child's task is held by a record in the child's name. Parent holds can form
 *       cycles (a queue's item carrying the queue): a segment held only by segments is kept only if
 *       a chain of them reaches a live process, checked when such a segment is released, when a segment
 *       that held it goes, and by sweeps.</li>
 *   <li>A process record's content is its pid namespace (the inode of /proc/self/ns/pid). A process
 *       that /proc says is not running but whose record names another namespace is kept: our /proc
 *       cannot see it ({@link ProcessIdentity}). Older versions' records are empty and judged as ours.</li>
 *   <li>After the namespace, a process record names the file it holds: {@code NS DEV:INO}. Someone else
 *       (a Python program, CPython's resource tracker) may unlink the name and create a new segment under
 *       it; the old holders' records then outlive their file. When dead or released records are all that
 *       is left of a segment, its file is unlinked only if it is the file one of them names, else the
 *       records are just dropped ({@link HeldFiles}). A record without a file (older versions; or the
 *       creator died between creating the file and writing its identity) is judged as before: the file
 *       goes. The check and the unlink are two steps that only other programs can come between.</li>
 *   <li>The directory must be ours: owned by this user, mode 0700, not a symlink (checked without
 *       following links), or nothing is trusted and the first use fails naming its owner and mode.
 *       Another user could otherwise plant records that make our sweep unlink our files, or hold the
 *       lock. One of ours with a looser mode is tightened and cleared of other users' entries.</li>
 * </ul>
 * The directory itself and its lock file stay (a few bytes, created once per user). If someone removes
 * them anyway, the next registry step of a process re-creates them and records its own holds again.
 *
 * <p>Not part of the public API.
 */
public final class SegmentRegistry {
    private static final System.Logger LOG = System.getLogger("io.multiproc");
    private static final char SEP = '@';
    /** Marks a holder that is a segment, not a process: {@code SEGMENT@^PARENT}. */
    private static final char PARENT_MARK = '^';
    /**
     * The subdirectory of marks ({@code shared/SEGMENT}, empty files): a segment that may have a holder
     * other than its creator's record, or dependents (decision 177). Its name has no {@code @}: scans of
     * records skip it.
     */
    static final String SHARED_MARKS = "shared";
    /** How many of the startup sweep's removed segments its log line names. */
    private static final int LOGGED_NAMES = 20;
    /** Where tests put the registry directory instead of /dev/shm; not for production use. */
    static final String TEST_ROOT_PROPERTY = "multiproc.test.registryRoot";
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();
    /** Segments this process holds; guarded by JVM_LOCK for changes, read by the shutdown hook. */
    private static final Set<String> HELD = ConcurrentHashMap.newKeySet();
    private static final String SELF = ProcessIdentity.current().toString();
    private static volatile Path dir;
    /** This JVM's handle on the registry lock file; used and replaced only under JVM_LOCK. */
    private static FileChannel lockChannel;
    /** {@code DEV:INO} of the lock file {@link #lockChannel} has open (null if unknown); under JVM_LOCK. */
    private static String lockFileId;
    /** The uid whose registry this is; written once by {@link #init()}. */
    private static int uid;
    /** What the sweep at this JVM's first use of the registry removed. */
    private static volatile List<String> initialSweep = List.of();
    /** Whether this JVM ran its startup sweep; written once under the class lock. */
    private static volatile boolean swept;

    private SegmentRegistry() {
    }

    /** Information about one segment in /dev/shm, for {@code multiproc ls}. */
    /**
     * One segment: its process holders, the segments holding it (a manager's heap holds its extension
     * segments, a queue the shared objects in its items), and whether a running process reaches it.
     */
    public record SegmentInfo(String name, long size, List<Holder> holders, List<String> parents, boolean reachable) {
        public boolean tracked() {
            return !holders.isEmpty() || !parents.isEmpty();
        }

        /** Tracked and reached by no running process: the sweep ({@code multiproc clean}) removes it. */
        public boolean orphaned() {
            return tracked() && !reachable;
        }
    }

    public record Holder(ProcessIdentity process, boolean alive) {
    }

    /** The segments that the sweep at this JVM's first use of the registry removed. */
    public static List<String> initialSweep() {
        dir();
        return initialSweep;
    }

    /** True once this process opened the registry and ran its startup sweep (a spare does so while idle). */
    public static boolean isOpen() {
        return dir != null && swept;
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
                    // NOTE: a program killed holding thousands of segments must not leave a log line of thousands of names
                    LOG.log(System.Logger.Level.INFO, "multiproc: removed " + removed.size() + " segment(s) whose holders died: "
                            + (removed.size() <= LOGGED_NAMES ? removed
                                    : removed.subList(0, LOGGED_NAMES) + " and " + (removed.size() - LOGGED_NAMES) + " more"));
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
            uid = PrivateDirectory.currentUid();
            // NOTE: tests only (a registry of their own, e.g. for processes in another pid namespace);
            // segments stay in /dev/shm.
            String testRoot = System.getProperty(TEST_ROOT_PROPERTY);
            Path d = ShmFiles.interruptSetAside(() -> openDirectory(testRoot != null ? Path.of(testRoot) : ShmFiles.SHM_DIR, uid));
            lockChannel = openLockFile(d);
            lockFileId = lockFileIdentity(d);
            dir = d;
            Runtime.getRuntime().addShutdownHook(new Thread(SegmentRegistry::releaseAllAtExit, "multiproc-registry-exit"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the segment registry under " + ShmFiles.SHM_DIR + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Creates {@code root/multiproc-UID} (mode 0700) or checks the one that is there, without following
     * symlinks: it must be a directory owned by {@code uid}. Another local user could otherwise create it
     * first and plant records that make our sweep unlink any of our segments, or hold its lock. One of
     * ours with a looser mode (older versions made it so) is tightened to 0700, and entries that another
     * user planted while it was open are removed. Package-private so that tests can use a fake root.
     *
     * @throws IOException naming the path, owner and mode when the directory is not ours
     */
    static Path openDirectory(Path root, int uid) throws IOException {
        return PrivateDirectory.ensure(root.resolve("multiproc-" + uid), uid, "the segment registry");
    }

    @FunctionalInterface
    private interface LockedBody<T> {
        T run(Path dir) throws IOException;
    }

    private static <T> T locked(LockedBody<T> body) throws IOException {
        return locked(dir(), body);
    }

    private static <T> T locked(Path d, LockedBody<T> body) throws IOException {
        // NOTE: lockChannel is this JVM's one registry lock: an interrupted thread's FileChannel.lock (or
        // the record files the body writes) would close it for every thread (ShmFiles.interruptSetAside).
        return ShmFiles.interruptSetAside(() -> {
            JVM_LOCK.lock();
            try (FileLock ignored = lockIntact(d)) {
                return body.run(d);
            } finally {
                JVM_LOCK.unlock();
            }
        });
    }

    /**
     * Takes the registry lock (caller holds JVM_LOCK), first re-creating the registry if someone removed
     * it ({@code rm -rf /dev/shm/multiproc-UID}): this JVM's lock would otherwise be on a deleted file,
     * which other processes, locking the new one, never see, and every record written would fail. NOTE: checked after locking (the lock file at the path is still the
     * one locked), as with any lock file that can be replaced; one stat per registry step.
     */
    private static FileLock lockIntact(Path d) throws IOException {
        for (int attempt = 0; ; attempt++) {
            FileLock lock = lockFile(d);
            String atPath;
            try {
                atPath = lockFileIdentity(d);
            } catch (NoSuchFileException gone) {
                atPath = "";
            }
            if (atPath == null || atPath.equals(lockFileId)) {
                if (attempt > 0) {
                    rewriteHeld(d);
                }
                return lock;
            }
            lock.close();
            if (attempt >= 10) {
                throw new IOException("the segment registry " + d + " keeps being removed or replaced while in use");
            }
            LOG.log(System.Logger.Level.WARNING, "multiproc: the segment registry " + d
                    + " was removed while in use; re-creating it and recording this process's segments again");
            openDirectory(d.getParent(), uid);
            lockChannel.close();
            lockChannel = openLockFile(d);
            lockFileId = lockFileIdentity(d);
        }
    }

    /** {@code DEV:INO} of the registry's lock file; null if unknown, NoSuchFileException if it is gone. */
    private static String lockFileIdentity(Path d) throws IOException {
        return fileIdentity(d.resolve("registry.lock"));
    }

    /**
     * Writes again the record of every segment this process holds whose file is still there (a registry
     * re-created after its removal), so that it is neither swept while this process lives nor left behind.
     * Other processes' records, in-flight counts and parent holds went with the old directory.
     */
    private static void rewriteHeld(Path d) throws IOException {
        for (String name : HELD) {
            Path record = d.resolve(name + SEP + SELF);
            String file;
            try {
                file = fileIdentity(ShmFiles.path(name));
            } catch (NoSuchFileException gone) {
                continue; // its release finds no record and removes nothing
            }
            // NOTE: the marks went with the old directory; others may hold it too (their records come back
            // at their next step), so its release must read the records, not take its own for the only one
            markShared(d, name);
            if (!Files.exists(record, LinkOption.NOFOLLOW_LINKS)) {
                writeProcessRecord(record, ProcessIdentity.current(), file, StandardOpenOption.CREATE_NEW);
            }
        }
    }

    /**
     * Takes the registry's fcntl lock (caller holds JVM_LOCK). An interrupt that arrives while another
     * process holds the lock closes the channel: it is reopened and the wait goes on, the interrupt kept
     * for the caller.
     */
    private static FileLock lockFile(Path d) throws IOException {
        boolean interrupted = false;
        try {
            for (int attempt = 0; ; attempt++) {
                try {
                    return lockChannel.lock();
                } catch (ClosedChannelException | FileLockInterruptionException e) {
                    interrupted |= Thread.interrupted();
                    if (attempt >= 100) {
                        throw e;
                    }
                    lockChannel.close();
                    lockChannel = openLockFile(d);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static FileChannel openLockFile(Path d) throws IOException {
        return FileChannel.open(d.resolve("registry.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Creates segment {@code name} exclusively with this process recorded as a holder; the returned
     * channel is open. FileAlreadyExistsException if the name is taken (and nothing is recorded).
     */
    /**
     * For a create that finds its name taken: removes the segment if records name it and every holder
     * died, as the startup sweep would. A program that re-creates a fixed name after its owner was
     * killed (a named Manager in a restarted worker) otherwise failed with "already exists" until some
     * new JVM swept. A file no record names (made by Python, untracked) stays.
     */
    private static void removeIfOrphaned(Path d, String name) throws IOException {
        HeldFiles heldFiles = new HeldFiles(d);
        if (!heldFiles.records(d, name).isEmpty() && liveHolders(d, name, heldFiles) == NONE && heldFiles.unlink(name)) {
            LOG.log(System.Logger.Level.INFO, "multiproc: removed segment " + name + " of a dead holder to create it again");
            unlinkDependents(d, name, heldFiles);
        }
        heldFiles.forget();
    }

    public static FileChannel createHeld(String name) throws IOException {
        Path path = ShmFiles.path(name);
        return locked(d -> {
            Path record = d.resolve(name + SEP + SELF);
            // NOTE: a record we already have means we hold the existing segment of that name (or a
            // stale one); it must survive a failed create, or the segment loses its owner.
            boolean hadRecord = Files.exists(record);
            if (!hadRecord && Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                removeIfOrphaned(d, name);
            }
            if (!hadRecord) {
                writeProcessRecord(record, ProcessIdentity.current(), null, StandardOpenOption.CREATE_NEW);
            } else {
                markShared(d, name); // not a creator's lone record: whatever else is there is judged in full
            }
            FileChannel ch;
            try {
                ch = ShmFiles.createNew(path);
            } catch (IOException | RuntimeException e) {
                if (!hadRecord) {
                    Files.deleteIfExists(record);
                }
                throw e;
            }
            HELD.add(name);
            // NOTE: the file's identity is known only now; a record that stays without it (this process
            // killed in between, or the write failed) is judged as older versions' records are.
            try {
                writeProcessRecord(record, ProcessIdentity.current(), fileIdentity(path), StandardOpenOption.WRITE);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "multiproc: cannot record the identity of segment " + name, e);
            }
            return ch;
        });
    }

    /**
     * Records this process as a holder of an existing segment; NoSuchFileException if it is gone.
     *
     * @return true if this process did not hold it before, so that {@link #undoAddHolder} undoes this
     */
    public static boolean addHolder(String name) throws IOException {
        return addHolder(name, null);
    }

    /**
     * Like {@link #addHolder(String)}, for a receiver that got the segment's handle from {@code carrier}
     * (a queue or pipe segment; null if none): in the same step, drops one of the carrier's in-flight
     * holds on it ({@link #addInFlightHold}), which this process's own hold now replaces.
     */
    public static boolean addHolder(String name, String carrier) throws IOException {
        Path path = ShmFiles.path(name);
        return locked(d -> {
            String file = requireSegment(path, name, "");
            markShared(d, name);
            Path record = d.resolve(name + SEP + SELF);
            boolean added = !Files.exists(record);
            if (added) {
                writeProcessRecord(record, ProcessIdentity.current(), file, StandardOpenOption.CREATE_NEW);
            }
            HELD.add(name);
            if (carrier != null) {
                countInFlight(d, name, carrier, -1, null);
            }
            return added;
        });
    }

    /**
     * Records process {@code p} (a child this process starts) as a holder of {@code name}, for a handle
     * travelling in its task: the segment stays while the child lives, and the child's own attach finds
     * the record its own (one record per process and segment). NoSuchFileException if the segment is gone.
     */
    public static void addHolderFor(String name, ProcessIdentity p) throws IOException {
        addRecord(name, p.toString(), p);
    }

    /** Under the lock: checks that the segment exists, then creates the record unless it is there. */
    private static void addRecord(String name, String holder, ProcessIdentity process) throws IOException {
        Path path = ShmFiles.path(name);
        locked(d -> {
            String file = requireSegment(path, name, "");
            markShared(d, name);
            if (holder.charAt(0) == PARENT_MARK) {
                markShared(d, holder.substring(1)); // it has a dependent now
            }
            Path record = d.resolve(name + SEP + holder);
            if (Files.exists(record)) {
                return null;
            }
            if (process != null) {
                writeProcessRecord(record, process, file, StandardOpenOption.CREATE_NEW);
            } else {
                Files.createFile(record);
            }
            return null;
        });
    }

    /**
     * Adds one in-flight hold of segment {@code carrier} on segment {@code name}: a queue item or pipe
     * message in {@code carrier} carries {@code name}'s handle. It is the parent hold
     * {@code NAME@^CARRIER} ({@link #addParentHold}) with a count in its content (empty means 1): the
     * segment lives while the carrier exists and holds some, whatever happens to its sender. The
     * receiver's {@link #addHolder(String, String)} drops one; unlinking the carrier drops them all.
     * NoSuchFileException if {@code name} is gone (a closed object cannot travel).
     */
    public static void addInFlightHold(String name, String carrier) throws IOException {
        ShmFiles.validateName(carrier);
        Path path = ShmFiles.path(name);
        locked(d -> {
            requireSegment(path, name, ": a closed shared object cannot be sent");
            countInFlight(d, name, carrier, +1, null);
            return null;
        });
    }

    /**
     * Drops one count of the counted parent hold {@code NAME@^PARENT} (made by {@link #addInFlightHold}
     * with {@code parent} as the carrier), and when that was the last count and nothing else holds the
     * segment, unlinks it: a managed container's item that named a shared object is gone (decision 172).
     *
     * @return true if the segment was unlinked
     */
    public static boolean dropParentHold(String name, String parent) throws IOException {
        ShmFiles.validateName(parent);
        ShmFiles.validateName(name);
        return locked(d -> {
            HeldFiles heldFiles = new HeldFiles(d);
            Path record = countInFlight(d, name, parent, -1, heldFiles);
            if (!heldFiles.dropped(record)) {
                return false; // other items still name it (the count was rewritten, not brought to 0)
            }
            int holders = liveHolders(d, name, heldFiles);
            if (holders == A_PROCESS) {
                // NOTE: nothing will be unlinked, so the count need not wait for an unlink: a kill from here
                // on must not leave it counting an item that is gone
                Files.deleteIfExists(record);
                heldFiles.forget();
                return false;
            }
            boolean unlinked = unlinkIfUnheld(d, name, heldFiles, holders);
            heldFiles.forget();
            return unlinked;
        });
    }

    /** Undoes one {@link #addInFlightHold} whose item was not sent after all. */
    public static void dropInFlightHold(String name, String carrier) throws IOException {
        ShmFiles.validateName(carrier);
        ShmFiles.validateName(name);
        locked(d -> {
            countInFlight(d, name, carrier, -1, null);
            return null;
        });
    }

    /**
     * Changes the count of {@code NAME@^CARRIER} by {@code delta}, creating it at 1 or deleting it at 0
     * (a missing record counts 0 and stays missing on a decrement). The count is rewritten in one
     * fixed-width write, so a holder killed meanwhile leaves the old or the new count. A record brought to 0
     * is left to {@code deferred} when given ({@link HeldFiles#drop}), else deleted now.
     *
     * @return the record's path
     */
    private static Path countInFlight(Path d, String name, String carrier, int delta, HeldFiles deferred) throws IOException {
        Path record = d.resolve(name + SEP + PARENT_MARK + carrier);
        long count;
        try {
            String text = new String(Files.readAllBytes(record), StandardCharsets.US_ASCII).trim();
            count = text.isEmpty() ? 1 : Long.parseLong(text);
        } catch (NoSuchFileException absent) {
            count = 0;
        } catch (NumberFormatException garbled) {
            count = 1;
        }
        long next = count + delta;
        if (delta > 0) {
            markShared(d, name);
            markShared(d, carrier);
        }
        if (next <= 0) {
            if (deferred != null) {
                deferred.drop(name, record);
            } else {
                Files.deleteIfExists(record);
            }
            return record;
        }
        byte[] text = String.format("%019d", next).getBytes(StandardCharsets.US_ASCII);
        if (count == 0) {
            createRecord(record, text);
            return record;
        }
        try (FileChannel ch = FileChannel.open(record, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            ch.write(ByteBuffer.wrap(text), 0);
        }
        return record;
    }

    /** Deletes the marks of segments whose file is gone (a process killed between an unlink and its mark's removal). */
    private static void removeStaleMarks(Path d) throws IOException {
        Path marks = d.resolve(SHARED_MARKS);
        if (!Files.isDirectory(marks, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(marks)) {
            for (Path mark : ds) {
                Path path = nameablePath(mark.getFileName().toString());
                if (path != null && !Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(mark);
                }
            }
        }
    }

    /**
     * Marks {@code name} as possibly held by more than its creator's record (decision 177). Called under the
     * lock before any record other than a creator's first is written, for the segment and, for a parent
     * hold, for its parent; a mark is never taken back while its segment exists.
     */
    private static void markShared(Path d, String name) throws IOException {
        Path mark = d.resolve(SHARED_MARKS).resolve(name);
        if (Files.exists(mark, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.createDirectories(mark.getParent());
        try {
            Files.createFile(mark);
        } catch (FileAlreadyExistsException marked) {
            // as wanted
        }
    }

    /**
     * False only when {@code name} has no mark: its one record is its creator's and nothing depends on it,
     * so the creator's release needs no look at the other records (decision 177).
     */
    private static boolean maybeShared(Path d, String name) {
        // NOTE: notExists, not !exists: a mark that cannot be looked at (an I/O or permission error) counts as there
        return !Files.notExists(d.resolve(SHARED_MARKS).resolve(name), LinkOption.NOFOLLOW_LINKS);
    }

    /** The segment's {@link #fileIdentity}; NoSuchFileException naming it (and {@code why}) if it is gone. */
    private static String requireSegment(Path path, String name, String why) throws IOException {
        try {
            return fileIdentity(path);
        } catch (NoSuchFileException gone) {
            throw new NoSuchFileException(path.toString(), null, "no shared memory segment named '" + name + "'" + why);
        }
    }

    /**
     * {@code DEV:INO} of the file at {@code path} (not following a link: what unlinking the name removes),
     * or null where the platform cannot tell; NoSuchFileException if there is none.
     */
    private static String fileIdentity(Path path) throws IOException {
        return ShmFiles.fileIdentity(path);
    }

    /**
     * Writes a process holder record: {@code NS} or {@code NS DEV:INO}, the process's pid namespace, so
     * that a process of another namespace, which our /proc cannot see, is never judged dead
     * ({@link ProcessIdentity}), and the identity of the segment file it holds (null if unknown), so that
     * the record outliving that file never unlinks a new file of the same name ({@link HeldFiles}).
     * The name stays {@code SEGMENT@PID.STARTTICKS}, which older versions read too.
     */
    private static void writeProcessRecord(Path record, ProcessIdentity p, String file, StandardOpenOption mode)
            throws IOException {
        byte[] text = (file == null ? Long.toString(p.pidNamespace()) : p.pidNamespace() + " " + file)
                .getBytes(StandardCharsets.US_ASCII);
        if (mode == StandardOpenOption.CREATE_NEW) {
            createRecord(record, text);
            return;
        }
        // NOTE: in place, not truncated: the new text starts with the old one (NS), and it fits the page
        // the old one already has, so a full /dev/shm cannot leave the record empty.
        try (FileChannel ch = FileChannel.open(record, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buf = ByteBuffer.wrap(text);
            while (buf.hasRemaining()) {
                ch.write(buf, buf.position());
            }
        }
    }

    /**
     * Creates {@code record} (which must not exist) with {@code content}, or leaves none: on a full
     * /dev/shm the new file is made (an inode) but its first byte fails (a page), and an empty record
     * would read as a live holder of an unknown file (a process record) or as one item in flight.
     * A process killed in between leaves that empty record: the reading of a crash, as before.
     *
     * @throws IOException naming /dev/shm and its free space when it is full ({@link #noSpace})
     */
    private static void createRecord(Path record, byte[] content) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(record, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw noSpace(record, e);
        }
        try (ch) {
            if (FAULTS) {
                RecordFault f = recordFault;
                if (f != null) {
                    f.beforeContent(record);
                }
            }
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        } catch (IOException e) {
            deleteAfterFailure(record, e);
            throw noSpace(record, e);
        } catch (RuntimeException e) {
            deleteAfterFailure(record, e);
            throw e;
        }
    }

    private static void deleteAfterFailure(Path record, Exception failure) {
        try {
            Files.deleteIfExists(record);
        } catch (IOException suppressed) {
            failure.addSuppressed(suppressed);
        }
    }

    /**
     * {@code e} itself, or, when it says the file system is full (ENOSPC), an IOException saying so in the
     * words of {@link ShmFiles#reserve}'s: /dev/shm is full, with its free bytes and the fix ({@link ShmFiles#fullAdvice}). The registry lives in
     * /dev/shm, so its records need space there too, before any segment's own size is reserved.
     */
    private static IOException noSpace(Path record, IOException e) {
        String m = e.getMessage();
        if (m == null || !m.contains("No space left on device")) {
            return e;
        }
        String f = record.getFileName().toString();
        int at = f.lastIndexOf(SEP);
        return new IOException("cannot record a holder of segment '" + (at > 0 ? f.substring(0, at) : f)
                + "' in the registry " + record.getParent() + " (No space left on device); " + ShmFiles.fullAdvice(), e);
    }

    // ---- test hooks -----------------------------------------------------------------------------------

    /** The JVM option value that turns {@link #recordFault} on; tests set it only in a child JVM under test. */
    static final String FAULTS_PROPERTY = "multiproc.test.registryFaults";
    /**
     * Read once: a {@code static final}, so the JIT folds the hook away where it is off (STYLE.md 14)
     * and tests run the same record-writing code as production.
     */
    static final boolean FAULTS = Boolean.getBoolean(FAULTS_PROPERTY);

    /** Fails a record write the way a full /dev/shm does: the file is created, its content not yet written. */
    @FunctionalInterface
    interface RecordFault {
        void beforeContent(Path record) throws IOException;
    }

    /** Called (when {@link #FAULTS}) for every new record; volatile: set by the test's thread. */
    static volatile RecordFault recordFault;

    /** Where a test kills a process that has unlinked segments and not yet deleted their records. */
    @FunctionalInterface
    interface MidUnlinkFault {
        void beforeForgetting(Set<Path> records);
    }

    /** Called (when {@link #FAULTS}) before a step deletes the records it dropped; volatile: set by the test's thread. */
    static volatile MidUnlinkFault midUnlinkFault;

    /**
     * A process record's content, trimmed: {@code NS DEV:INO}, {@code NS} or empty (older versions).
     * Null if the record is gone.
     */
    private static String[] processRecordFields(Path record) {
        try {
            String text = new String(Files.readAllBytes(record), StandardCharsets.US_ASCII).trim();
            return text.isEmpty() ? new String[0] : text.split(" ");
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The records judged gone on the way to unlinking segments (dead processes', this process's own on
     * release, a parent hold dropped), and the files they say they held, per segment. Used within one
     * locked step. NOTE: the records are deleted by {@link #forget}, after the unlinks: a process killed
     * in between leaves records a sweep judges again (their file gone or not), never a segment file that
     * no record names, which nothing would ever remove.
     */
    private static final class HeldFiles {
        private final Map<String, Set<String>> files = new java.util.HashMap<>();
        private final Set<String> unknown = new java.util.HashSet<>();
        private final Set<Path> dropped = new java.util.LinkedHashSet<>();
        /** Segments this step unlinked: their marks go after their records. */
        private final List<String> unlinked = new ArrayList<>(1);
        /** The registry directory of this step. */
        private final Path registry;
        /**
         * The registry's entries as this step first listed them, with their names. Valid for the whole
         * step: the steps that use a HeldFiles create no record, and delete theirs only in {@link #forget}
         * (lookups skip {@link #dropped} records). NOTE: one directory read per step, not one per lookup:
         * a read costs ~250 ns per entry, so with 8,000 objects alive a release (two reads) took 2.4 ms,
         * and a sweep of 4,000 dead holders' segments (two reads per segment) 12 s.
         */
        private List<Path> entries;
        private List<String> names;
        /** Lookups answered by a pass over {@link #names}; past {@link #PASSES}, the indexes below are built. */
        private int passes;
        private static final int PASSES = 4;
        /** Records per segment, and per parent (a {@code ^PARENT} record under every parent its name can end with). */
        private Map<String, List<Path>> bySegment;
        private Map<String, List<Path>> byParent;

        HeldFiles(Path registry) {
            this.registry = registry;
        }

        private void list(Path d) throws IOException {
            if (entries != null) {
                return;
            }
            List<Path> all = new ArrayList<>();
            List<String> allNames = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
                for (Path p : ds) {
                    all.add(p);
                    allNames.add(p.getFileName().toString());
                }
            }
            entries = all;
            names = allNames;
        }

        /** Whether a lookup should build the indexes: a release looks up a few names, a sweep every segment's. */
        private boolean indexed(Path d) throws IOException {
            list(d);
            if (bySegment == null && ++passes > PASSES) {
                Map<String, List<Path>> segments = new java.util.HashMap<>();
                Map<String, List<Path>> parents = new java.util.HashMap<>();
                String parentSep = "" + SEP + PARENT_MARK;
                for (int k = 0; k < names.size(); k++) {
                    String f = names.get(k);
                    String seg = segmentOf(f);
                    if (seg != null) {
                        segments.computeIfAbsent(seg, x -> new ArrayList<>(1)).add(entries.get(k));
                    }
                    for (int i = f.indexOf(parentSep); i >= 0; i = f.indexOf(parentSep, i + 1)) {
                        parents.computeIfAbsent(f.substring(i + 2), x -> new ArrayList<>(1)).add(entries.get(k));
                    }
                }
                bySegment = segments;
                byParent = parents;
            }
            return bySegment != null;
        }

        /** Every entry of the registry directory (the lock file too). */
        List<Path> entries(Path d) throws IOException {
            list(d);
            return entries;
        }

        /** The holder records of segment {@code name} (its name before the last {@code @}), dropped ones included. */
        List<Path> records(Path d, String name) throws IOException {
            if (indexed(d)) {
                return bySegment.getOrDefault(name, List.of());
            }
            List<Path> out = new ArrayList<>();
            int at = name.length();
            for (int k = 0; k < names.size(); k++) {
                String f = names.get(k);
                if (f.length() > at && f.charAt(at) == SEP && f.startsWith(name) && f.indexOf(SEP, at + 1) < 0) {
                    out.add(entries.get(k));
                }
            }
            return out;
        }

        /** The records whose name ends with {@code @^parent}: the parent holds {@code parent} gives. */
        List<Path> dependents(Path d, String parent) throws IOException {
            if (indexed(d)) {
                return byParent.getOrDefault(parent, List.of());
            }
            String suffix = "" + SEP + PARENT_MARK + parent;
            List<Path> out = new ArrayList<>();
            for (int k = 0; k < names.size(); k++) {
                if (names.get(k).endsWith(suffix)) {
                    out.add(entries.get(k));
                }
            }
            return out;
        }

        /** Every segment with a holder record of either kind, in name order. */
        Set<String> segments(Path d) throws IOException {
            list(d);
            Set<String> out = new java.util.TreeSet<>();
            for (String f : names) {
                String seg = segmentOf(f);
                if (seg != null) {
                    out.add(seg);
                }
            }
            return out;
        }

        /** Notes {@code record} of segment {@code seg} and counts it gone from now on; deleted by {@link #forget}. */
        void drop(String seg, Path record) {
            if (dropped.add(record)) {
                note(seg, record);
            }
        }

        boolean dropped(Path record) {
            return dropped.contains(record);
        }

        /**
         * True if the records of {@code seg} dropped so far all say which file they held: then
         * {@link #unlink} removes only that file, never another program's file that reuses the name.
         */
        boolean identityKnown(String seg) {
            return files.containsKey(seg) && !unknown.contains(seg);
        }

        /**
         * Deletes the dropped records, then the marks of the segments unlinked; called once this step's
         * unlinks are done. A process killed in between leaves a mark of a gone file, which a sweep deletes.
         */
        void forget() throws IOException {
            if (FAULTS && !dropped.isEmpty() && midUnlinkFault != null) {
                midUnlinkFault.beforeForgetting(Set.copyOf(dropped));
            }
            for (Path record : dropped) {
                Files.deleteIfExists(record);
            }
            dropped.clear();
            if (!unlinked.isEmpty()) {
                Path marks = registry.resolve(SHARED_MARKS);
                for (String seg : unlinked) {
                    Files.deleteIfExists(marks.resolve(seg));
                }
                unlinked.clear();
            }
        }

        /** Notes what process record {@code record} of segment {@code seg} says it held (parent holds say nothing). */
        void note(String seg, Path record) {
            String f = record.getFileName().toString();
            if (f.length() > seg.length() + 1 && f.charAt(seg.length() + 1) == PARENT_MARK) {
                return;
            }
            String[] fields = processRecordFields(record);
            if (fields == null) {
                return; // no record, nothing held
            }
            if (fields.length < 2) {
                unknown.add(seg);
            } else {
                files.computeIfAbsent(seg, k -> new java.util.HashSet<>()).add(fields[1]);
            }
        }

        /**
         * Unlinks segment {@code seg}'s file unless every noted record names another file: then the name
         * was reused by someone else since, and that file is not ours to remove.
         *
         * @return true if the file was unlinked
         */
        boolean unlink(String seg) throws IOException {
            Path path = nameablePath(seg);
            if (path == null) {
                return false;
            }
            Set<String> held = files.get(seg);
            if (held != null && !unknown.contains(seg)) {
                String now;
                try {
                    now = fileIdentity(path);
                } catch (NoSuchFileException gone) {
                    return false;
                }
                if (now != null && !held.contains(now)) {
                    LOG.log(System.Logger.Level.DEBUG, "multiproc: kept /dev/shm/" + seg
                            + ": its last holders' records name another file (" + held + ", now " + now + "): the name was reused");
                    return false;
                }
            }
            try {
                boolean removed = Files.deleteIfExists(path);
                if (removed) {
                    unlinked.add(seg);
                }
                return removed;
            } catch (IOException cannot) {
                // NOTE: not ours to remove after all (another user's file of that name, say); its records are
                // forgotten all the same, or every later sweep would fail on it (decision 175)
                LOG.log(System.Logger.Level.WARNING, "multiproc: cannot unlink /dev/shm/" + seg
                        + "; forgetting its records: " + cannot);
                return false;
            }
        }
    }

    /**
     * The /dev/shm file of a segment whose name was read back from the registry directory, or null when
     * this JVM cannot name that file again. NOTE: a listed name is decoded with the JVM's file-name charset
     * (sun.jnu.encoding: ASCII under LANG=C), which turns bytes it cannot decode into U+FFFD; such a string
     * either cannot be encoded back (InvalidPathException) or encodes to other bytes (a broken UTF-8 name
     * in a UTF-8 JVM), naming another file or none. Sweeps leave such a segment, records and all, to a
     * process whose charset can name it.
     */
    static Path nameablePath(String name) {
        if (name.indexOf('\uFFFD') >= 0) {
            return null;
        }
        try {
            return ShmFiles.SHM_DIR.resolve(name);
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    /** Whether parent segment {@code parent} exists; true when this JVM cannot tell ({@link #nameablePath}). */
    private static boolean parentExists(String parent) {
        Path path = nameablePath(parent);
        return path == null || Files.exists(path);
    }

    /**
     * Undoes an {@link #addHolder(String, String)} whose attach failed, in one locked step: drops this
     * process's record if that call {@code added} it, and gives {@code carrier} (null if none) back the
     * in-flight hold that call dropped. The item was taken but its object not adopted, so the segment stays
     * held by the carrier and goes with it; never left with no record (untracked, never swept). Never
     * unlinks: the segment may be someone else's.
     */
    public static void undoAddHolder(String name, String carrier, boolean added) throws IOException {
        if (carrier != null) {
            ShmFiles.validateName(carrier);
        }
        ShmFiles.validateName(name);
        locked(d -> {
            if (carrier != null) {
                countInFlight(d, name, carrier, +1, null);
            }
            if (added) {
                Files.deleteIfExists(d.resolve(name + SEP + SELF));
                HELD.remove(name);
            }
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
            // NOTE: the parent has a dependent now: its release must look for it (decision 177). A mark
            // left by a create that fails below is only a stale mark: it costs a directory read, no more.
            markShared(d, parent);
            markShared(d, name);
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
        addRecord(name, PARENT_MARK + parent, null);
    }

    /**
     * Drops this process's hold on {@code name}; when no live holder remains the segment is unlinked.
     * A process whose record is gone (someone unlinked the segment since) unlinks nothing.
     *
     * @return true if the segment was unlinked
     */
    public static boolean release(String name) throws IOException {
        return locked(d -> releaseLocked(d, name));
    }

    private static boolean releaseLocked(Path d, String name) throws IOException {
        Path own = d.resolve(name + SEP + SELF);
        HeldFiles heldFiles = new HeldFiles(d);
        boolean hadRecord = Files.exists(own, LinkOption.NOFOLLOW_LINKS);
        HELD.remove(name);
        if (!hadRecord) {
            // NOTE: another process unlinked it (unlink() deletes every process's record, but only its own
            // JVM's HELD) and the name may be another program's file by now: nothing there is ours.
            return false;
        }
        heldFiles.drop(name, own);
        if (!maybeShared(d, name) && heldFiles.identityKnown(name)) {
            // NOTE: no mark: this record, its creator's, is the segment's only one and nothing depends on it;
            // the registry directory (one read costs ~250 ns per entry) need not be read at all
            boolean unlinked = heldFiles.unlink(name);
            heldFiles.forget();
            return unlinked;
        }
        boolean unlinked = unlinkIfUnheld(d, name, heldFiles, liveHolders(d, name, heldFiles));
        heldFiles.forget();
        return unlinked;
    }

    /**
     * Unlinks {@code name} (and what only it held) if no live process or carrier holds it any more;
     * {@code holders} is {@link #liveHolders}'s answer for it.
     */
    private static boolean unlinkIfUnheld(Path d, String name, HeldFiles heldFiles, int holders) throws IOException {
        if (holders == SEGMENTS_ONLY) {
            // NOTE: held only by carriers (handles in flight): a cycle of them (a queue holding an item
            // that carries the queue) holds nothing alive, and would otherwise never go.
            return unlinkUnreachable(d, heldFiles).contains(name);
        }
        if (holders != NONE) {
            return false;
        }
        boolean unlinked = heldFiles.unlink(name);
        unlinkDependents(d, name, heldFiles);
        return unlinked;
    }

    /**
     * Unlinks the segments held only through parent holds that lead to no live process: cycles of
     * carriers (two queues whose items carry each other, a queue whose item carries itself) once every
     * process is gone. Segments without any record are untracked and count as live parents.
     *
     * @return the names unlinked
     */
    private static List<String> unlinkUnreachable(Path d, HeldFiles heldFiles) throws IOException {
        Map<String, List<String>> parentsOf = new java.util.HashMap<>();
        Set<String> tracked = new java.util.HashSet<>();
        Set<String> live = new java.util.HashSet<>();
        Map<String, Boolean> alive = new java.util.HashMap<>(); // per process: one /proc read each
        for (Path p : heldFiles.entries(d)) {
            String f = p.getFileName().toString();
            int at = f.lastIndexOf(SEP);
            if (at <= 0 || at == f.length() - 1 || heldFiles.dropped(p)) {
                continue;
            }
            String seg = f.substring(0, at);
            tracked.add(seg);
            if (nameablePath(seg) == null) {
                live.add(seg); // not ours to judge here: kept, and so is what it holds
            } else if (f.charAt(at + 1) == PARENT_MARK) {
                parentsOf.computeIfAbsent(seg, k -> new ArrayList<>()).add(f.substring(at + 2));
            } else if (alive.computeIfAbsent(f.substring(at + 1), k -> holderAlive(p))) {
                live.add(seg);
            }
        }
        for (boolean grew = true; grew; ) {
            grew = false;
            for (Map.Entry<String, List<String>> e : parentsOf.entrySet()) {
                if (live.contains(e.getKey())) {
                    continue;
                }
                for (String parent : e.getValue()) {
                    if (live.contains(parent) || !tracked.contains(parent) && parentExists(parent)) {
                        live.add(e.getKey());
                        grew = true;
                        break;
                    }
                }
            }
        }
        List<String> removed = new ArrayList<>();
        for (String seg : parentsOf.keySet()) {
            if (!live.contains(seg)) {
                for (Path record : heldFiles.records(d, seg)) {
                    heldFiles.drop(seg, record);
                }
                HELD.remove(seg);
                if (heldFiles.unlink(seg)) {
                    removed.add(seg);
                }
            }
        }
        return removed;
    }

    /** Drops the parent holds that {@code parent} (just unlinked) had, unlinking what nothing else holds. */
    private static void unlinkDependents(Path d, String parent, HeldFiles heldFiles) throws IOException {
        String suffix = "" + SEP + PARENT_MARK + parent;
        List<Path> dependents = new ArrayList<>();
        for (Path p : heldFiles.dependents(d, parent)) {
            if (!heldFiles.dropped(p)) {
                dependents.add(p);
            }
        }
        boolean heldOnlyBySegments = false;
        for (Path record : dependents) {
            String f = record.getFileName().toString();
            String child = f.substring(0, f.length() - suffix.length());
            if (nameablePath(child) == null) {
                continue; // its record stays, judged dead (its parent is gone) by a sweep that can name it
            }
            heldFiles.drop(child, record);
            int holders = liveHolders(d, child, heldFiles);
            if (holders == NONE) {
                heldFiles.unlink(child);
                unlinkDependents(d, child, heldFiles);
            } else if (holders == SEGMENTS_ONLY) {
                heldOnlyBySegments = true;
            }
        }
        if (heldOnlyBySegments) {
            // NOTE: a dependent held now only by segments may be in a cycle of them that nothing live reaches
            unlinkUnreachable(d, heldFiles);
        }
    }

    /** Unlinks {@code name} and forgets every holder record of it (CPython's {@code unlink()}). */
    public static void unlink(String name) throws IOException {
        Path path = ShmFiles.path(name);
        locked(d -> {
            Path own = d.resolve(name + SEP + SELF);
            // NOTE: the creator unlinking a segment nobody else marked (decision 177): its own record is the
            // only one and nothing depends on it, so the directory need not be read
            boolean alone = HELD.remove(name) && !maybeShared(d, name) && Files.exists(own, LinkOption.NOFOLLOW_LINKS);
            HeldFiles heldFiles = new HeldFiles(d);
            for (Path record : alone ? List.of(own) : heldFiles.records(d, name)) {
                heldFiles.drop(name, record);
            }
            try {
                Files.delete(path);
            } catch (IOException e) {
                heldFiles.forget(); // forgotten whatever the file's fate, as before
                throw e;
            }
            heldFiles.unlinked.add(name);
            if (!alone) {
                unlinkDependents(d, name, heldFiles);
            }
            heldFiles.forget();
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
                if (!holderAlive(record)) {
                    Files.deleteIfExists(record);
                    dead++;
                }
            }
            return dead;
        });
    }

    /**
     * True if someone other than this process may still use {@code name}: another live process holds it,
     * or a live carrier (a queue or pipe whose item names it) does. False also removes dead holders' records.
     */
    public static boolean heldByOthers(String name) throws IOException {
        return locked(d -> {
            boolean others = false;
            for (Path record : records(d, name)) {
                if (!holderAlive(record)) {
                    Files.deleteIfExists(record);
                } else if (!record.getFileName().toString().equals(name + SEP + SELF)) {
                    others = true;
                }
            }
            return others;
        });
    }

    /** True if this process holds {@code name}. */
    public static boolean holds(String name) {
        return HELD.contains(name);
    }

    private static final int NONE = 0;
    private static final int SEGMENTS_ONLY = 1;
    private static final int A_PROCESS = 2;

    /**
     * {@link #A_PROCESS} if a live process holds {@code name}, else {@link #SEGMENTS_ONLY} or {@link #NONE}.
     * Live holders' records are kept; dead ones are dropped into {@code heldFiles} (deleted by its
     * {@link HeldFiles#forget}); records already dropped there count as gone.
     */
    private static int liveHolders(Path d, String name, HeldFiles heldFiles) throws IOException {
        int live = NONE;
        for (Path record : heldFiles.records(d, name)) {
            if (heldFiles.dropped(record)) {
                continue;
            }
            if (holderAlive(record)) {
                String f = record.getFileName().toString();
                live = Math.max(live, f.charAt(name.length() + 1) == PARENT_MARK ? SEGMENTS_ONLY : A_PROCESS);
            } else {
                heldFiles.drop(name, record);
            }
        }
        return live;
    }

    /**
     * A process holder is alive while it runs, or while it cannot be judged (another pid namespace); a
     * parent holder ({@code ^PARENT}) while PARENT exists.
     */
    private static boolean holderAlive(Path record) {
        String recordName = record.getFileName().toString();
        int at = recordName.lastIndexOf(SEP);
        if (at <= 0) {
            return false;
        }
        if (recordName.length() > at + 1 && recordName.charAt(at + 1) == PARENT_MARK) {
            String parent = recordName.substring(at + 2);
            return !parent.isEmpty() && parentExists(parent);
        }
        ProcessIdentity p = processHolder(record, recordName.substring(at + 1));
        return p != null && p.isAlive();
    }

    /**
     * The process a record names, with the pid namespace its content records. NOTE: the content is read
     * only when /proc says the pid is not running: the usual answer costs no more than before.
     */
    private static ProcessIdentity processHolder(Path record, String identity) {
        ProcessIdentity p = ProcessIdentity.parse(identity);
        if (p == null || p.isAlive()) {
            return p;
        }
        String[] fields = processRecordFields(record);
        try {
            return fields == null || fields.length == 0 ? p
                    : new ProcessIdentity(p.pid(), p.startTicks(), Long.parseLong(fields[0]));
        } catch (NumberFormatException e) {
            return p; // gone meanwhile, empty (older versions) or garbled: judged in our namespace
        }
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

    private static ProcessIdentity identityOf(Path record) {
        String recordName = record.getFileName().toString();
        int at = recordName.lastIndexOf(SEP);
        return at <= 0 ? null : processHolder(record, recordName.substring(at + 1));
    }

    /**
     * Removes every tracked segment whose holders are all dead, dead holders' records, and the records of
     * segments whose file is gone.
     *
     * @return the names of the segments removed
     */
    public static List<String> sweep() throws IOException {
        return locked(d -> {
            List<String> removed = new ArrayList<>();
            HeldFiles heldFiles = new HeldFiles(d);
            List<String> unnameable = new ArrayList<>();
            for (String name : heldFiles.segments(d)) {
                Path path = nameablePath(name);
                if (path == null) {
                    unnameable.add(name);
                    continue;
                }
                if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                    // NOTE: records outlive their file only when a remover died between the two (decision 175):
                    // a record and its file are created under this lock, file after record, so none is in the making
                    for (Path record : heldFiles.records(d, name)) {
                        heldFiles.drop(name, record);
                    }
                    continue;
                }
                if (liveHolders(d, name, heldFiles) == NONE && heldFiles.unlink(name)) {
                    unlinkDependents(d, name, heldFiles);
                }
            }
            unlinkUnreachable(d, heldFiles);
            // NOTE: every unlink of this step, dependents (a dead manager's extension segments, a dead queue's
            // spills) included: `multiproc clean` promises to name each segment it removed
            removed.addAll(new java.util.LinkedHashSet<>(heldFiles.unlinked));
            heldFiles.forget();
            removeStaleMarks(d);
            if (!unnameable.isEmpty()) {
                LOG.log(System.Logger.Level.DEBUG, "multiproc: the sweep left segments whose names this JVM's file-name charset ("
                        + System.getProperty("sun.jnu.encoding") + ") cannot encode, for a process that can: " + unnameable);
            }
            return removed;
        });
    }

    /** Per segment: its process holders, and the segments holding it ({@code SEG@^PARENT} records). */
    private record Records(Map<String, List<ProcessIdentity>> processes, Map<String, List<String>> parents) {
    }

    private static Records recordsBySegment(Path d) throws IOException {
        Map<String, List<ProcessIdentity>> bySegment = new TreeMap<>();
        Map<String, List<String>> parents = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                String seg = segmentOf(f);
                if (seg == null) {
                    continue;
                }
                String holder = f.substring(seg.length() + 1);
                if (!holder.isEmpty() && holder.charAt(0) == PARENT_MARK) {
                    parents.computeIfAbsent(seg, k -> new ArrayList<>()).add(holder.substring(1));
                    continue;
                }
                ProcessIdentity id = identityOf(p);
                if (id != null) {
                    bySegment.computeIfAbsent(seg, k -> new ArrayList<>()).add(id);
                }
            }
        }
        return new Records(bySegment, parents);
    }

    /**
     * Every regular file in /dev/shm with its holders, tracked or not. Read-only: unlike the other entry
     * points it does not run the startup sweep, so that {@code multiproc ls} shows orphans as such.
     */
    public static List<SegmentInfo> list() throws IOException {
        Path d = dir != null ? dir : init();
        Records records = locked(d, SegmentRegistry::recordsBySegment);
        Map<String, List<ProcessIdentity>> bySegment = records.processes();
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
                out.add(new SegmentInfo(name, size, List.copyOf(holders),
                        List.copyOf(records.parents().getOrDefault(name, List.of())), false));
            }
        }
        // A segment is live if a holder runs, or a live segment holds it (as the sweep judges, cycles of
        // segments that no running process reaches included): spread liveness from the running holders.
        Map<String, SegmentInfo> byName = new java.util.HashMap<>();
        Map<String, List<String>> children = new java.util.HashMap<>();
        for (SegmentInfo s : out) {
            byName.put(s.name(), s);
            for (String parent : s.parents()) {
                children.computeIfAbsent(parent, k -> new ArrayList<>()).add(s.name());
            }
        }
        Set<String> live = new java.util.HashSet<>();
        java.util.ArrayDeque<String> reached = new java.util.ArrayDeque<>();
        for (SegmentInfo s : out) {
            if (s.holders().stream().anyMatch(Holder::alive) && live.add(s.name())) {
                reached.add(s.name());
            }
        }
        for (String seg; (seg = reached.poll()) != null; ) {
            for (String child : children.getOrDefault(seg, List.of())) {
                if (byName.containsKey(child) && live.add(child)) {
                    reached.add(child);
                }
            }
        }
        out.replaceAll(s -> live.contains(s.name()) ? new SegmentInfo(s.name(), s.size(), s.holders(), s.parents(), true) : s);
        out.sort(java.util.Comparator.comparing(SegmentInfo::name));
        return out;
    }

    private static void releaseAllAtExit() {
        for (String name : List.copyOf(HELD)) {
            try {
                release(name);
            } catch (IOException | RuntimeException | Error e) {
                // best effort at exit; the next sweep removes what is left once we are gone. NOTE: an Error
                // too (a class first loaded here from a jar replaced meanwhile, memory): the others still go
            }
        }
    }
}
