package io.multiproc.cli.bench;

import io.multiproc.internal.SegmentRegistry;
import io.multiproc.process.ChildProcess;
import io.multiproc.shared.SharedLong;
import io.multiproc.shm.SharedMemory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.multiproc.cli.bench.Scenarios.py;

/**
 * {@code shm-many}: what many segments alive at once cost the segment registry (its records are files in
 * one directory). A program creates {@value #SEGMENTS} 8-byte segments, then closes and unlinks each,
 * beside CPython's {@code SharedMemory} doing the same; then a child creates as many and is killed, and
 * the sweep that the next program's first use (or {@code multiproc clean}) runs removes them. CPython has
 * no such sweep: its resource tracker unlinks a killed child's segments when the whole program ends.
 */
final class RegistryScenarios {
    static final int SEGMENTS = 2_000;

    private final Python python;

    RegistryScenarios(Python python) {
        this.python = python;
    }

    List<Row> many() throws InterruptedException {
        Optional<Map<String, String>> py = python.run("shm_many.py", "--segments", "" + SEGMENTS);
        double pyCreate = Python.num(py, "create_s");
        double pyClose = Python.num(py, "close_s");
        double create;
        double close;
        List<SharedMemory> all = new ArrayList<>(SEGMENTS);
        int unlinked = 0;
        try {
            long t0 = System.nanoTime();
            for (int i = 0; i < SEGMENTS; i++) {
                all.add(SharedMemory.create(null, 8));
            }
            long t1 = System.nanoTime();
            for (SharedMemory shm : all) {
                shm.close();
                shm.unlink();
                unlinked++;
            }
            long t2 = System.nanoTime();
            create = (t1 - t0) / 1e9;
            close = (t2 - t1) / 1e9;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (SharedMemory shm : all.subList(unlinked, all.size())) {
                unlinkQuietly(shm); // a failed run leaves nothing in /dev/shm for the scenarios after it
            }
        }
        double sweep = sweepAfterKill();
        double total = create + close;
        double pyTotal = pyCreate + pyClose;
        return List.of(
                new Row("shm-many", total, Double.NaN, pyTotal, Double.NaN, Row.ratio(pyTotal, total), String.format(
                        "%,d segments of 8 bytes created, then each closed and unlinked (%,d alive down to 1): java create %.1f us, "
                                + "close+unlink %.1f us each on average; cpython SharedMemory %s / %s us", SEGMENTS, SEGMENTS, create / SEGMENTS * 1e6, close / SEGMENTS * 1e6,
                        py("%.1f", pyCreate / SEGMENTS * 1e6), py("%.1f", pyClose / SEGMENTS * 1e6))),
                new Row("shm-many sweep after SIGKILL", sweep, Double.NaN, Double.NaN, Double.NaN, Double.NaN, String.format(
                        "a child made %,d segments and was killed; the registry's sweep (a next program's first use, multiproc clean) "
                                + "removed them all in %s s; cpython: its resource tracker unlinks them when the program ends",
                        SEGMENTS, Double.isNaN(sweep) ? "n/a (another process swept first)" : String.format("%.3f", sweep))));
    }

    private static void unlinkQuietly(SharedMemory shm) {
        try {
            shm.close();
            shm.unlink();
        } catch (IOException | RuntimeException e) {
            // already gone
        }
    }

    /**
     * A child creates {@link #SEGMENTS} segments, waits while this program's spares boot (each sweeps the
     * registry at its first use, and must do so while the child lives) and is then killed (SIGKILL); seconds this
     * process's sweep takes to remove them all, or NaN if another process's sweep came first.
     */
    private static double sweepAfterKill() throws InterruptedException {
        try (SharedLong made = SharedLong.create(0)) {
            ChildProcess maker = ChildProcess.start(() -> {
                try {
                    for (int i = 0; i < SEGMENTS; i++) {
                        SharedMemory.create(null, 8);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                made.set(1);
                try {
                    Thread.sleep(120_000); // until killed
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (made.get() == 0 && maker.isAlive() && System.nanoTime() - deadline < 0) {
                    Thread.sleep(5);
                }
                if (made.get() == 0) {
                    throw new IllegalStateException("shm-many: the child did not make its segments: " + maker);
                }
                Quiet.await(Quiet.MAX_WAIT);
                maker.kill();
                maker.join();
            } finally {
                maker.close();
            }
            long t0 = System.nanoTime();
            List<String> removed = SegmentRegistry.sweep();
            double s = (System.nanoTime() - t0) / 1e9;
            return removed.size() >= SEGMENTS ? s : Double.NaN;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
