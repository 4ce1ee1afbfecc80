package io.multiproc.manager;

import io.multiproc.manager.remote.ManagerServer;
import io.multiproc.testing.ReapChildrenCheckShm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A user reads many keys of a dict at once with {@link Managers#getAll}, whatever manager holds the dict. */
@ExtendWith(ReapChildrenCheckShm.class)
@Timeout(120)
class ManagersGetAllTest {
    private static final byte[] KEY = "getAll key".getBytes(StandardCharsets.UTF_8);

    private static Map<Integer, String> entries(int n) {
        Map<Integer, String> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            m.put(i, "v" + i);
        }
        return m;
    }

    @Test
    void aLocalDictGivesThePresentKeysInTheOrderAsked() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<Integer, String> d = m.dict();
            d.putAll(entries(10_000));
            Map<Integer, String> got = Managers.getAll(d, List.of(9_999, 3, 20_000, 0));
            assertThat(got).containsExactly(Map.entry(9_999, "v9999"), Map.entry(3, "v3"), Map.entry(0, "v0"));
            assertThat(Managers.getAll(d, List.of())).isEmpty();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aNestedListReadByGetAllIsALiveProxy() {
        try (Manager m = Manager.start()) {
            ConcurrentMap<String, Object> d = m.dict();
            d.putAll(Map.of("ls", new ArrayList<>(List.of(1, 2)), "n", 5));
            List<Integer> ls = (List<Integer>) Managers.getAll(d, List.of("ls")).get("ls");
            ls.add(3);
            assertThat((List<Integer>) d.get("ls")).containsExactly(1, 2, 3);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aRemoteDictIsReadInOneRequestWithNestedValuesLive() {
        try (Manager local = Manager.start();
             ManagerServer server = ManagerServer.start(local, new InetSocketAddress("127.0.0.1", 0), KEY);
             Manager remote = Manager.connect(server.address(), KEY)) {
            ConcurrentMap<Object, Object> d = remote.dict("batch");
            Map<Object, Object> batch = new LinkedHashMap<>(entries(10_000));
            batch.put("nested", new ArrayList<>(List.of("a")));
            d.putAll(batch);
            Map<Object, Object> got = Managers.getAll(d, List.of(1, "absent", 9_999, "nested"));
            assertThat(got.keySet()).containsExactly(1, 9_999, "nested");
            assertThat(got.get(1)).isEqualTo("v1");
            assertThat(got.get(9_999)).isEqualTo("v9999");
            ((List<String>) got.get("nested")).add("b");   // a remote proxy: the change reaches the server's dict
            assertThat((List<String>) d.get("nested")).containsExactly("a", "b");
            // and the server's own (local) view agrees, entry for entry
            Map<Object, Object> seenLocally = Managers.getAll(local.dict("batch"), List.of(1, 9_999, "nested"));
            assertThat(seenLocally.get(9_999)).isEqualTo("v9999");
            assertThat((List<String>) seenLocally.get("nested")).containsExactly("a", "b");
        }
    }

    @Test
    void anyOtherMapIsReadKeyByKeyAndNullValuesAreLeftOut() {
        Map<String, Integer> plain = new HashMap<>();
        plain.put("a", 1);
        plain.put("b", null);
        assertThat(Managers.getAll(plain, List.of("b", "a", "c"))).containsExactly(Map.entry("a", 1));
    }

    @Test
    void nullArgumentsAreNamed() {
        assertThatThrownBy(() -> Managers.getAll(null, List.of())).isInstanceOf(NullPointerException.class).hasMessage("map");
        assertThatThrownBy(() -> Managers.getAll(Map.of(), null)).isInstanceOf(NullPointerException.class).hasMessage("keys");
    }
}
