package io.multiproc.bench;

import io.multiproc.manager.Manager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Managed containers, one thread, uncontended: a list's add and get, a dict's put, get and merge
 * (100 keys), and manager-many's reader over a dict of {@value #NESTED} nested lists of 10 ints (one op
 * reads them all: divide by {@value #NESTED} for one list's view, lock, snapshot and decode). Every call
 * takes the container's cross-process lock and encodes/decodes codec bytes.
 * Run: {@code bin/jmh ManagerBench -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ManagerBench {
    private static final String[] KEYS = new String[100];
    private static final int NESTED = 1_000;

    static {
        for (int i = 0; i < KEYS.length; i++) {
            KEYS[i] = "k" + i;
        }
    }

    private Manager manager;
    private List<Integer> list;
    private List<Integer> readList;
    private ConcurrentMap<String, Integer> map;
    private ConcurrentMap<Integer, List<Integer>> nested;
    private int next;

    @Setup
    public void setUp() {
        manager = Manager.start();
        readList = manager.list();
        for (int i = 0; i < 1024; i++) {
            readList.add(i);
        }
        map = manager.dict();
        for (String k : KEYS) {
            map.put(k, 0);
        }
        nested = manager.dict();
        for (int k = 0; k < NESTED; k++) {
            nested.put(k, List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        }
    }

    /** A fresh list per iteration, so list.add measures appends, not an ever-growing heap. */
    @Setup(Level.Iteration)
    public void freshList() {
        if (list != null) {
            list.clear();
        }
        list = manager.list();
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    public boolean listAdd() {
        return list.add(next++);
    }

    @Benchmark
    public Integer listGet() {
        return readList.get(next++ & 1023);
    }

    @Benchmark
    public Integer mapPut() {
        return map.put(KEYS[next++ % 100], next);
    }

    @Benchmark
    public Integer mapGet() {
        return map.get(KEYS[next++ % 100]);
    }

    /** Sums every int of every nested list, as manager-many's reader does. */
    @Benchmark
    public long nestedValuesSum() {
        long sum = 0;
        for (List<Integer> l : nested.values()) {
            for (int v : l) {
                sum += v;
            }
        }
        return sum;
    }

    @Benchmark
    public Integer merge() {
        return map.merge(KEYS[next++ % 100], 1, Integer::sum);
    }
}
