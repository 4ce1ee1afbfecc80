package io.multiproc.redis;

import io.multiproc.codec.Codec;
import io.multiproc.codec.SegmentSource;
import io.multiproc.manager.Manager;
import io.multiproc.manager.SharedValueProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * merge, compute, replaceAll, updateAndGet, removeIf and sort run the user's function here and store its
 * result if the object still holds what was read. They must finish for every value the codec stores,
 * also one whose bytes differ once read back and written again (here a TreeMap, which travels by JDK
 * serialization, of HashSets, whose serialized form carries their table capacity).
 */
class RedisCompareAndSetTest {
    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    record Tags(TreeMap<String, HashSet<Integer>> byName) {
    }

    private static Tags tags() {
        TreeMap<String, HashSet<Integer>> byName = new TreeMap<>();
        byName.put("a", new HashSet<>(List.of(1)));   // capacity 16; a copy read back has capacity 2
        return new Tags(byName);
    }

    private static final Duration BOUND = Duration.ofSeconds(10);

    @Test
    void theValueUsedReadsBackAsOtherBytes() {
        Codec codec = Codec.defaultCodec();
        byte[] stored = RedisCodec.INSTANCE.bytesOf(tags());
        Object read = codec.decode(SegmentSource.of(stored));
        assertThat(read).isEqualTo(tags());
        assertThat(RedisCodec.INSTANCE.bytesOf(read)).as("the premise of the other tests").isNotEqualTo(stored);
    }

    @Test
    void dictFunctionsFinishOnSuchAValue() {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            ConcurrentMap<String, Object> d = m.dict();
            d.put("merge", tags());
            d.put("compute", tags());
            d.put("present", tags());
            d.put("all", tags());
            assertTimeoutPreemptively(BOUND, () -> {
                assertThat(d.merge("merge", "x", (old, x) -> ((Tags) old).byName().size() + "" + x)).isEqualTo("1x");
                assertThat(d.compute("compute", (k, old) -> old instanceof Tags ? "computed" : "lost")).isEqualTo("computed");
                assertThat(d.computeIfPresent("present", (k, old) -> null)).isNull();
                d.replaceAll((k, old) -> old instanceof Tags ? "replaced" : old);
            });
            assertThat(d).containsOnlyKeys("merge", "compute", "all").containsEntry("all", "replaced")
                    .containsEntry("merge", "1x").containsEntry("compute", "computed");
        }
    }

    @Test
    void listFunctionsFinishOnSuchAValue() {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            List<Object> l = m.list();
            l.add(tags());
            l.add(2);
            l.add(1);
            assertTimeoutPreemptively(BOUND, () -> {
                assertThat(l.removeIf(e -> e.equals(1))).isTrue();
                l.replaceAll(e -> e instanceof Tags ? 3 : e);
                l.sort(null);
            });
            assertThat(l).containsExactly(2, 3);
        }
    }

    @Test
    void valueUpdatesFinishOnSuchAValue() {
        try (Manager m = RedisContractTest.fresh(redis.server())) {
            SharedValueProxy<Object> v = m.value(tags());
            assertTimeoutPreemptively(BOUND, () -> {
                assertThat(v.getAndUpdate(old -> tags())).isEqualTo(tags());
                assertThat(v.updateAndGet(old -> old instanceof Tags ? "updated" : "lost")).isEqualTo("updated");
            });
            assertThat(v.get()).isEqualTo("updated");
        }
    }
}
