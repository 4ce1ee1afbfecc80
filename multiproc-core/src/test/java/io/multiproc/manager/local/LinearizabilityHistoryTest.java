package io.multiproc.manager.local;

import io.multiproc.manager.local.LinearizabilityHistory.Op;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.multiproc.manager.local.LinearizabilityHistory.NONE;
import static io.multiproc.manager.local.LinearizabilityHistory.PENDING;
import static org.assertj.core.api.Assertions.assertThat;

/** The history checker finds what it must: each check on a small history that breaks it, and passes its fix. */
class LinearizabilityHistoryTest {
    private static final Set<String> KINDS = Set.of("put", "get", "remove");

    private static LinearizabilityHistory history(Op... ops) {
        LinearizabilityHistory h = new LinearizabilityHistory();
        for (Op op : ops) {
            h.add(op);
        }
        return h;
    }

    @Test
    void aStaleReadIsFound() {
        Op w1 = new Op("p0", "put", "k", NONE, "a", 1, 2);
        Op w2 = new Op("p1", "put", "k", "a", "b", 3, 4);
        assertThat(registers(history(w1, w2, new Op("p2", "get", "k", "a", null, 5, 6)), "b")).anyMatch(v -> v.contains("stale read"));
        assertThat(registers(history(w1, w2, new Op("p2", "get", "k", "a", null, 3, 6)), "b")).isEmpty(); // overlapping w2
        assertThat(registers(history(w1, w2, new Op("p2", "remove", "k", "b", NONE, 5, 6),
                new Op("p0", "get", "k", "a", null, 7, 8)), NONE)).anyMatch(v -> v.contains("stale read"));
    }

    @Test
    void aValueReplacedTwiceOrReadFromTheFutureIsFound() {
        Op w1 = new Op("p0", "put", "k", NONE, "a", 1, 2);
        assertThat(registers(history(w1, new Op("p1", "put", "k", "a", "b", 3, 4), new Op("p2", "put", "k", "a", "c", 3, 5)), "c"))
                .anyMatch(v -> v.contains("replaced one value"));
        assertThat(registers(history(new Op("p2", "get", "k", "a", null, 0, 1), new Op("p0", "put", "k", NONE, "a", 2, 3)), "a"))
                .anyMatch(v -> v.contains("after the read returned"));
        assertThat(registers(history(w1, new Op("p1", "put", "k", "a", "b", 3, 4)), "a")).anyMatch(v -> v.contains("final value"));
    }

    @Test
    void aCounterThatLostOrRepeatedACountIsFound() {
        LinearizabilityHistory ok = history(new Op("p0", "merge", "c", "1", null, 1, 2), new Op("p1", "merge", "c", "2", null, 1, 3));
        ok.checkCounter("c", "merge", 2);
        assertThat(ok.violations).isEmpty();
        LinearizabilityHistory repeated = history(new Op("p0", "merge", "c", "1", null, 1, 2), new Op("p1", "merge", "c", "1", null, 1, 3));
        repeated.checkCounter("c", "merge", 1);
        assertThat(repeated.violations).anyMatch(v -> v.contains("same count"));
        LinearizabilityHistory pending = history(new Op("p0", "merge", "c", "1", null, 1, 2), new Op("p1", "merge", "c", null, null, 1, PENDING));
        pending.checkCounter("c", "merge", 2);
        assertThat(pending.violations).isEmpty();
        pending.checkCounter("c", "merge", 3);
        assertThat(pending.violations).anyMatch(v -> v.contains("final count"));
    }

    @Test
    void listReadsThatShowAStateThatNeverExistedAreFound() {
        Op a = new Op("p0", "L.add", "L", null, "x", 1, 2);
        Op b = new Op("p0", "L.add", "L", null, "y", 3, 4);
        Op rm = new Op("p1", "L.remove", "L", "x", null, 5, 6);
        assertThat(list(history(a, b, rm, new Op("p2", "L.snap", "L", "y", null, 7, 8)), List.of("y"))).isEmpty();
        assertThat(list(history(a, b, rm, new Op("p2", "L.snap", "L", "x,y", null, 7, 8)), List.of("y")))
                .anyMatch(v -> v.contains("removed before the read began"));
        assertThat(list(history(a, b, rm, new Op("p2", "L.snap", "L", "", null, 7, 8)), List.of("y")))
                .anyMatch(v -> v.contains("snapshot misses y"));
        assertThat(list(history(a, b, rm, new Op("p2", "L.size", "L", "2", null, 7, 8)), List.of("y")))
                .anyMatch(v -> v.contains("size 2"));
        assertThat(list(history(a, b, rm, new Op("p2", "L.remove", "L", "x", null, 5, 9)), List.of("y")))
                .anyMatch(v -> v.contains("removed twice"));
        assertThat(list(history(a, b, rm), List.of())).anyMatch(v -> v.contains("lost y"));
        assertThat(list(history(a, b, rm), List.of("x", "y"))).anyMatch(v -> v.contains("holds x, removed"));
        assertThat(list(history(a, b, new Op("p1", "L.remove", "L", null, null, 5, PENDING)), List.of("y"))).isEmpty();
    }

    private static List<String> registers(LinearizabilityHistory h, String finalValue) {
        h.checkRegisters(KINDS, Map.of("k", finalValue));
        return h.violations;
    }

    private static List<String> list(LinearizabilityHistory h, List<String> finalElements) {
        h.checkList("L", finalElements);
        return h.violations;
    }
}
