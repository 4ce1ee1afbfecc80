package io.multiproc.manager;

import io.multiproc.process.ChildProcess;
import io.multiproc.testing.Children;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The two programs the Manager issue starts from, as a Java user writes them, with real child JVMs. */
@ExtendWith(ReapChildrenCheckShm.class)
class ManagerSeedTest {

    /** Seed 000: 4 children append 10,000 items each to one managed list; nothing is lost. */
    @Test
    void fourChildrenAppendingTenThousandEachLoseNothing() throws Exception {
        try (Manager m = Manager.start()) {
            List<Integer> ls = m.list();
            ChildProcess[] children = new ChildProcess[4];
            try {
                for (int c = 0; c < 4; c++) {
                    int base = c * 10_000;
                    children[c] = ChildProcess.start(() -> {
                        for (int i = 0; i < 10_000; i++) {
                            ls.add(base + i);
                        }
                    });
                }
                Children.joinAllOk(children);
            } finally {
                Children.reap(children);
            }
            List<Integer> all = new ArrayList<>(ls);
            assertThat(all).hasSize(40_000);
            assertThat(all.stream().mapToLong(Integer::longValue).sum()).isEqualTo(39_999L * 40_000 / 2);
            assertThat(new java.util.HashSet<>(all)).hasSize(40_000);
        }
    }

    /** Seed 001: a child changes lists nested in a list, a dict and a namespace; the parent sees every change. */
    @Test
    void aChildsChangesToNestedContainersAreSeenByTheParent() throws Exception {
        try (Manager m = Manager.start()) {
            List<Object> ls = m.list();
            ls.add(0);
            ls.add(new ArrayList<>(List.of(0, 0)));
            ConcurrentMap<String, Object> d = m.dict();
            d.put("inner", new ArrayList<>(List.of(1)));
            d.put("counts", new HashMap<>(Map.of("a", 1)));
            Namespace ns = m.namespace();
            ns.set("x", 1);
            ns.set("y", new ArrayList<>(List.of(1, 2)));

            ChildProcess child = ChildProcess.start(() -> {
                @SuppressWarnings("unchecked")
                List<Integer> inner = (List<Integer>) ls.get(1);
                inner.set(0, inner.get(0) + 1);                       // ls[1][0] += 1
                @SuppressWarnings("unchecked")
                List<Integer> dl = (List<Integer>) d.get("inner");
                dl.add(2);                                            // d["inner"].append(2)
                @SuppressWarnings("unchecked")
                Map<String, Integer> counts = (Map<String, Integer>) d.get("counts");
                counts.merge("a", 1, Integer::sum);                   // d["counts"]["a"] += 1
                ns.<List<Integer>>get("y").add(10);                   // ns.y.append(10)
                ns.set("x", ns.<Integer>get("x") + 1);
            });
            try {
                Children.joinOk(child);
            } finally {
                Children.reap(child);
            }
            assertThat(ls.get(1)).isEqualTo(List.of(1, 0));
            assertThat(d.get("inner")).isEqualTo(List.of(1, 2));
            assertThat(d.get("counts")).isEqualTo(Map.of("a", 2));
            assertThat(ns.<List<Integer>>get("y")).containsExactly(1, 2, 10);
            assertThat(ns.<Integer>get("x")).isEqualTo(2);
        }
    }
}
