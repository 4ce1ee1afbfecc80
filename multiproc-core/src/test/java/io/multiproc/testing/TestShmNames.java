package io.multiproc.testing;

import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names for /dev/shm entries a test creates by name (including through a Python child, which our
 * segment registry never sees): {@code mpt_TAG_PID_RANDOM}, PID being this test JVM. The pid lets
 * {@link ReapChildrenCheckShm} tell another test run's entries on the same machine from this run's
 * leaks; without it, a Python-created entry of a concurrent run that lived longer than the grace
 * period under load was reported as this test's leak.
 */
public final class TestShmNames {
    private static final Pattern NAME = Pattern.compile("mpt_[a-z]+_([0-9]+)_[0-9a-f]+");

    private TestShmNames() {
    }

    /** A fresh name with {@code tag} (lower-case letters). */
    public static String unique(String tag) {
        if (!tag.matches("[a-z]+")) {
            throw new IllegalArgumentException("tag='" + tag + "' must be lower-case letters");
        }
        return "mpt_" + tag + "_" + ProcessHandle.current().pid() + "_"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
    }

    /** Whether {@code name} is such a name made by a live test JVM other than this one. */
    static boolean madeByAnotherLiveRun(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return false;
        }
        long pid;
        try {
            pid = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return false;
        }
        return pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
