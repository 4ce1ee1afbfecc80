package io.multiproc.process;

import io.multiproc.shared.SharedLong;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The spare JVM policy with real child JVMs, without timing: how many spares a burst leaves, when they
 * retire, how many JVMs boot at once, and that a start takes a spare still booting rather than starting
 * another JVM. Speed itself is measured by {@code multiproc bench --scenario process-start}.
 */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class SparePolicyTest {
    private static final Duration LONG_ENOUGH = Duration.ofSeconds(60);

    @BeforeEach
    @AfterEach
    void defaults() {
        SpareJvms.resetToDefaults();
    }

    @Test
    void afterABurstOfKStartsKSparesAreBooted() throws Exception {
        int k = 4;
        ChildProcess.setMaxSpareJvms(k);
        List<ChildProcess> burst = new ArrayList<>();
        try (SharedLong gate = SharedLong.create(0)) {
            for (int i = 0; i < k; i++) {
                burst.add(ChildProcess.start(() -> awaitNonZero(gate)));
            }
            gate.set(1);
            Children.joinAllOk(burst.toArray(ChildProcess[]::new));
        } finally {
            Children.reap(burst.toArray(ChildProcess[]::new));
        }

        assertThat(SpareJvms.wantedNow()).isEqualTo(k);
        assertThat(SpareJvms.awaitBooted(k, LONG_ENOUGH)).as("%d spares booted", k).isTrue();
        assertThat(SpareJvms.spares()).hasSize(k).allSatisfy(p -> assertThat(comm(p.pid())).isEqualTo("mp-spare"));
    }

    /** A task's first attach (a pool worker's pipes) does not pay for opening the registry (decision 162). */
    @Test
    void aBootedSpareHasOpenedTheSegmentRegistryBeforeItsTask() throws Exception {
        Children.joinOk(ChildProcess.start(() -> { })); // there is a spare from now on
        assertThat(SpareJvms.awaitBooted(1, LONG_ENOUGH)).as("a spare booted").isTrue();
        ChildProcess child = ChildProcess.start(() -> {
            if (!io.multiproc.internal.SegmentRegistry.isOpen()) {
                throw new IllegalStateException("the spare had not opened the segment registry");
            }
        });
        try {
            Children.joinOk(child);
        } finally {
            Children.reap(child);
        }
    }

    @Test
    void aSecondChildRaisesTheSparesToCpuCount() throws Exception {
        ChildProcess.setMaxSpareJvms(64);
        assertThat(SpareJvms.wantedNow()).isEqualTo(1);

        Children.joinOk(ChildProcess.start(() -> { }));
        Children.joinOk(ChildProcess.start(() -> { }));

        assertThat(SpareJvms.wantedNow()).isEqualTo(Math.max(1, io.multiproc.Multiproc.cpuCount()));
    }

    @Test
    void burstSparesRetireAfterTheIdleTimeoutAndTheBaseStays() throws Exception {
        ChildProcess.setMaxSpareJvms(3);
        List<ChildProcess> burst = new ArrayList<>();
        try (SharedLong gate = SharedLong.create(0)) {
            for (int i = 0; i < 3; i++) {
                burst.add(ChildProcess.start(() -> awaitNonZero(gate)));
            }
            gate.set(1);
            Children.joinAllOk(burst.toArray(ChildProcess[]::new));
        }
        assertThat(SpareJvms.awaitBooted(3, LONG_ENOUGH)).isTrue();
        List<Process> spares = SpareJvms.spares();
        assertThat(spares).hasSize(3);

        ChildProcess.setSpareJvmsIdleTimeout(Duration.ofSeconds(1));

        Children.awaitUntil("burst spares retired", () -> SpareJvms.spares().size() == 1 && SpareJvms.wantedNow() == 1);

        Children.awaitUntil("retired spare JVMs exited", () -> spares.stream().filter(Process::isAlive).count() <= 1);
    }

    @Test
    void noMoreJvmsBootAtOnceThanTheBound() throws Exception {
        ChildProcess.setSpareJvms(0); // every start is cold: the bound alone decides
        ChildProcess.setMaxBootingJvms(1);
        Children.awaitUntil("earlier tests' JVMs booted", () -> bootingChildren() == 0);
        List<ChildProcess> children = new ArrayList<>();
        int most;
        try {
            most = mostBootingWhile(() -> {
                for (int i = 0; i < 3; i++) {
                    children.add(ChildProcess.start(() -> { }));
                }
                Children.joinAllOk(children.toArray(ChildProcess[]::new));
            });
        } finally {
            Children.reap(children.toArray(ChildProcess[]::new));
        }

        assertThat(most).as("child JVMs seen booting at once").isEqualTo(1);
    }

    /**
     * Back-to-back starts take a spare that may still be booting; a replacement booting beside it on the
     * same cores made each start slower than a cold one. Only one JVM boots at a time here.
     */
    @Test
    void backToBackStartsNeverBootASpareBesideABootingChild() throws Exception {
        assertThat(SpareJvms.awaitBooted(1, LONG_ENOUGH)).isTrue();
        Children.awaitUntil("earlier tests' JVMs booted", () -> bootingChildren() == 0);
        int most = mostBootingWhile(() -> {
            for (int i = 0; i < 6; i++) {
                Children.joinOk(ChildProcess.start(() -> { }));
            }
        });

        assertThat(most).as("JVMs seen booting at once during back-to-back starts").isEqualTo(1);
    }

    /**
     * A program's first start spends 100-300 ms serializing its task (class loading); its JVM boots
     * meanwhile instead of after. Here every core runs a child, so no spare boots on its own.
     */
    @Test
    void aStartWithNoSpareLaunchesItsJvmBeforeSerializingTheTask() throws Exception {
        int cores = io.multiproc.Multiproc.cpuCount();
        List<ChildProcess> busy = new ArrayList<>();
        try (SharedLong gate = SharedLong.create(0)) {
            for (int i = 0; i < cores; i++) {
                busy.add(ChildProcess.start(() -> awaitNonZero(gate)));
            }
            Children.awaitUntil("the busy children booted and no spare is left",
                    () -> bootingChildren() == 0 && SpareJvms.spares().isEmpty());
            SlowToSerialize task = new SlowToSerialize();
            try (ChildProcess p = ChildProcess.start(task)) {
                assertThat(SlowToSerialize.childrenWhileSerializing).as("this JVM's children while the task was serialized")
                        .contains(p.pid());
                Children.joinOk(p);
            } finally {
                gate.set(1);
            }
            Children.joinAllOk(busy.toArray(ChildProcess[]::new));
        } finally {
            Children.reap(busy.toArray(ChildProcess[]::new));
        }
    }

    /** A task whose serialization takes 300 ms and records which child JVMs existed by its end. */
    static final class SlowToSerialize implements SerializableRunnable {
        private static final long serialVersionUID = 1L;
        static volatile List<Long> childrenWhileSerializing = List.of();

        @Override
        public void run() {
        }

        private void writeObject(java.io.ObjectOutputStream out) throws IOException {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            childrenWhileSerializing = ProcessHandle.current().children().map(ProcessHandle::pid).toList();
            out.defaultWriteObject();
        }
    }

    @Test
    void aStartTakesASpareThatIsStillBootingInsteadOfStartingAnotherJvm() throws Exception {
        ChildProcess.setSpareJvms(1);
        SpareJvms.reserve(1);
        Children.awaitUntil("a spare launched", () -> !SpareJvms.spares().isEmpty());
        long spare = SpareJvms.spares().get(0).pid();

        try (ChildProcess p = ChildProcess.start(() -> { })) {
            assertThat(p.pid()).isEqualTo(spare);
            Children.joinOk(p);
        }
    }

    /**
     * A pool of n with default JVM options reserves n spares before it starts its workers (also past
     * the spare cap), so its workers are JVMs launched as spares, not cold starts one after another.
     */
    @Test
    void aPoolOfNReservesNSparesAndItsWorkersAreSpares() throws Exception {
        ChildProcess.setMaxSpareJvms(1);
        int n = 2;
        try (Pool pool = Pool.create(n)) {
            assertThat(SpareJvms.wantedNow()).as("spares wanted while a pool of %d runs, cap 1", n).isEqualTo(n);
            assertThat(pool.map(x -> x + 1, List.of(1, 2, 3, 4), 1)).containsExactly(2, 3, 4, 5);
            for (long pid : pool.workerPids()) {
                assertThat(cmdline(pid)).as("worker %d's command line", pid).endsWith(" SPARE");
            }
        }
    }

    /** Pool.create() on a host of more than 64 CPUs used to fail naming a setting the user never made. */
    @Test
    void aPoolLargerThanTheSpareLimitReservesTheLimitInsteadOfFailing() throws Exception {
        ChildProcess.setMaxBootingJvms(1);
        SpareJvms.reserve(SpareJvms.LIMIT + 32);
        assertThat(SpareJvms.wantedNow()).isEqualTo(SpareJvms.LIMIT);
        assertThatThrownBy(() -> SpareJvms.reserve(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("count=-1");
    }

    @Test
    void aPoolWithJvmOptionsReservesNothing() throws Exception {
        ChildProcess.setMaxSpareJvms(1);
        try (Pool pool = Pool.builder().workers(2).jvmOptions(List.of("-Xmx128m")).build()) {
            assertThat(SpareJvms.wantedNow()).isEqualTo(1);
        }
    }

    @Test
    void badSettingsAreRejectedWithTheirValues() {
        assertThatThrownBy(() -> ChildProcess.setMaxSpareJvms(-2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spareJvms=-2");
        assertThatThrownBy(() -> ChildProcess.setMaxBootingJvms(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBootingJvms=0");
        assertThatThrownBy(() -> ChildProcess.setSpareJvmsIdleTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("idleTimeout=PT0S");
        assertThat(ChildProcess.maxBootingJvms()).isEqualTo(SpareJvms.maxBooting());
    }

    @Test
    void aSparesWarmUpWaitsWhileASiblingJvmBoots() throws Exception {
        ChildProcess.setSpareJvms(0); // no spare of this JVM boots beside the sibling below
        long me = ProcessHandle.current().pid();
        Children.awaitUntil("no child of this JVM boots", () -> !ChildMain.siblingBooting(me, -1));
        // A plain JVM that never renames itself: to its siblings it is booting until it exits.
        Process sibling = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), SleepMain.class.getName()).start();
        try {
            Children.awaitUntil("the sibling is seen booting", () -> ChildMain.siblingBooting(me, -1));
            assertThat(ChildMain.siblingBooting(me, sibling.pid())).as("a JVM is not its own sibling").isFalse();
            long[] waited = {0};
            Thread warmUp = new Thread(() -> {
                long t0 = System.nanoTime();
                ChildMain.awaitSiblingsBooted(me, () -> false);
                waited[0] = System.nanoTime() - t0;
            });
            warmUp.start();
            Thread.sleep(300);
            assertThat(warmUp.isAlive()).as("the warm-up waits while the sibling boots").isTrue();
            sibling.destroyForcibly().waitFor();
            warmUp.join(ChildMain.SIBLING_WAIT_MILLIS + 10_000);
            assertThat(waited[0]).as("the warm-up waited about until the sibling was gone, ns")
                    .isBetween(300_000_000L, ChildMain.SIBLING_WAIT_MILLIS * 1_000_000L);
        } finally {
            sibling.destroyForcibly();
        }
    }

    @Test
    void aReplacementSpareWaitsWhileTheChildJustStartedRunsIfASpareIsLeft() throws Exception {
        ChildProcess.setSpareJvms(2);
        assertThat(SpareJvms.awaitBooted(2, LONG_ENOUGH)).as("2 spares booted").isTrue();
        long delayMillis = SpareJvms.REPLACEMENT_DELAY_NANOS / 1_000_000;
        // Retried while the machine was too slow to look within the delay (no conclusion either way).
        boolean looked = false;
        for (int attempt = 0; attempt < 5 && !looked; attempt++) {
            Children.awaitUntil("2 spares booted again", () -> SpareJvms.spares().size() == 2 && SpareJvms.takeMostBooting() == 0
                    && SpareJvms.takeMostBooting() == 0);
            try (SharedLong gate = SharedLong.create(0)) {
                ChildProcess child = ChildProcess.start(() -> awaitNonZero(gate));
                long t0 = System.nanoTime();
                try {
                    Thread.sleep(delayMillis / 3);
                    int mostBooting = SpareJvms.takeMostBooting();
                    if ((System.nanoTime() - t0) / 1_000_000 < delayMillis * 2 / 3) {
                        looked = true;
                        assertThat(mostBooting).as("JVMs booting in the child's first %d ms", delayMillis / 3).isZero();
                    }
                    Children.awaitUntil("the replacement boots while the child still runs", () -> SpareJvms.spares().size() == 2);
                    assertThat(child.isAlive()).isTrue();
                } finally {
                    gate.set(1);
                    Children.joinOk(child);
                }
            }
        }
        assertThat(looked).as("looked within the delay once in 5 tries").isTrue();
        // no spare left booting for the next test (a dismissed booting spare holds a boot slot)
        assertThat(SpareJvms.awaitBooted(2, LONG_ENOUGH)).isTrue();
    }

    @Test
    void aSparesWarmUpPausesWhileASiblingComputesAndGoesOnWhenItStops() throws Exception {
        long me = ProcessHandle.current().pid();
        try (SharedLong spin = SharedLong.create(1)) {
            // Eight spinning threads: well above 40% of a core even on a loaded 2-core machine.
            ChildProcess busy = ChildProcess.start(() -> {
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        while (spin.get() != 0) {
                            Thread.onSpinWait();
                        }
                    }));
                }
                for (Thread t : threads) {
                    t.join();
                }
            });
            Children.awaitUntil("the sibling computes", () -> ChildMain.cpuTicks(busy.pid()) > 20);
            // The warm-up's view from a JVM of the same parent (this test JVM is the parent) while the sibling spins
            assertThat(nanosPausedInASecondOfWarmUp(me, false)).as("ns paused in a second of warm-up beside a computing sibling")
                    .isGreaterThan(500_000_000L);
            spin.set(0);
            Children.joinOk(busy);
            // Once it stops, the warm-up goes on (this JVM idle enough: waits up to the children's timeout);
            // other programs' load, which this machine may have now, is another rule's (the next test's)
            ChildMain.IdlePacer after = new ChildMain.IdlePacer(me, () -> false, false);
            Thread.sleep(ChildMain.IdlePacer.WINDOW_MILLIS + 10); // a window has passed: it looks
            long t1 = System.nanoTime();
            assertThat(after.stopOrPause()).isFalse();
            assertThat(System.nanoTime() - t1).as("ns until it went on").isLessThan(Children.TIMEOUT.toNanos());
        }
    }

    @Test
    void aSparesWarmUpPausesWhileAnotherProgramFillsEveryCoreAndGoesOnWhenItStops() throws Exception {
        // CPython beside Java on one machine: a program that is neither the spare's parent nor a sibling
        // (here: children of this test JVM, while the pacer's "parent" is an idle process of its own).
        Process parent = new ProcessBuilder("sleep", "60").start();
        List<Process> hogs = new ArrayList<>();
        try {
            int cpus = ChildMain.IdlePacer.machineCpus();
            assertThat(cpus).as("CPUs counted in /proc/stat").isPositive();
            for (int i = 0; i < cpus; i++) {
                hogs.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
            }
            Children.awaitUntil("the other program computes",
                    () -> hogs.stream().mapToLong(h -> ChildMain.cpuTicks(h.pid())).sum() > 20L * cpus);
            assertThat(nanosPausedInASecondOfWarmUp(parent.pid(), true)).as("ns paused in a second of warm-up while every core is taken")
                    .isGreaterThan(500_000_000L);
            for (Process h : hogs) {
                h.destroyForcibly().waitFor();
            }
            // Once the other program stops, the warm-up goes on. Programs beside this test (other test runs
            // on a shared machine) may keep every core busy as long as they like, and then the pacer rightly
            // stays paused; so this pacer sees the machine as it would be without them: /proc/stat's busy
            // ticks grow by this JVM's and the parent's ticks only (the parent has no other children).
            long me = ProcessHandle.current().pid();
            long base = ChildMain.IdlePacer.machineTicks()[0] - ChildMain.cpuTicks(me) - ChildMain.cpuTicks(parent.pid());
            Supplier<long[]> withoutOthers = () -> new long[] {base + ChildMain.cpuTicks(me) + ChildMain.cpuTicks(parent.pid()), cpus};
            ChildMain.IdlePacer after = new ChildMain.IdlePacer(parent.pid(), () -> false, true, withoutOthers);
            Thread.sleep(ChildMain.IdlePacer.WINDOW_MILLIS + 10);
            long t1 = System.nanoTime();
            assertThat(after.stopOrPause()).isFalse();
            assertThat(System.nanoTime() - t1).as("ns until it went on").isLessThan(Children.TIMEOUT.toNanos());
        } finally {
            for (Process h : hogs) {
                h.destroyForcibly();
            }
            parent.destroyForcibly();
        }
    }

    /** A JVM that sleeps until killed, under its launcher's name {@code java}. */
    public static final class SleepMain {
        public static void main(String[] args) throws InterruptedException {
            Thread.sleep(60_000);
        }
    }

    // ---- helpers ----

    /**
     * A spare's warm-up as its pacer sees it from a JVM whose parent is {@code parentPid} (minding other
     * programs or not): a second of
     * warm-up iterations (1 ms each); returns the nanoseconds the pacer held it paused.
     */
    private static long nanosPausedInASecondOfWarmUp(long parentPid, boolean otherPrograms) throws InterruptedException {
        long t0 = System.nanoTime();
        ChildMain.IdlePacer pacer = new ChildMain.IdlePacer(parentPid, () -> System.nanoTime() - t0 > 1_000_000_000L, otherPrograms);
        long paused = 0;
        while (true) {
            long p0 = System.nanoTime();
            boolean stop = pacer.stopOrPause();
            paused += System.nanoTime() - p0;
            if (stop) {
                return paused;
            }
            Thread.sleep(1);
        }
    }

    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body} while a thread samples {@link #bootingChildren()}; returns the most it saw. */
    private static int mostBootingWhile(Body body) throws Exception {
        AtomicInteger most = new AtomicInteger();
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                most.accumulateAndGet(bootingChildren(), Math::max);
                Thread.onSpinWait();
            }
        });
        sampler.start();
        try {
            body.run();
        } finally {
            sampling.set(false);
            sampler.join();
        }
        return most.get();
    }

    /** This JVM's child JVMs that have not booted yet (process name still {@code java}). */
    private static int bootingChildren() {
        int[] n = {0};
        ProcessHandle.current().children().forEach(h -> {
            String comm = comm(h.pid());
            if (comm.equals("java") || comm.equals("jspawnhelper")) {
                n[0]++;
            }
        });
        return n[0];
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static void awaitNonZero(SharedLong v) {
        long deadline = System.nanoTime() + LONG_ENOUGH.toNanos();
        while (v.get() == 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static String cmdline(long pid) throws IOException {
        return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"))).replace('\0', ' ').strip();
    }
}
