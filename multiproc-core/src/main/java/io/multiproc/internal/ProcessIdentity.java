package io.multiproc.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process as the kernel knows it: pid plus its start time in clock ticks since boot (field 22 of
 * {@code /proc/PID/stat}), plus the pid namespace the pid belongs to (the inode of
 * {@code /proc/self/ns/pid}). The pair stays unique when a pid is reused, so a record left by a dead
 * process is never mistaken for a live one.
 *
 * <p>Liveness is read from this process's /proc, which shows the pids of this process's pid namespace
 * only. A process of another pid namespace (another container sharing /dev/shm: a Kubernetes memory
 * volume, {@code --ipc=host}) cannot be judged that way: its pid may be absent here or name another
 * process. Such a process is therefore never judged dead ({@link #isAlive()} says true: "alive or
 * unknown"); processes of its own namespace judge it.
 *
 * <pre>{@code
 * ProcessIdentity me = ProcessIdentity.current();
 * boolean alive = ProcessIdentity.of(1234).map(ProcessIdentity::isAlive).orElse(false);
 * }</pre>
 *
 * <p>Not part of the public API.
 *
 * @param pidNamespace the inode of the process's pid namespace; 0 when unknown, taken as this process's
 */
public record ProcessIdentity(long pid, long startTicks, long pidNamespace) {
    /** This process's pid namespace: the inode of /proc/self/ns/pid, or 0 if it cannot be read. */
    public static final long OWN_NAMESPACE = readOwnNamespace();
    private static final ProcessIdentity CURRENT = read(ProcessHandle.current().pid());

    /** A process of this process's pid namespace (or a record that did not say which). */
    public ProcessIdentity(long pid, long startTicks) {
        this(pid, startTicks, OWN_NAMESPACE);
    }

    public static ProcessIdentity current() {
        return CURRENT;
    }

    /** The identity of a running process, or empty if there is no process with that pid. */
    public static java.util.Optional<ProcessIdentity> of(long pid) {
        return java.util.Optional.ofNullable(read(pid));
    }

    /**
     * True while this very process (not a later one with the same pid) is running and not a zombie, and
     * always for a process of another pid namespace, which this process's /proc cannot judge.
     */
    public boolean isAlive() {
        if (!sameNamespace(pidNamespace)) {
            return true;
        }
        String stat = readStat(pid);
        if (stat == null) {
            return false;
        }
        if (stat == UNREADABLE) {
            return true;
        }
        String[] fields = fieldsAfterComm(stat);
        // fields[0] is the state: Z (zombie) and X (dead) no longer run, even if not yet reaped.
        char state = fields[0].charAt(0);
        return state != 'Z' && state != 'X' && Long.parseLong(fields[19]) == startTicks;
    }

    /** True if a process of pid namespace {@code ns} can be judged by this process's /proc. */
    public static boolean sameNamespace(long ns) {
        return ns == OWN_NAMESPACE || ns == 0 || OWN_NAMESPACE == 0;
    }

    private static long readOwnNamespace() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self/ns/pid"), "unix:ino")).longValue();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static ProcessIdentity read(long pid) {
        String stat = readStat(pid);
        return stat == null || stat == UNREADABLE ? null : new ProcessIdentity(pid, Long.parseLong(fieldsAfterComm(stat)[19]), OWN_NAMESPACE);
    }

    /** {@link #readStat}'s answer for a stat file that exists but could not be read: the process may run. */
    private static final String UNREADABLE = new String("unreadable");

    /**
     * The stat line of {@code pid}; null if there is no such process; {@link #UNREADABLE} if it could not be
     * read for another reason (no file descriptor left, no memory, no permission), which says nothing about
     * the process. Judging such a process dead unlinked segments live processes mapped and took locks
     * over from live holders.
     */
    private static String readStat(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return gone(e) ? null : UNREADABLE;
        }
    }

    /** True if {@code e}, from reading a process's /proc entry, means the process is gone. */
    static boolean gone(IOException e) {
        // NOTE: the entry is missing (never was, or reaped), or the process exited while it was read (ESRCH)
        return e instanceof java.nio.file.NoSuchFileException
                || (e.getMessage() != null && e.getMessage().contains("No such process"));
    }

    /**
     * CPU time (user + system, in clock ticks: 10 ms at the usual 100 Hz) of the process or thread whose
     * stat file {@code stat} is ({@code /proc/PID/stat}, {@code /proc/self/stat}, {@code /proc/thread-self/stat});
     * 0 if it is gone or unreadable. For pacing background work to idle moments.
     */
    public static long cpuTicks(Path stat) {
        try {
            String[] f = fieldsAfterComm(Files.readString(stat, StandardCharsets.ISO_8859_1));
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Fields after "pid (comm)": comm may hold spaces and parentheses, so split after the last ')'. */
    private static String[] fieldsAfterComm(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /**
     * This identity in one 64-bit word, for CAS-able owner fields. Never 0; bits 61 to 63 are always 0
     * (lock words use 62 and 63 as flags, condition slots keep their state there).
     * <pre>
     *  bits 61-63: 0 | bits 54-60: pid namespace tag | bits 32-53: pid | bits 0-31: start ticks (low 32 bits)
     * </pre>
     * The low 32 bits of the start time (clock ticks since boot) tell a reused pid apart; a pid fits 22
     * bits (Linux's PID_MAX_LIMIT is 2^22). The namespace tag is the low 7 bits of the pid namespace's
     * inode: a token whose tag differs from this process's comes from another namespace and is never
     * judged dead ({@link #isAlive(long)}). Two namespaces whose inodes differ by a multiple of 128 share
     * a tag and are judged as one, as before namespaces were recorded.
     */
    public long token() {
        return namespaceTag(pidNamespace) << NS_SHIFT | (pid & PID_MASK) << 32 | (startTicks & 0xffff_ffffL);
    }

    private static final int NS_SHIFT = 54;
    private static final long NS_TAG_MASK = 0x7f; // 7 bits: 61-63 stay free for the sync package's flags
    private static final long PID_MASK = (1L << 22) - 1;
    private static final long OWN_TAG = namespaceTag(OWN_NAMESPACE);

    private static long namespaceTag(long ns) {
        return (ns == 0 ? OWN_NAMESPACE : ns) & NS_TAG_MASK;
    }

    /** The pid in a {@link #token()}. */
    public static long pidOf(long token) {
        return token >>> 32 & PID_MASK;
    }

    /**
     * True while the process a {@link #token()} names is running, and always for a token of another pid
     * namespace (see {@link #token()}), which this process's /proc cannot judge.
     */
    public static boolean isAlive(long token) {
        if ((token >>> NS_SHIFT & NS_TAG_MASK) != OWN_TAG) {
            return true;
        }
        String stat = readStat(pidOf(token));
        if (stat == null) {
            return false;
        }
        if (stat == UNREADABLE) {
            return true;
        }
        String[] fields = fieldsAfterComm(stat);
        char state = fields[0].charAt(0);
        return state != 'Z' && state != 'X' && (Long.parseLong(fields[19]) & 0xffff_ffffL) == (token & 0xffff_ffffL);
    }

    /** How long a process seen alive counts as alive for {@link #isAliveRecently(long)}. */
    public static final long ALIVE_CACHE_NANOS = 5_000_000L;
    private static final int CACHE_SLOTS = 16;
    /** Tokens recently seen alive; racy slots of immutable entries (a lost update costs one /proc read). */
    private static final AliveAt[] RECENTLY_ALIVE = new AliveAt[CACHE_SLOTS];

    private record AliveAt(long token, long nanos) {
    }

    /**
     * Like {@link #isAlive(long)}, but a process seen alive in the last {@link #ALIVE_CACHE_NANOS} is
     * taken as alive without reading /proc again (a read costs ~10 µs; a waiter asks on every failed
     * attempt). A death is therefore noticed up to that much later. Dead answers are never cached.
     */
    public static boolean isAliveRecently(long token) {
        int slot = (int) (token ^ token >>> 29) & (CACHE_SLOTS - 1);
        AliveAt seen = RECENTLY_ALIVE[slot];
        long now = System.nanoTime();
        if (seen != null && seen.token == token && now - seen.nanos < ALIVE_CACHE_NANOS) {
            return true;
        }
        boolean alive = isAlive(token);
        if (alive) {
            RECENTLY_ALIVE[slot] = new AliveAt(token, now);
        }
        return alive;
    }

    /** {@code PID.STARTTICKS}: the namespace is not part of it (registry records keep it in their content). */
    @Override
    public String toString() {
        return pid + "." + startTicks;
    }

    /** Parses {@link #toString()}'s form back (a process of this namespace), or returns null if it is not one. */
    public static ProcessIdentity parse(String s) {
        int dot = s.indexOf('.');
        if (dot <= 0) {
            return null;
        }
        try {
            return new ProcessIdentity(Long.parseLong(s.substring(0, dot)), Long.parseLong(s.substring(dot + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
