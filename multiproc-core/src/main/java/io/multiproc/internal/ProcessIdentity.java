package io.multiproc.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process as the kernel knows it: pid plus its start time in clock ticks since boot (field 22 of
 * {@code /proc/PID/stat}). The pair stays unique when a pid is reused, so a record left by a dead
 * process is never mistaken for a live one.
 *
 * <pre>{@code
 * ProcessIdentity me = ProcessIdentity.current();
 * boolean alive = ProcessIdentity.of(1234).map(ProcessIdentity::isAlive).orElse(false);
 * }</pre>
 *
 * <p>Not part of the public API.
 */
public record ProcessIdentity(long pid, long startTicks) {
    private static final ProcessIdentity CURRENT = read(ProcessHandle.current().pid());

    public static ProcessIdentity current() {
        return CURRENT;
    }

    /** The identity of a running process, or empty if there is no process with that pid. */
    public static java.util.Optional<ProcessIdentity> of(long pid) {
        return java.util.Optional.ofNullable(read(pid));
    }

    /** True while this very process (not a later one with the same pid) is running and not a zombie. */
    public boolean isAlive() {
        String stat = readStat(pid);
        if (stat == null) {
            return false;
        }
        String[] fields = fieldsAfterComm(stat);
        // fields[0] is the state: Z (zombie) and X (dead) no longer run, even if not yet reaped.
        char state = fields[0].charAt(0);
        return state != 'Z' && state != 'X' && Long.parseLong(fields[19]) == startTicks;
    }

    private static ProcessIdentity read(long pid) {
        String stat = readStat(pid);
        return stat == null ? null : new ProcessIdentity(pid, Long.parseLong(fieldsAfterComm(stat)[19]));
    }

    private static String readStat(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return null;
        }
    }

    /** Fields after "pid (comm)": comm may hold spaces and parentheses, so split after the last ')'. */
    private static String[] fieldsAfterComm(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /**
     * This identity in one 64-bit word, for CAS-able owner fields: {@code pid << 32 | (startTicks & 0xffffffff)}.
     * Never 0. The low 32 bits of the start time (clock ticks since boot) tell a reused pid apart.
     */
    public long token() {
        return pid << 32 | (startTicks & 0xffff_ffffL);
    }

    /** The pid in a {@link #token()}. */
    public static long pidOf(long token) {
        return token >>> 32;
    }

    /** True while the process a {@link #token()} names is running. */
    public static boolean isAlive(long token) {
        String stat = readStat(pidOf(token));
        if (stat == null) {
            return false;
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

    @Override
    public String toString() {
        return pid + "." + startTicks;
    }

    /** Parses {@link #toString()}'s form back, or returns null if it is not one. */
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
