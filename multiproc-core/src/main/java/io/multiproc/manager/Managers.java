package io.multiproc.manager;

import io.multiproc.manager.local.LocalManager;
import io.multiproc.manager.remote.RemoteManager;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Operations over a manager's containers that {@code java.util}'s interfaces have no method for.
 *
 * <pre>{@code
 * Map<String, Integer> d = manager.dict();
 * d.putAll(Map.of("a", 1, "b", 2, "c", 3));
 * Map<String, Integer> some = Managers.getAll(d, List.of("a", "c", "zz"));  // {a=1, c=3}
 * }</pre>
 */
public final class Managers {
    private Managers() {
    }

    /**
     * The values of {@code keys} in {@code map}, as a map in the order of {@code keys}; a key that is
     * absent (or, in a map that allows it, mapped to null) is left out. One batch read instead of one
     * read per key: for a local manager's dict every value is read under one lock hold (all from the
     * same moment); for a remote manager's dict it is one request (all from the same moment too); any
     * other map is read key by key with {@link Map#get}.
     *
     * @throws NullPointerException if {@code map}, {@code keys} or (for a manager's dict) a key is null
     */
    public static <K, V> Map<K, V> getAll(Map<K, V> map, Collection<? extends K> keys) {
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(keys, "keys");
        Map<K, V> remote = RemoteManager.getAllIfRemote(map, keys);
        if (remote != null) {
            return remote;
        }
        List<V> values = LocalManager.getAll(map, keys);
        Map<K, V> out = new LinkedHashMap<>();
        int i = 0;
        for (K key : keys) {
            V v = values.get(i++);
            if (v != null) {
                out.put(key, v);
            }
        }
        return out;
    }
}
