package io.multiproc.internal;

import io.multiproc.shared.SharedLong;
import io.multiproc.sync.SharedLock;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two processes of different pid namespaces sharing /dev/shm, for {@link PidNamespaceTest}. Not a test
 * itself. {@code host}: creates a lock and a value, starts the guest in a new pid namespace
 * ({@code unshare --pid --fork --mount-proc}), and reports on stdout whether it takes the guest's lock
 * over and whether releasing its own hold removes the value the guest holds. {@code guest NAMES}: attaches,
 * locks, says "ready", and waits for its stdin to close. Both use the registry root given by the system
 * property, so that no other process's sweep meets records of another namespace.
 */
public final class PidNamespaceScenario {
    private PidNamespaceScenario() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("guest")) {
            guest(args[1], args[2]);
        } else {
            host();
        }
    }

    private static void guest(String lockName, String valueName) throws Exception {
        try (SharedLock lock = SharedLock.attach(lockName); SharedLong v = SharedLong.attach(valueName)) {
            lock.lock();
            v.incrementAndGet();
            System.out.println("ready pid=" + ProcessHandle.current().pid());
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the host closes our stdin
            }
            lock.unlock();
        }
    }

    private static void host() throws Exception {
        SharedLock lock = SharedLock.create();
        SharedLong v = SharedLong.create(0);
        String valueName = v.name();
        List<String> command = new ArrayList<>(List.of("unshare", "--pid", "--fork", "--mount-proc",
                ProcessHandle.current().info().command().orElseThrow(),
                "-D" + SegmentRegistry.TEST_ROOT_PROPERTY + "=" + System.getProperty(SegmentRegistry.TEST_ROOT_PROPERTY),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                PidNamespaceScenario.class.getName(), "guest", lock.name(), valueName));
        Process guest = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(guest.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine();
            System.out.println(ready != null && ready.startsWith("ready") ? "guest ready" : "guest failed: " + ready);
            System.out.println("guest " + (ready != null && !ready.equals("ready pid=" + guest.pid()) ? "has its own pid" : "shares our pids"));
            System.out.println(v.get() == 1 ? "guest attached" : "guest did not attach");
            boolean taken = lock.tryLock(Duration.ofMillis(300));
            System.out.println(taken ? "lock taken over" : "lock not taken over");
            if (taken) {
                lock.unlock();
            }
            v.close();
            SegmentRegistry.sweep();
            System.out.println(Files.exists(Path.of("/dev/shm", valueName)) ? "value kept" : "value removed");
            guest.getOutputStream().close();
            System.out.println(guest.waitFor(30, TimeUnit.SECONDS) && guest.exitValue() == 0 ? "guest exited" : "guest failed");
            System.out.println(Files.exists(Path.of("/dev/shm", valueName)) ? "value left behind" : "value removed by the guest");
        } finally {
            guest.destroyForcibly();
            lock.close();
            v.close();
        }
    }
}
