package io.multiproc.manager.contract;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One seeded run of a differential suite: the random source, the step counter and the checks that
 * compare what the container under test did with what its model did. Every mismatch fails with the
 * seed, the step, the operation and the few operations before it, so that it can be replayed with
 * {@code -Dmultiproc.diff.seed=SEED}.
 */
final class Differential {
    /** The system property that replays one seed instead of the suite's fixed ones. */
    static final String SEED_PROPERTY = "multiproc.diff.seed";
    private static final int HISTORY = 8;

    final SplittableRandom rnd;
    private final String suite;
    private final long seed;
    private final Deque<String> history = new ArrayDeque<>();
    private int step;
    private String op = "(none)";

    Differential(String suite, long seed) {
        this.suite = suite;
        this.seed = seed;
        this.rnd = new SplittableRandom(seed);
    }

    /** The system property that runs seeds 1 to N instead of the suite's fixed ones (a longer search). */
    static final String SEED_COUNT_PROPERTY = "multiproc.diff.seedCount";

    /**
     * The seeds a suite runs: the one {@link #SEED_PROPERTY} names, else 1 to {@link #SEED_COUNT_PROPERTY},
     * else {@code fixed}.
     */
    static long[] seeds(long... fixed) {
        String replay = System.getProperty(SEED_PROPERTY);
        if (replay != null && !replay.isBlank()) {
            return new long[] {Long.parseLong(replay.trim())};
        }
        String count = System.getProperty(SEED_COUNT_PROPERTY);
        if (count != null && !count.isBlank()) {
            return java.util.stream.LongStream.rangeClosed(1, Long.parseLong(count.trim())).toArray();
        }
        return fixed;
    }

    /** Starts the next step, described by {@code op} (what the failure message names). */
    void step(String op) {
        step++;
        this.op = op;
        history.addLast(step + ": " + op);
        if (history.size() > HISTORY) {
            history.removeFirst();
        }
    }

    /** Adds detail to the current step's description (a sub-operation of a composite step). */
    void detail(String more) {
        op = op + "; " + more;
        history.removeLast();
        history.addLast(step + ": " + op);
    }

    /** What an operation did: its result, or what it threw. */
    record Outcome(Object value, RuntimeException thrown) {
        static Outcome of(Supplier<?> call) {
            try {
                return new Outcome(call.get(), null);
            } catch (RuntimeException e) {
                return new Outcome(null, e);
            }
        }

        @Override
        public String toString() {
            if (thrown != null) {
                return "threw " + thrown;
            }
            return "returned " + (value instanceof Object[] a ? Arrays.deepToString(a) : String.valueOf(value));
        }
    }

    /**
     * Runs {@code real} then {@code model} and fails unless both returned equal values or both threw
     * the same exception type (the container may throw a subclass of the model's: a caller catching
     * the java.util type still catches it). Returns the real result.
     */
    Object same(String what, Supplier<?> real, Supplier<?> model) {
        return same(what, Outcome.of(real), Outcome.of(model));
    }

    Object same(String what, Outcome real, Outcome model) {
        if (model.thrown() != null) {
            if (real.thrown() == null || !model.thrown().getClass().isInstance(real.thrown())) {
                throw mismatch(what + ": container " + real + ", model " + model, real.thrown());
            }
            return null;
        }
        if (real.thrown() != null || !Objects.deepEquals(real.value(), model.value())) {
            throw mismatch(what + ": container " + real + ", model " + model, real.thrown());
        }
        return real.value();
    }

    /**
     * {@link #same} for a call that returns the value it removed or replaced: with {@code freedSeenEmpty},
     * a nested list it returns may read empty (decision 102: on Redis the last reference's release frees
     * a nested container, and "a proxy of a freed object sees it empty").
     */
    Object sameRemoved(String what, Supplier<?> real, Supplier<?> model, boolean freedSeenEmpty) {
        Outcome r = Outcome.of(real);
        Outcome m = Outcome.of(model);
        if (freedSeenEmpty && r.thrown() == null && m.value() instanceof java.util.List<?>
                && r.value() instanceof java.util.List<?> l && l.isEmpty()) {
            return r.value();
        }
        return same(what, r, m);
    }

    /** Starts a step described by {@code op} and compares its outcomes ({@link #same}). */
    Object step(String op, Supplier<?> real, Supplier<?> model) {
        step(op);
        return same(op, real, model);
    }

    /**
     * Starts a step for a query whose NullPointerException for a null argument the java.util Javadoc calls
     * optional ({@code containsValue}, {@code remove(k, v)}, a set's or a view's {@code contains} and
     * {@code remove}). With a non-null {@code arg} it is {@link #step(String, Supplier, Supplier)}; with a
     * null one, the container may throw NullPointerException (ConcurrentHashMap does) or answer false (the
     * managers' dict views test {@code o != null} on purpose), and the caller's contents check then says
     * that nothing changed.
     */
    void optionalNullQuery(String op, Supplier<?> real, Supplier<?> model, Object arg) {
        if (arg != null) {
            step(op, real, model);
            return;
        }
        step(op);
        Outcome o = Outcome.of(real);
        check(o.thrown() instanceof NullPointerException || o.thrown() == null && Boolean.FALSE.equals(o.value()),
                op + ": container " + o + ", expected NullPointerException or false");
    }

    /** Runs {@code r} and says so: an outcome for calls that return nothing. */
    static Object done(Runnable r) {
        r.run();
        return "done";
    }

    /** Calls {@code next()} {@code at} times, then {@code remove()}: an iterator removal at a chosen place. */
    static Object removeAfter(java.util.Iterator<?> it, int at) {
        for (int i = 0; i < at; i++) {
            it.next();
        }
        it.remove();
        return "removed";
    }

    /**
     * The model of {@link #removeAfter} over a container whose iteration order was {@code order}: removes
     * the element the container's iterator returned last, or throws IllegalStateException if none.
     */
    static Object modelRemoveAfter(java.util.List<?> order, int at, java.util.function.Consumer<Object> remove) {
        if (at == 0) {
            throw new IllegalStateException("remove() before next()");
        }
        remove.accept(order.get(at - 1));
        return "removed";
    }

    /** Fails unless {@code real} (the container's full contents, copied) equals {@code model}. */
    void sameContents(Object real, Object model) {
        if (!Objects.equals(real, model)) {
            throw mismatch("contents differ after the step: container " + real + ", model " + model, null);
        }
    }

    /** Fails unless {@code condition}, saying {@code what}. */
    void check(boolean condition, String what) {
        if (!condition) {
            throw mismatch(what, null);
        }
    }

    AssertionError mismatch(String what, Throwable cause) {
        return new AssertionError(suite + " seed=" + seed + " step=" + step + " op=" + op + "\n  " + what
                + "\n  last steps: " + String.join(" | ", history)
                + "\n  replay: -D" + SEED_PROPERTY + "=" + seed, cause);
    }

    // ---- random choices --------------------------------------------------------------------------------

    int nextInt(int bound) {
        return rnd.nextInt(bound);
    }

    /** A random int in {@code [from, to]}. */
    int between(int from, int to) {
        return rnd.nextInt(from, to + 1);
    }

    boolean chance(int percent) {
        return rnd.nextInt(100) < percent;
    }

    /**
     * A small value: mostly few distinct Integers, Strings and Longs (so that searches and removals hit),
     * sometimes a small nested list, and null when {@code nulls}.
     */
    Object value(boolean nulls) {
        int r = rnd.nextInt(100);
        if (r < 40) {
            return rnd.nextInt(-2, 10);
        }
        if (r < 60) {
            return "s" + rnd.nextInt(6);
        }
        if (r < 72) {
            return (long) rnd.nextInt(4);
        }
        if (r < 82) {
            return switch (rnd.nextInt(3)) {
                case 0 -> java.util.List.of();
                case 1 -> java.util.List.of(rnd.nextInt(3));
                default -> java.util.List.of(rnd.nextInt(3), "n" + rnd.nextInt(2));
            };
        }
        if (r < 88 && nulls) {
            return null;
        }
        if (r < 94) {
            return rnd.nextInt(3) * 0.5;
        }
        return "text-" + rnd.nextInt(1000); // longer than an inline item
    }
}
