package io.multiproc.cli.bench;

import io.multiproc.codec.ByteSink;
import io.multiproc.codec.ByteSource;
import io.multiproc.codec.Codec;
import io.multiproc.process.SerializableRunnable;
import io.multiproc.queue.Connection;
import io.multiproc.queue.Pipe;
import io.multiproc.queue.SharedQueue;
import io.multiproc.shared.SharedLong;
import io.multiproc.shared.SharedLongArray;
import io.multiproc.wait.IdleStrategy;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;

import static io.multiproc.cli.bench.Scenarios.py;

/**
 * The queue and pipe scenarios: {@code queue-throughput} (one producer process sends small ints to
 * one consumer process) and {@code pipe-pingpong} (two processes bounce a message), beside CPython's
 * {@code multiprocessing.Queue} and {@code Pipe} in the same run.
 *
 * <p>Rows with "4-byte int codec" use a codec that writes an Integer as 4 bytes, so they show what the
 * queue or pipe itself costs; the other rows use {@code Codec.defaultCodec()}, whatever it is in this
 * build. Byte rows ({@code sendBytes}) compare with CPython's {@code send_bytes}, object rows with
 * {@code send}.
 */
final class QueueScenarios {
    private static final int QUEUE_ITEMS = 200_000;
    private static final int ROUND_TRIPS = 20_000;
    private static final int WARM_UP = 400_000;

    private final Python python;

    QueueScenarios(Python python) {
        this.python = python;
    }

    /** Integers as 4 little-endian bytes. */
    static final class IntCodec implements Codec, Serializable {
        @Override
        public void encode(Object value, ByteSink out) {
            out.writeInt((Integer) value);
        }

        @Override
        public Object decode(ByteSource in) {
            return in.readInt();
        }
    }

    /** What a row runs with, in a form a child task can capture (built-in strategies are not Serializable). */
    record Setup(boolean busySpin, boolean intCodec) implements Serializable {
        IdleStrategy idle() {
            return busySpin ? IdleStrategy.busySpin() : IdleStrategy.blocking();
        }

        Codec codec() {
            return intCodec ? new IntCodec() : Codec.defaultCodec();
        }
    }

    // ------------------------------------------------------------------ queue-throughput

    List<Row> queueThroughput() throws InterruptedException {
        List<Row> rows = new ArrayList<>();
        Optional<Map<String, String>> py = python.run("queue_throughput.py", "--items", "" + QUEUE_ITEMS);
        double pyTotal = Python.num(py, "total_s");
        double pyWork = Python.num(py, "work_s");
        rows.add(throughputRow("queue-throughput", new Setup(false, false), pyTotal, pyWork));
        rows.add(throughputRow("queue-throughput 4-byte int codec", new Setup(false, true), pyTotal, pyWork));
        return rows;
    }

    private Row throughputRow(String name, Setup setup, double pyTotal, double pyWork) throws InterruptedException {
        Lockstep.Times t;
        long sum;
        try (SharedQueue<Integer> q = SharedQueue.create(16_384, 1 << 20, setup.idle(), setup.codec());
             SharedLong received = SharedLong.create(0)) {
            IntFunction<SerializableRunnable> work = i -> i == 0 ? () -> produce(q, QUEUE_ITEMS) : () -> received.set(consume(q, QUEUE_ITEMS));
            t = Lockstep.run(2, i -> () -> warmUpQueue(setup), work);
            sum = received.get();
        }
        long expected = (long) QUEUE_ITEMS * (QUEUE_ITEMS - 1) / 2;
        String notes = String.format("java %.0fk msgs/s%s; cpython Queue %sk msgs/s", QUEUE_ITEMS / t.work() / 1e3,
                sum == expected ? "" : " WRONG SUM " + sum, py("%.0f", QUEUE_ITEMS / pyWork / 1e3));
        return new Row(name, t.total(), t.work(), pyTotal, pyWork, Row.ratio(pyWork, t.work()), notes);
    }

    /**
     * JIT warm-up (CPython has no JIT to warm): the same work on a private queue, the other side in a
     * second thread, so that the waiting and waking paths are compiled too. Blocking waits: on 2 cores,
     * four spinning threads would take the warm-up many times longer.
     */
    static void warmUpQueue(Setup setup) {
        Setup blocking = new Setup(false, setup.intCodec());
        try (SharedQueue<Integer> own = SharedQueue.create(1024, 1 << 16, blocking.idle(), blocking.codec())) {
            Thread consumer = Thread.ofPlatform().start(() -> consume(own, WARM_UP));
            produce(own, WARM_UP);
            consumer.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static void produce(SharedQueue<Integer> q, int items) {
        try {
            for (int i = 0; i < items; i++) {
                q.put(i);
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static long consume(SharedQueue<Integer> q, int items) {
        long sum = 0;
        try {
            for (int i = 0; i < items; i++) {
                sum += q.take();
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return sum;
    }

    // ------------------------------------------------------------------ pipe-pingpong

    List<Row> pipePingpong() throws InterruptedException {
        Optional<Map<String, String>> py = python.run("pipe_pingpong.py", "--round-trips", "" + ROUND_TRIPS);
        double pyObjects = Python.num(py, "work_s");
        double pyBytes = Python.num(py, "bytes_work_s");
        double pyObjectsTotal = Python.num(py, "total_s");
        double pyBytesTotal = Python.num(py, "bytes_total_s");
        List<Row> rows = new ArrayList<>();
        rows.add(pingpongRow("pipe-pingpong busySpin, sendBytes", new Setup(true, false), false, pyBytesTotal, pyBytes, "send_bytes"));
        rows.add(pingpongRow("pipe-pingpong default strategy, sendBytes", new Setup(false, false), false, pyBytesTotal, pyBytes,
                "send_bytes"));
        rows.add(pingpongRow("pipe-pingpong default strategy, send(Integer)", new Setup(false, false), true, pyObjectsTotal,
                pyObjects, "send"));
        rows.add(pingpongRow("pipe-pingpong busySpin, send(Integer) 4-byte codec", new Setup(true, true), true, pyObjectsTotal,
                pyObjects, "send"));
        return rows;
    }

    /** {@code objects}: send/recv through the setup's codec; else 8-byte messages through sendBytes/recvBytes. */
    private Row pingpongRow(String name, Setup setup, boolean objects, double pyTotal, double pyWork, String pyCall)
            throws InterruptedException {
        Lockstep.Times t;
        long p50;
        long p99;
        long max;
        try (Pipe pipe = Pipe.open(true, 1 << 20, setup.idle(), setup.codec());
             SharedLongArray percentiles = SharedLongArray.create(3)) {
            Connection[] ends = {pipe.left(), pipe.right()};
            t = Lockstep.run(2, i -> () -> warmUpPipe(setup, objects), i -> {
                Connection end = ends[i];
                boolean pinger = i == 0;
                return () -> bounce(end, pinger, ROUND_TRIPS, objects, percentiles);
            });
            p50 = percentiles.get(0);
            p99 = percentiles.get(1);
            max = percentiles.get(2);
        }
        // The mean is the row's number; the percentiles show how much of it a few preempted round trips
        // make (two busy processes on 2 shared vCPUs lose a core to any third runnable thread).
        String notes = String.format("java %.2f us per round trip (p50 %.2f, p99 %.2f, max %.0f); cpython Pipe %s %s us",
                t.work() / ROUND_TRIPS * 1e6, p50 / 1e3, p99 / 1e3, max / 1e3, pyCall, py("%.2f", pyWork / ROUND_TRIPS * 1e6));
        return new Row(name, t.total(), t.work(), pyTotal, pyWork, Row.ratio(pyWork, t.work()), notes);
    }

    /** JIT warm-up on a private pipe, the other end in a second thread (blocking waits, as for queues). */
    static void warmUpPipe(Setup setup, boolean objects) {
        Setup blocking = new Setup(false, setup.intCodec());
        try (Pipe own = Pipe.open(true, 1 << 16, blocking.idle(), blocking.codec())) {
            Thread ponger = Thread.ofPlatform().start(() -> bounce(own.right(), false, WARM_UP / 5, objects, null));
            bounce(own.left(), true, WARM_UP / 5, objects, null);
            ponger.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The pinger times every round trip and leaves p50, p99 and max (ns) in {@code percentiles}. */
    static void bounce(Connection end, boolean pinger, int roundTrips, boolean objects, SharedLongArray percentiles) {
        byte[] message = new byte[8];
        long[] samples = pinger ? new long[roundTrips] : null;
        try {
            for (int i = 0; i < roundTrips; i++) {
                if (pinger) {
                    long t0 = System.nanoTime();
                    if (objects) {
                        end.send(i);
                        end.recv();
                    } else {
                        end.sendBytes(message);
                        end.recvBytes();
                    }
                    samples[i] = System.nanoTime() - t0;
                } else if (objects) {
                    end.send(end.recv());
                } else {
                    end.sendBytes(end.recvBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (pinger && percentiles != null) {
            java.util.Arrays.sort(samples);
            percentiles.set(0, samples[roundTrips / 2]);
            percentiles.set(1, samples[(int) (roundTrips * 0.99)]);
            percentiles.set(2, samples[roundTrips - 1]);
        }
    }
}
