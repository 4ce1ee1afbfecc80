package io.multiproc.process;

import java.io.PrintStream;
import java.util.Objects;

/**
 * Progress of a long {@link Pool} map: told how many items are done out of how many, each time a chunk
 * completes, on a pool thread (keep it short).
 *
 * <pre>{@code
 * List<Integer> out = pool.map(x -> x * x, items, 100, Progress.consoleBar("squares"));
 * pool.map(f, items, 100, (done, total) -> log.info(done + "/" + total));
 * }</pre>
 *
 * <p>{@code total} is -1 while it is unknown (an {@code imap} over an iterator not yet exhausted). A
 * callback that throws fails its map with that exception (the pool and its workers go on); CPython's
 * result handler thread dies instead, and the pool hangs.
 */
@FunctionalInterface
public interface Progress {

    /** Called with the items completed so far and the total (or -1 if not known yet). */
    void update(long completed, long total);

    /**
     * A one-line text bar on {@code System.err}, redrawn in place: {@code squares [#####     ] 50% 500/1000}.
     * Its line is ended however the map ends (done, failed, cancelled, terminated), before the map's
     * failure reaches its caller.
     */
    static Progress consoleBar(String label) {
        return consoleBar(label, System.err);
    }

    /** A one-line text bar on {@code out}; see {@link #consoleBar(String)}. */
    static Progress consoleBar(String label, PrintStream out) {
        return new ConsoleBar(Objects.requireNonNull(label, "label"), Objects.requireNonNull(out, "out"));
    }

    /** See decision 040: a few lines of our own rather than a dependency. Redraws at most every 100 ms. */
    final class ConsoleBar implements Progress {
        private static final int WIDTH = 30;
        private static final long REDRAW_NANOS = 100_000_000L;
        private final String label;
        private final PrintStream out;
        private long lastDraw = Long.MIN_VALUE;
        /** A line is drawn and not ended yet; guarded by {@code this}. */
        private boolean lineOpen;

        private ConsoleBar(String label, PrintStream out) {
            this.label = label;
            this.out = out;
        }

        @Override
        public synchronized void update(long completed, long total) {
            long now = System.nanoTime();
            boolean last = total >= 0 && completed >= total;
            if (!last && lastDraw != Long.MIN_VALUE && now - lastDraw < REDRAW_NANOS) {
                return;
            }
            lastDraw = now;
            out.print("\r" + line(label, completed, total) + (last ? "\n" : ""));
            out.flush();
            lineOpen = !last;
        }

        /**
         * The map ended without its last update (a failure, a cancel, terminate): ends the drawn line, so
         * that what is printed next (the exception, say) starts on a line of its own. The next update
         * draws at once, on a new line.
         */
        synchronized void endLine() {
            if (lineOpen) {
                out.print("\n");
                out.flush();
                lineOpen = false;
            }
            lastDraw = Long.MIN_VALUE;
        }

        /** The bar's text for these numbers (without the carriage return). */
        static String line(String label, long completed, long total) {
            if (total <= 0) {
                return label + " " + completed + (total == 0 ? "/0" : "");
            }
            int filled = (int) (WIDTH * Math.min(completed, total) / total);
            return label + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
                    + (100 * Math.min(completed, total) / total) + "% " + completed + "/" + total;
        }
    }
}
