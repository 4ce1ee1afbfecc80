package io.multiproc.cli;

import io.multiproc.cli.bench.Row;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.shm.SharedMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CliTest {
    private final PrintStream realOut = System.out;
    private final PrintStream realErr = System.err;

    @AfterEach
    void restore() {
        System.setOut(realOut);
        System.setErr(realErr);
        for (ChildProcess c : ChildProcess.activeChildren()) {
            c.close();
        }
    }

    private record Result(int exit, String out, String err) {
    }

    private Result run(String... args) {
        return runCommand(new Main(), args);
    }

    private Result runCommand(Object command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(command).execute(args);
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(realOut);
            System.setErr(realErr);
        }
    }

    @Test
    void benchRejectsAnUnknownScenarioByName() {
        Result r = run("bench", "--scenario", "no-such-thing");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--scenario=no-such-thing").contains("value-counter");
    }

    @Test
    void benchJsonPrintsFirstRunRowsThenSteadyStateRowsWithNoLostUpdates() {
        Result r = run("bench", "--scenario", "value-counter", "--json");
        assertThat(r.exit()).isZero();
        java.util.List<String> lines = r.out().strip().lines().toList();
        // the README's program once in a fresh JVM (lock-free, then getLock()), then the warmed work phases
        assertThat(lines).hasSize(4);
        assertThat(lines).allSatisfy(line -> assertThat(line).startsWith("{\"scenario\":\"value-counter").endsWith("}")
                .contains("\"java_total_s\":").doesNotContain("WRONG RESULT"));
        assertThat(lines.subList(0, 2)).allSatisfy(line -> assertThat(line).contains("\"phase\":\"first run\"")
                .contains("fresh JVM").doesNotContain("\"java_total_s\":null"));
        assertThat(lines.subList(2, 4)).allSatisfy(line -> assertThat(line).contains("\"phase\":\"steady state\"")
                .contains("\"java_work_s\":").contains("lost 0;"));
        assertThat(lines.get(1)).contains("locked");
        assertThat(lines.get(3)).contains("locked");
        assertThat(r.err()).contains("[1/1] value-counter ...").contains("[1/1] value-counter done in");
    }

    /** Scenarios that return one made-up row each, except {@code failing}, which throws. */
    private static BenchCommand.Bench benchWhere(String failing) {
        return new BenchCommand.Bench() {
            @Override
            public List<Row> run(String name) {
                if (name.equals(failing)) {
                    throw new IllegalStateException("benchmark child c1 failed: exit 1");
                }
                return List.of(new Row(name, 1.5, 0.5, 3.0, 1.0, 2.0, "made up"));
            }

            @Override
            public java.util.Optional<String> pythonMissing() {
                return java.util.Optional.empty();
            }
        };
    }

    @Test
    void benchKeepsTheRowsOfTheOtherScenariosWhenOneFailsAndExitsNonzeroNamingIt() {
        Result r = runCommand(new BenchCommand(() -> benchWhere("shm-square")),
                "--scenario", "value-counter", "--scenario", "shm-square", "--scenario", "process-start");
        assertThat(r.exit()).as("a failed scenario fails the run (CI runs bin/multiproc bench)").isEqualTo(1);
        List<String> lines = r.out().strip().lines().toList();
        assertThat(lines.get(0)).startsWith("scenario");
        assertThat(lines.get(1)).startsWith("value-counter").contains("1.5000").contains("made up");
        assertThat(lines.get(2)).startsWith("shm-square").contains("failed")
                .contains("IllegalStateException: benchmark child c1 failed: exit 1");
        assertThat(lines.get(3)).startsWith("process-start").contains("made up");
        assertThat(r.err()).contains("[3/3] process-start done in")
                .contains("shm-square failed").contains("benchmark child c1 failed: exit 1");
    }

    @Test
    void benchJsonKeepsStreamingRowsAfterAFailedScenario() {
        Result r = runCommand(new BenchCommand(() -> benchWhere("value-counter")),
                "--json", "--repeat", "2", "--scenario", "value-counter", "--scenario", "shm-square");
        assertThat(r.exit()).isEqualTo(1);
        List<String> lines = r.out().strip().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("\"scenario\":\"value-counter\"").contains("\"phase\":\"failed\"")
                .contains("\"java_total_s\":null").contains("failed in 2 of 2 runs");
        assertThat(lines.get(1)).contains("\"scenario\":\"shm-square\"").contains("\"java_total_s\":1.50000");
    }

    @Test
    void benchRejectsARepeatCountOutOfRangeNamingIt() {
        Result r = run("bench", "--scenario", "value-counter", "--repeat", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--repeat=0");
    }

    @Test
    void everySubcommandHasHelpSayingWhatItNeedsAndWhatItsColumnsMean() {
        for (String[] args : new String[][] {{"bench", "--help"}, {"bench", "-h"}, {"help", "bench"}}) {
            Result r = run(args);
            assertThat(r.exit()).as(String.join(" ", args)).isZero();
            assertThat(r.out()).contains("Usage: multiproc bench").contains("python3").contains("numpy")
                    .contains("ratio").contains("--scenario");
        }
        for (String[] args : new String[][] {{"ls", "--help"}, {"ls", "-h"}, {"help", "ls"}}) {
            Result r = run(args);
            assertThat(r.exit()).as(String.join(" ", args)).isZero();
            assertThat(r.out()).contains("Usage: multiproc ls").contains("--json").contains("orphaned").contains("HOLDERS");
        }
        for (String[] args : new String[][] {{"clean", "--help"}, {"clean", "-h"}, {"help", "clean"}}) {
            Result r = run(args);
            assertThat(r.exit()).as(String.join(" ", args)).isZero();
            assertThat(r.out()).contains("Usage: multiproc clean").contains("never one with a live holder");
        }
        assertThat(run("--help").out()).contains("bench").contains("ls").contains("clean").contains("help");
    }

    /**
     * Picocli wraps description lines at 80 columns: lines written longer came out broken mid-entry
     * ("(the name SharedMemory.attach / SharedLong." then "attach etc. take)" at column 0).
     */
    @Test
    void everyHelpLineOfEveryCommandIsPrintedWhole() {
        List<CommandLine> commands = new java.util.ArrayList<>(List.of(Main.commandLine()));
        for (int i = 0; i < commands.size(); i++) {
            commands.addAll(commands.get(i).getSubcommands().values());
        }
        commands.removeIf(c -> c.getCommand() instanceof CommandLine.HelpCommand); // picocli's own, not ours
        for (CommandLine c : commands) {
            String help = c.getUsageMessage();
            for (String line : c.getCommandSpec().usageMessage().description()) {
                assertThat(help.lines().toList()).as(c.getCommandSpec().qualifiedName() + " --help")
                        .contains(line.stripTrailing());
            }
        }
        assertThat(run("--help").out().lines()).as("the command list shows each first line: a whole sentence")
                .noneMatch(l -> l.stripTrailing().endsWith(";"));
    }

    @Test
    void benchTableComesWholeAfterTheProgressLines() {
        Result r = run("bench", "--scenario", "value-counter");
        assertThat(r.exit()).isZero();
        List<String> lines = r.out().strip().lines().toList();
        assertThat(lines.get(0)).startsWith("scenario").contains("java work s").contains("ratio");
        assertThat(lines.get(1)).startsWith("value-counter");
        assertThat(r.err()).contains("multiproc bench: [1/1] value-counter ...");
    }

    /** Creates a SharedMemory segment named args[0], says "ready", and sleeps until it is SIGKILLed. */
    public static final class OrphanMaker {
        public static void main(String[] args) throws Exception {
            SharedMemory.create(args[0], 4096);
            System.out.println("ready");
            System.out.flush();
            Thread.sleep(120_000);
        }
    }

    /** Puts a SharedLong on a SharedQueue and closes its own handle: the queue alone holds the long. */
    public static final class CarryingQueueMaker {
        public static void main(String[] args) throws Exception {
            io.multiproc.queue.SharedQueue<SharedLong> q = io.multiproc.queue.SharedQueue.create(4);
            SharedLong carried = SharedLong.create(7);
            q.put(carried);
            String carriedName = carried.name();
            carried.close();
            System.out.println(q.name() + " " + carriedName);
            System.out.flush();
            Thread.sleep(120_000);
        }
    }

    @Test
    void lsCallsASegmentHeldByALiveQueueLiveAndOnceTheQueuesOwnerIsKilledCleanNamesEverySegmentItRemoves(
            @TempDir Path registryRoot) throws Exception {
        Process owner = javaProcess(registryRoot, CarryingQueueMaker.class.getName());
        String queue = null;
        String carried = null;
        try {
            var reader = new java.io.BufferedReader(new java.io.InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
            String[] names = reader.readLine().split(" ");
            queue = names[0];
            carried = names[1];

            Result ls = cliProcess(registryRoot, "ls");
            assertThat(ls.exit()).isZero();
            assertThat(ls.out()).containsPattern(carried + "\\s+\\d+\\s+value\\s+live\\s+segment " + queue);
            Result json = cliProcess(registryRoot, "ls", "--json");
            String carriedLine = "{\"name\":\"" + carried + "\"";
            assertThat(json.out().lines().filter(l -> l.startsWith(carriedLine)).toList()).singleElement().asString()
                    .contains("\"state\":\"live\"").endsWith("\"held_by\":[\"" + queue + "\"]}");

            owner.destroyForcibly(); // SIGKILL: the queue's holder is gone, and with it what held the long
            assertThat(owner.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            ls = cliProcess(registryRoot, "ls");
            assertThat(ls.out()).containsPattern(carried + "\\s+\\d+\\s+value\\s+orphaned\\s+segment " + queue)
                    .containsPattern(queue + "\\s+\\d+\\s+queue\\s+orphaned");

            Result clean = cliProcess(registryRoot, "clean");
            assertThat(clean.exit()).isZero();
            assertThat(clean.out().lines().filter(l -> l.startsWith("removed ")).toList())
                    .contains("removed " + queue, "removed " + carried);
            assertThat(Path.of("/dev/shm", queue)).doesNotExist();
            assertThat(Path.of("/dev/shm", carried)).doesNotExist();
        } finally {
            owner.destroyForcibly();
            owner.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            if (queue != null) {
                Files.deleteIfExists(Path.of("/dev/shm", queue));
                Files.deleteIfExists(Path.of("/dev/shm", carried));
            }
        }
    }

    /** A fresh JVM on the test class path, as `multiproc` runs: its registry opens in that JVM, not this one. */
    private Process javaProcess(Path registryRoot, String mainClass, String... args) throws Exception {
        return javaProcess(java.util.Map.of(), registryRoot, mainClass, args);
    }

    private Process javaProcess(java.util.Map<String, String> env, Path registryRoot, String mainClass, String... args)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                // NOTE: a registry of this test's own (once the registry honours it), so that other JVMs'
                // startup sweeps on a busy machine cannot remove the orphan between the test's steps.
                "-Dmultiproc.test.registryRoot=" + registryRoot, mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        return pb.start();
    }

    private Result cliProcess(Path registryRoot, String... args) throws Exception {
        return cliProcess(java.util.Map.of(), registryRoot, args);
    }

    private Result cliProcess(java.util.Map<String, String> env, Path registryRoot, String... args) throws Exception {
        Process p = javaProcess(env, registryRoot, Main.class.getName(), args);
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out, err.get(60, java.util.concurrent.TimeUnit.SECONDS));
    }

    @Test
    void lsShowsTheOrphanOfAKilledJvmWithoutRemovingItAndCleanRemovesItReportingItOnce(@TempDir Path registryRoot)
            throws Exception {
        String name = "mpcli_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
        Path file = Path.of("/dev/shm", name);
        Process owner = javaProcess(registryRoot, OrphanMaker.class.getName(), name);
        try {
            var reader = new java.io.BufferedReader(new java.io.InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
            assertThat(reader.readLine()).isEqualTo("ready");
            long ownerPid = owner.pid();
            owner.destroyForcibly(); // SIGKILL: no shutdown hook runs, the segment and its record stay
            assertThat(owner.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(file).exists();

            Result ls = cliProcess(registryRoot, "ls");
            assertThat(ls.exit()).isZero();
            assertThat(ls.out()).containsPattern(name + "\\s+4096\\s+raw\\s+orphaned\\s+pid " + ownerPid + " dead");
            assertThat(file).as("ls is read-only").exists();

            Result json = cliProcess(registryRoot, "ls", "--json");
            assertThat(json.exit()).isZero();
            assertThat(json.out().lines().filter(l -> l.contains(name)).toList()).singleElement().isEqualTo(
                    "{\"name\":\"" + name + "\",\"size\":4096,\"kind\":\"raw\",\"state\":\"orphaned\",\"holders\":[{\"pid\":"
                            + ownerPid + ",\"alive\":false,\"command\":null}],\"held_by\":[]}");
            assertThat(file).as("ls --json is read-only").exists();

            Result clean = cliProcess(registryRoot, "clean");
            assertThat(clean.exit()).isZero();
            assertThat(clean.out().lines().filter(l -> l.contains(name)).toList()).containsExactly("removed " + name);
            assertThat(clean.err()).doesNotContain(name);
            assertThat(file).doesNotExist();
        } finally {
            owner.destroyForcibly();
            Files.deleteIfExists(file);
        }
    }

    /** The C locale: the JVM's file names are ASCII (sun.jnu.encoding), so a UTF-8 name decodes with U+FFFD. */
    private static final java.util.Map<String, String> ASCII_LOCALE = java.util.Map.of("LANG", "C", "LC_ALL", "C");

    @Test
    void lsInAnAsciiLocaleListsASegmentWithAUtf8NameAndReadsItsKind(@TempDir Path registryRoot) throws Exception {
        String prefix = "mpcli_" + ProcessHandle.current().pid() + "_" + System.nanoTime() + "_caf";
        Path file = Path.of("/dev/shm", prefix + "\u00e9"); // this JVM's names are UTF-8: the bytes c3 a9
        try {
            byte[] header = new byte[4096];
            System.arraycopy("MPVALUE1".getBytes(StandardCharsets.US_ASCII), 0, header, 0, 8);
            Files.write(file, header);
            Result ls = cliProcess(ASCII_LOCALE, registryRoot, "ls");
            assertThat(ls.err()).doesNotContain("InvalidPathException");
            assertThat(ls.exit()).isZero();
            assertThat(ls.out()).containsPattern(prefix + "\\S+\\s+4096\\s+value\\s+untracked");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void cleanInAnAsciiLocaleLeavesAnOrphanItCannotNameToAUtf8CleanAndRemovesTheOthers(@TempDir Path registryRoot)
            throws Exception {
        String base = "mpcli_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
        String utf8 = base + "_caf\u00e9";
        String ascii = base + "_plain";
        Path registry = Files.createDirectory(registryRoot.resolve("multiproc-" + Files.getAttribute(Path.of("/proc/self"), "unix:uid")),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String deadHolder = gone.pid() + ".1"; // a pid that ran and ended; start ticks 1 match no running process
        try {
            for (String name : List.of(utf8, ascii)) {
                Files.write(Path.of("/dev/shm", name), new byte[4096]);
                Files.createFile(registry.resolve(name + "@" + deadHolder));
            }
            Result clean = cliProcess(ASCII_LOCALE, registryRoot, "clean");
            assertThat(clean.err()).doesNotContain("InvalidPathException");
            assertThat(clean.exit()).isZero();
            assertThat(clean.out()).contains("removed " + ascii).doesNotContain("_caf");
            assertThat(Path.of("/dev/shm", ascii)).doesNotExist();
            assertThat(Path.of("/dev/shm", utf8)).as("left for a JVM that can name it").exists();

            Result utf8Clean = cliProcess(registryRoot, "clean");
            assertThat(utf8Clean.exit()).isZero();
            assertThat(utf8Clean.out()).contains("removed " + utf8);
            assertThat(Path.of("/dev/shm", utf8)).doesNotExist();
        } finally {
            Files.deleteIfExists(Path.of("/dev/shm", utf8));
            Files.deleteIfExists(Path.of("/dev/shm", ascii));
        }
    }

    @Test
    void lsShowsKindAndTheLiveHoldersCommandLine() throws Exception {
        try (io.multiproc.shared.SharedLong counter = io.multiproc.shared.SharedLong.create(7)) {
            Result ls = run("ls");
            String line = ls.out().lines().filter(l -> l.startsWith(counter.name() + " ")).findFirst().orElseThrow();
            assertThat(line).containsPattern("\\s+value\\s+live\\s+pid " + ProcessHandle.current().pid() + " alive \\(java ");
        }
        try (io.multiproc.manager.Manager m = io.multiproc.manager.Manager.start()) {
            Result ls = run("ls");
            assertThat(ls.out().lines().filter(l -> l.contains(m.name())).toList()).as("a manager's heap, not 'raw'")
                    .isNotEmpty().allMatch(l -> l.matches(".*\\s+manager\\s+live\\s+.*"));
        }
    }

    @Test
    void lsShowsAJvmHolderByItsMainClassOrJarNotItsClassPath() {
        assertThat(LsCommand.abbreviate("/usr/lib/jvm/jdk-25/bin/java --enable-native-access=ALL-UNNAMED -cp /a.jar:/b.jar"
                + " -Xmx1g com.acme.Main input.txt")).isEqualTo("java com.acme.Main input.txt");
        assertThat(LsCommand.abbreviate("java -jar app.jar --port 1")).isEqualTo("java -jar app.jar --port 1");
        assertThat(LsCommand.abbreviate("python3 -c " + "x".repeat(100))).hasSize(70).endsWith("...");
    }

    @Test
    void lsShowsALiveOwnersSegmentAndCleanLeavesIt() throws Exception {
        try (SharedMemory shm = SharedMemory.create(null, 4096)) {
            try {
                Result ls = run("ls");
                assertThat(ls.exit()).isZero();
                assertThat(ls.out()).containsPattern(shm.name() + "\\s+4096\\s+raw\\s+live\\s+pid " + ProcessHandle.current().pid() + " alive");
                Result clean = run("clean");
                assertThat(clean.exit()).isZero();
                assertThat(clean.out()).doesNotContain(shm.name());
                assertThat(Files.exists(Path.of("/dev/shm", shm.name()))).isTrue();
            } finally {
                shm.unlink();
            }
        }
    }

    /**
     * Any other process of this user that opens the registry also sweeps dead holders' segments (a spare
     * booting after the owner's death does, decision 162), so the killed owner's segment can be gone
     * before clean looks, or while clean is listing: that attempt checks nothing, and another one is made.
     */
    @Test
    void cleanRemovesTheSegmentOfAKilledOwner() throws Exception {
        boolean checked = false;
        for (int attempt = 0; attempt < 8 && !checked; attempt++) {
            checked = killOwnerThenClean("mpcli_" + ProcessHandle.current().pid() + "_" + System.nanoTime());
        }
        assertThat(checked).as("an attempt where the segment was still there for clean").isTrue();
    }

    /** False if another process's sweep removed the dead owner's segment before clean ran. */
    private boolean killOwnerThenClean(String name) throws Exception {
        SharedLong created = SharedLong.create(0);
        ChildProcess owner = ChildProcess.start(() -> {
            try {
                SharedMemory.create(name, 4096);
                created.set(1);
                Thread.sleep(60_000);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try {
            Path file = Path.of("/dev/shm", name);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (created.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(file).exists();
            owner.kill();
            owner.join();
            if (!Files.exists(file)) {
                return false;
            }
            Result clean = run("clean");
            if (!clean.out().contains("removed " + name) && !Files.exists(file)) {
                return false; // a sweeper won the race while clean was starting up
            }
            assertThat(clean.out()).contains("removed " + name);
            assertThat(file).doesNotExist();
            return true;
        } finally {
            owner.close();
            created.close();
            Files.deleteIfExists(Path.of("/dev/shm", name));
        }
    }

    @picocli.CommandLine.Command(name = "fail")
    static final class Failing implements Runnable {
        @Override
        public void run() {
            throw new IllegalStateException("the registry is not ours", new java.io.IOException("permission denied"));
        }
    }

    @Test
    void aCommandThatFailsPrintsOneLineNamingWhyAndExitsOne() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cli = Main.commandLine().addSubcommand(new Failing());
        cli.setErr(new java.io.PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        assertThat(cli.execute("fail")).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(
                "multiproc fail: the registry is not ours: permission denied" + System.lineSeparator());
    }
}
