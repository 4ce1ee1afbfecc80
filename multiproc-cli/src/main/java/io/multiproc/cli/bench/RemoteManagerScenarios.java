package io.multiproc.cli.bench;

import io.multiproc.manager.Manager;
import io.multiproc.manager.remote.CustomTypes;
import io.multiproc.manager.remote.ManagerServer;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentMap;

import static io.multiproc.cli.bench.Scenarios.py;

/**
 * {@code manager-remote}: a manager served over loopback TCP ({@code Manager.connect}) beside CPython's
 * {@code SyncManager(address, authkey)} used through its proxies. The Java server runs in this JVM
 * (its connection in a thread of its own), CPython's in its manager process: both are a request over
 * a loopback socket to another thread of control. Rows: {@code d.put}/{@code d.get} per operation; a
 * batched {@code putAll} of 10,000 entries (CPython: {@code update}), the first and the fastest of 5 more;
 * 10,000 {@code list.add} calls
 * (pipelined here, a round trip each in CPython). Totals run from manager start to close, JIT
 * warm-up included; work phases follow a short warm-up on another dict. A fourth row: calls of a
 * custom type's method ({@code register}/{@code create}: an object in a server JVM) beside CPython's
 * {@code BaseManager.register}.
 */
final class RemoteManagerScenarios {
    private static final byte[] KEY = "bench-key".getBytes(StandardCharsets.UTF_8);
    private final Python python;

    RemoteManagerScenarios(Python python) {
        this.python = python;
    }

    List<Row> managerRemote() {
        int ops = 20_000;
        int entries = 10_000;
        long start = System.nanoTime();
        double setUs;
        double getUs;
        double putAllS;
        double putAllWarmS;
        double appendS;
        try (Manager local = Manager.start();
             ManagerServer server = ManagerServer.start(local, new InetSocketAddress("127.0.0.1", 0), KEY);
             Manager m = Manager.connect(server.address(), KEY)) {
            setGet(m.dict(), 2_000); // warm-up: the JIT, as CPython has none to warm
            ConcurrentMap<Integer, Integer> d = m.dict();
            long t0 = System.nanoTime();
            for (int i = 0; i < ops; i++) {
                d.put(i % 100, i);
            }
            long t1 = System.nanoTime();
            long sum = 0;
            for (int i = 0; i < ops; i++) {
                sum += d.get(i % 100);
            }
            long t2 = System.nanoTime();
            if (sum <= 0) {
                throw new IllegalStateException("sum=" + sum);
            }
            Map<Integer, Integer> big = new HashMap<>();
            for (int i = 0; i < entries; i++) {
                big.put(i, i);
            }
            ConcurrentMap<Integer, Integer> d2 = m.dict();
            long t3 = System.nanoTime();
            d2.putAll(big);
            int size = d2.size();
            long t4 = System.nanoTime();
            putAllWarmS = fastestPutAll(m, big, 5);
            List<Integer> ls = m.list();
            long t5 = System.nanoTime();
            for (int i = 0; i < entries; i++) {
                ls.add(i);
            }
            int listSize = ls.size();
            long t6 = System.nanoTime();
            if (size != entries || listSize != entries) {
                throw new IllegalStateException("putAll left size=" + size + ", appends left size=" + listSize);
            }
            setUs = (t1 - t0) / 1e3 / ops;
            getUs = (t2 - t1) / 1e3 / ops;
            putAllS = (t4 - t3) / 1e9;
            appendS = (t6 - t5) / 1e9;
        }
        double total = (System.nanoTime() - start) / 1e9;
        Optional<Map<String, String>> p = python.run("manager_remote.py", "--ops", "" + ops, "--entries", "" + entries);
        double pyTotal = Python.num(p, "total_s");
        double pySet = Python.num(p, "set_us");
        double pyGet = Python.num(p, "get_us");
        double pyPutAll = Python.num(p, "putall_s");
        double pyPutAllWarm = Python.num(p, "putall_warm_s");
        double pyAppend = Python.num(p, "append_s");
        double work = (setUs + getUs) * ops / 1e6;
        double pyWork = (pySet + pyGet) * ops / 1e6;
        return List.of(customCall(),
                new Row("manager-remote set/get", total, work, pyTotal, pyWork, Row.ratio(pyWork, work),
                        String.format("java put %.1f us, get %.1f us per op; cpython d[k]=v %s us, d[k] %s us (loopback TCP)",
                                setUs, getUs, py("%.1f", pySet), py("%.1f", pyGet))),
                new Row("manager-remote putAll 10,000", Double.NaN, putAllS, Double.NaN, pyPutAll,
                        Row.ratio(pyPutAll, putAllS), String.format("one request each; java %.2f ms, cpython update %s ms",
                        putAllS * 1e3, py("%.2f", pyPutAll * 1e3))),
                new Row("manager-remote putAll 10,000 again", Double.NaN, putAllWarmS, Double.NaN, pyPutAllWarm,
                        Row.ratio(pyPutAllWarm, putAllWarmS), String.format("fastest of 5 more into new dicts (the server's batch"
                        + " path compiled); java %.2f ms, cpython update %s ms", putAllWarmS * 1e3, py("%.2f", pyPutAllWarm * 1e3))),
                new Row("manager-remote list.add x10,000", Double.NaN, appendS, Double.NaN, pyAppend,
                        Row.ratio(pyAppend, appendS), String.format("java pipelined %.2f us/add; cpython append %s us (a round trip each)",
                        appendS * 1e6 / entries, py("%.2f", pyAppend * 1e6 / entries))));
    }

    /** A custom type for the call row: public, so the server JVM and the proxy can reach it. */
    public interface Counter {
        long increment();
    }

    /** The hosted implementation. */
    public static final class CounterImpl implements Counter {
        private final java.util.concurrent.atomic.AtomicLong n = new java.util.concurrent.atomic.AtomicLong();

        @Override
        public long increment() {
            return n.incrementAndGet();
        }
    }

    /** 10,000 calls of a custom type's method through its proxy, beside CPython's BaseManager.register. */
    Row customCall() {
        int calls = 10_000;
        long start = System.nanoTime();
        double workS;
        try (CustomTypes types = new CustomTypes("bench")) {
            types.register("counter", CounterImpl::new, Counter.class);
            Counter c = types.create("counter");
            for (int i = 0; i < 2_000; i++) {
                c.increment(); // JIT warm-up on this side
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                c.increment();
            }
            workS = (System.nanoTime() - t0) / 1e9;
            if (c.increment() != calls + 2_001) {
                throw new IllegalStateException("lost calls");
            }
        }
        double total = (System.nanoTime() - start) / 1e9;
        Optional<Map<String, String>> p = python.run("manager_custom.py", "--calls", "" + calls);
        double pyTotal = Python.num(p, "total_s");
        double pyWork = Python.num(p, "work_s");
        return new Row("manager-custom call", total, workS, pyTotal, pyWork, Row.ratio(pyWork, workS),
                String.format("java %.1f us per call (server JVM, shared-memory pipe); cpython %s us (manager process, unix socket)",
                        workS * 1e6 / calls, py("%.1f", pyWork * 1e6 / calls)));
    }

    /**
     * The fastest of {@code rounds} putAll + size into new dicts (CPython's side reports its fastest
     * too: its large updates often stall ~40 ms on a delayed ACK, which the floor leaves out).
     */
    private static double fastestPutAll(Manager m, Map<Integer, Integer> big, int rounds) {
        double[] s = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            ConcurrentMap<Integer, Integer> d = m.dict();
            long t0 = System.nanoTime();
            d.putAll(big);
            int size = d.size();
            s[r] = (System.nanoTime() - t0) / 1e9;
            if (size != big.size()) {
                throw new IllegalStateException("putAll left size=" + size);
            }
        }
        java.util.Arrays.sort(s);
        return s[0];
    }

    private static void setGet(ConcurrentMap<Integer, Integer> d, int ops) {
        for (int i = 0; i < ops; i++) {
            d.put(i % 100, i);
            d.get(i % 100);
        }
    }
}
