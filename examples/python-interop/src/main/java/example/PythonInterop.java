package example;

import io.multiproc.shared.SharedDoubleArray;
import io.multiproc.shm.ShareableList;
import io.multiproc.shm.SharedMemory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

/**
 * Java and Python sharing memory both ways, without copying:
 * <ol>
 *   <li>Java fills a {@link SharedDoubleArray} and a {@link ShareableList}; read_from_java.py maps the
 *       same names (numpy over the array's bytes, CPython's own ShareableList), reads and writes back.</li>
 *   <li>create_for_java.py creates a float64 array in a {@code SharedMemory} and a ShareableList; Java
 *       attaches by name, reads and writes; Python checks what Java wrote.</li>
 * </ol>
 * Run: {@code examples/python-interop/run.sh}, or build it ({@code mvn package} after {@code bin/install}) and
 * {@code java --enable-native-access=ALL-UNNAMED -cp target/python-interop.jar:multiproc-core.jar example.PythonInterop DIR}
 * where DIR holds the two Python scripts.
 * Exits with 1 if either side did not see what the other wrote.
 */
public final class PythonInterop {
    private static final int LENGTH = 1_000_000;

    public static void main(String[] args) throws Exception {
        Path scripts = Path.of(args.length > 0 ? args[0] : ".");
        javaCreatesPythonReads(scripts);
        pythonCreatesJavaReads(scripts);
        System.out.println("OK: Java read Python's writes and Python read Java's, both directions");
    }

    /** Direction 1: Java owns the segments; Python attaches. */
    static void javaCreatesPythonReads(Path scripts) throws Exception {
        System.out.println("== Java creates, Python reads and writes back");
        try (SharedDoubleArray a = SharedDoubleArray.create(LENGTH);
             ShareableList sl = ShareableList.create(null, List.of(41L, "status: waiting", 0.5, true))) {
            try {
                MemorySegment data = a.segment(); // the packed doubles, a.dataOffset() bytes into the segment
                for (int i = 0; i < LENGTH; i++) {
                    data.setAtIndex(JAVA_DOUBLE, i, i * 0.5);
                }
                Process py = python(scripts, "read_from_java.py", a.name(), Long.toString(a.dataOffset()),
                        Integer.toString(LENGTH), sl.name());
                echo(new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8)), null);
                expectExit(py);
                System.out.println("java sees a[10]=" + a.get(10) + " list=" + sl);
                check(a.get(10) == 10.0 && a.get(LENGTH - 1) == LENGTH - 1.0, "Python doubled the array in place");
                check(sl.equals(List.of(42L, "from python", 2.75, true)), "Python's writes to the list");
            } finally {
                sl.unlink();
            }
        }
    }

    /** Direction 2: Python owns the segments; Java attaches (never ownership) and Python unlinks. */
    static void pythonCreatesJavaReads(Path scripts) throws Exception {
        System.out.println("== Python creates, Java reads and writes back");
        Process py = python(scripts, "create_for_java.py", Integer.toString(LENGTH));
        BufferedReader out = new BufferedReader(new InputStreamReader(py.getInputStream(), StandardCharsets.UTF_8));
        Map<String, String> names = new HashMap<>();
        echo(out, names);
        try (SharedMemory shm = SharedMemory.attach(names.get("array"));
             ShareableList sl = ShareableList.attach(names.get("list"))) {
            MemorySegment a = shm.segment(); // numpy's float64 array, no copy
            System.out.println("java sees a[10]=" + a.getAtIndex(JAVA_DOUBLE, 10) + " list=" + sl);
            check(a.getAtIndex(JAVA_DOUBLE, 10) == 10.0, "the array Python filled");
            check(sl.subList(0, 4).equals(Arrays.asList(0L, "from python", 1.5, null)), "the list Python created");
            for (long i = 0; i < LENGTH; i++) {
                a.setAtIndex(JAVA_DOUBLE, i, a.getAtIndex(JAVA_DOUBLE, i) + 1);
            }
            sl.set(0, 7L);
            sl.set(1, "from java");
            sl.setDouble(2, sl.getDouble(2) * 2);
            sl.set(3, true);
            sl.set(4, new byte[] {9});
        }
        try (Writer in = py.outputWriter(StandardCharsets.UTF_8)) {
            in.write("done\n");
        }
        List<String> rest = out.lines().peek(line -> System.out.println("  python> " + line)).toList();
        expectExit(py);
        check(rest.contains("python sees a[10]=11.0 a[-1]=" + (double) LENGTH), "Python saw Java's writes to its array");
        check(rest.contains("python sees list=[7, 'from java', 3.0, True, b'\\t']"), "Python saw Java's writes to its list");
    }

    private static Process python(Path scripts, String script, String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("python3", scripts.resolve(script).toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PYTHONIOENCODING", "utf-8");
        return pb.start();
    }

    /**
     * Prints Python's lines; with {@code names}, stops after the {@code list=} line, keeping the
     * {@code key=value} lines that name segments.
     */
    private static void echo(BufferedReader out, Map<String, String> names) throws IOException {
        for (String line; (line = out.readLine()) != null; ) {
            System.out.println("  python> " + line);
            int eq = line.indexOf('=');
            if (names != null && eq > 0 && (line.startsWith("array=") || line.startsWith("list="))) {
                names.put(line.substring(0, eq), line.substring(eq + 1));
                if (line.startsWith("list=")) {
                    return;
                }
            }
        }
        if (names != null) {
            throw new IllegalStateException("Python exited before naming its segments");
        }
    }

    private static void expectExit(Process py) throws InterruptedException {
        int code = py.waitFor();
        if (code != 0) {
            throw new IllegalStateException("python3 exited with " + code);
        }
    }

    private static void check(boolean ok, String what) {
        System.out.println((ok ? "OK:     " : "FAILED: ") + what);
        if (!ok) {
            System.exit(1);
        }
    }
}
