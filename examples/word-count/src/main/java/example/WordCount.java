package example;

import io.multiproc.process.ChildProcess;
import io.multiproc.queue.SharedQueue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A parallel word count: WORKERS child JVMs take file names from one queue and send each file's counts
 * back on another; the parent merges them and prints the 10 most frequent words.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp target/word-count.jar:multiproc-core.jar example.WordCount DIR
 * </pre>
 */
public final class WordCount {
    private static final int WORKERS = 2;
    private static final String DONE = "";   // one per worker: no more files

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : ".");
        List<String> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).map(Path::toString).filter(f -> f.endsWith(".txt")).toList();
        }
        try (SharedQueue<String> todo = SharedQueue.create(64);
             SharedQueue<HashMap<String, Integer>> results = SharedQueue.create(64)) {
            List<ChildProcess> workers = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                // The lambda is serialized to the child; todo and results travel as their segment names.
                workers.add(ChildProcess.start(() -> {
                    try {
                        for (String file; !(file = todo.take()).equals(DONE); ) {
                            results.put(count(Path.of(file)));
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            for (String f : files) {
                todo.put(f);
            }
            for (int w = 0; w < WORKERS; w++) {
                todo.put(DONE);
            }
            Map<String, Integer> total = new HashMap<>();
            for (int i = 0; i < files.size(); i++) {
                results.take().forEach((word, n) -> total.merge(word, n, Integer::sum));
            }
            for (ChildProcess w : workers) {
                w.join();
            }
            System.out.println(files.size() + " files, " + total.values().stream().mapToInt(Integer::intValue).sum()
                    + " words, " + WORKERS + " worker processes");
            total.entrySet().stream()
                    .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .limit(10).forEach(e -> System.out.println(e.getValue() + " " + e.getKey()));
        }
    }

    static HashMap<String, Integer> count(Path file) {
        HashMap<String, Integer> counts = new HashMap<>();
        try {
            for (String word : Files.readString(file).toLowerCase().split("[^\\p{L}']+")) {
                if (!word.isEmpty()) {
                    counts.merge(word, 1, Integer::sum);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return counts;
    }
}
