package example;

import io.multiproc.process.Pool;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The same word count with a {@link Pool} of worker JVMs (Python's {@code Pool.map}): no queues to manage.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp target/word-count.jar:multiproc-core.jar example.WordCountPool DIR
 * </pre>
 */
public final class WordCountPool {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : ".");
        List<String> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).map(Path::toString).filter(f -> f.endsWith(".txt")).toList();
        }
        try (Pool pool = Pool.create(2)) {
            List<HashMap<String, Integer>> perFile = pool.map(f -> WordCount.count(Path.of(f)), files);
            Map<String, Integer> total = new HashMap<>();
            perFile.forEach(counts -> counts.forEach((word, n) -> total.merge(word, n, Integer::sum)));
            System.out.println(files.size() + " files, " + total.values().stream().mapToInt(Integer::intValue).sum()
                    + " words, pool of 2 worker processes");
            total.entrySet().stream()
                    .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .limit(10).forEach(e -> System.out.println(e.getValue() + " " + e.getKey()));
        }
    }
}
