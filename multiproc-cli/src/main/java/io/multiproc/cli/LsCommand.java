package io.multiproc.cli;

import io.multiproc.internal.SegmentRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * Lists /dev/shm segments with their kind and holders. Read-only: it never removes anything (the
 * registry's startup sweep is skipped for listing), so an orphan stays visible until {@code clean}.
 */
@Command(name = "ls", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"List shared-memory segments in /dev/shm with their kind and holders.",
                "Read-only: never removes anything.",
                "",
                "Columns:",
                "  NAME     the file in /dev/shm (the name SharedMemory.attach, SharedLong.attach",
                "           etc. take)",
                "  SIZE     bytes",
                "  KIND     the multiproc structure read from the segment header (value, array,",
                "           queue, pipe, lock, ..., manager: a Manager's heap, pool-holds: a",
                "           Pool's hold table); 'raw' for SharedMemory, ShareableList, numpy or",
                "           foreign segments",
                "  STATE    live: a holder runs (or a live segment holds it); orphaned: every",
                "           holder died ('multiproc clean' removes it); untracked: not in the",
                "           multiproc registry (never removed by clean)",
                "  HOLDERS  each holding process: pid, alive or dead, and its command line while",
                "           it runs; 'segment NAME' for a segment holding it (a manager's heap,",
                "           a queue carrying it)"})
final class LsCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON object per segment instead of the table.")
    boolean json;

    /** Header magics ("MPVALUE1" read little-endian) to kind names; the trailing digit is the layout version. */
    private static final Map<String, String> KINDS = Map.ofEntries(Map.entry("MPVALUE", "value"), Map.entry("MPARRAY", "array"),
            Map.entry("MPQUEUE", "queue"), Map.entry("MPPIPE0", "pipe"), Map.entry("MPSPILL", "queue-spill"),
            Map.entry("MPBBARR", "barrier"), Map.entry("MPSEMAP", "semaphore"), Map.entry("MPEVENT", "event"),
            Map.entry("MPCONDV", "condition"), Map.entry("MPCPLOC", "lock"), Map.entry("MPPOOLH", "pool-holds"),
            Map.entry("MPMHEAP", "manager"));

    @Override
    public Integer call() throws Exception {
        List<SegmentRegistry.SegmentInfo> segments = SegmentRegistry.list();
        Map<String, Path> paths = shmPaths();
        if (!json) {
            System.out.printf(Locale.ROOT, "%-40s %12s  %-11s %-9s %s%n", "NAME", "SIZE", "KIND", "STATE", "HOLDERS");
        }
        for (SegmentRegistry.SegmentInfo s : segments) {
            String kind = kindOf(paths.get(s.name()));
            if (json) {
                String holders = s.holders().stream().map(h -> "{\"pid\":" + h.process().pid() + ",\"alive\":" + h.alive()
                        + ",\"command\":" + commandLine(h).map(Json::quote).orElse("null") + "}").collect(Collectors.joining(","));
                String heldBy = s.parents().stream().map(Json::quote).collect(Collectors.joining(","));
                System.out.println("{\"name\":" + Json.quote(s.name()) + ",\"size\":" + s.size() + ",\"kind\":" + Json.quote(kind)
                        + ",\"state\":" + Json.quote(state(s)) + ",\"holders\":[" + holders + "],\"held_by\":[" + heldBy + "]}");
            } else {
                String holders = s.holders().stream()
                        .map(h -> "pid " + h.process().pid() + (h.alive() ? " alive" : " dead")
                                + commandLine(h).map(c -> " (" + abbreviate(c) + ")").orElse(""))
                        .collect(Collectors.joining("; "));
                String heldBy = s.parents().stream().map(p -> "segment " + p).collect(Collectors.joining("; "));
                holders = holders.isEmpty() ? heldBy : heldBy.isEmpty() ? holders : holders + "; " + heldBy;
                System.out.printf(Locale.ROOT, "%-40s %12d  %-11s %-9s %s%n", s.name(), s.size(), kind, state(s),
                        holders.isEmpty() ? "-" : holders);
            }
        }
        if (!json) {
            long orphans = segments.stream().filter(SegmentRegistry.SegmentInfo::orphaned).count();
            System.out.println(segments.size() + " segment(s), " + orphans + " orphaned"
                    + (orphans > 0 ? ": 'multiproc clean' removes them" : ""));
        }
        return 0;
    }

    private static String state(SegmentRegistry.SegmentInfo s) {
        return !s.tracked() ? "untracked" : s.orphaned() ? "orphaned" : "live";
    }

    /** The running holder's command line, from /proc; unknown once it died. */
    private static java.util.Optional<String> commandLine(SegmentRegistry.Holder h) {
        if (!h.alive()) {
            return java.util.Optional.empty();
        }
        return ProcessHandle.of(h.process().pid()).flatMap(p -> p.info().commandLine());
    }

    /** JVM options that take the next argument as their value, skipped when looking for the main class. */
    private static final java.util.Set<String> VALUE_OPTIONS = java.util.Set.of("-cp", "-classpath", "--class-path",
            "-p", "--module-path", "--add-modules", "--add-opens", "--add-exports", "--add-reads", "--patch-module");

    /**
     * For the table: a JVM as {@code java MAIN-CLASS-OR-JAR args}, since its class path hides what runs;
     * anything else as its command line, both cut to 70 characters. {@code --json} has the whole line.
     */
    static String abbreviate(String commandLine) {
        String[] words = commandLine.split(" ");
        String s = commandLine;
        if (words.length > 1 && (words[0].equals("java") || words[0].endsWith("/java"))) {
            for (int i = 1; i < words.length; i++) {
                String w = words[i];
                if (VALUE_OPTIONS.contains(w)) {
                    i++;
                } else if (w.equals("-jar") || w.equals("-m") || w.equals("--module")) {
                    s = "java " + String.join(" ", java.util.Arrays.copyOfRange(words, i, words.length));
                    break;
                } else if (!w.startsWith("-")) {
                    s = "java " + String.join(" ", java.util.Arrays.copyOfRange(words, i, words.length));
                    break;
                }
            }
        }
        return s.length() <= 70 ? s : s.substring(0, 67) + "...";
    }

    /**
     * The files in /dev/shm by name, each the {@link Path} the listing gave. NOTE: such a Path keeps the
     * name's bytes; one rebuilt from the name string does not when the name is not in the JVM's file-name
     * charset (LANG=C makes it ASCII, and a UTF-8 name then reads "caf" and two U+FFFD, which cannot be
     * encoded again). Two names that read the same are ambiguous: neither gets a path.
     */
    private static Map<String, Path> shmPaths() throws IOException {
        Map<String, Path> paths = new java.util.HashMap<>();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/dev/shm"))) {
            for (Path p : ds) {
                paths.merge(p.getFileName().toString(), p, (a, b) -> AMBIGUOUS);
            }
        }
        paths.values().removeIf(p -> p == AMBIGUOUS);
        return paths;
    }

    private static final Path AMBIGUOUS = Path.of("");

    /** The kind read from the header of the file at {@code path}; "raw" if none can be read (or path is null). */
    static String kindOf(Path path) {
        if (path == null) {
            return "raw";
        }
        byte[] magic = new byte[8];
        try (InputStream in = Files.newInputStream(path)) {
            if (in.readNBytes(magic, 0, 8) < 8) {
                return "raw";
            }
        } catch (IOException gone) {
            return "raw";
        }
        // The header stores the magic as a little-endian long, so its bytes read in file order spell it.
        String text = new String(magic, 0, 7, StandardCharsets.ISO_8859_1);
        return KINDS.getOrDefault(text, "raw");
    }
}
