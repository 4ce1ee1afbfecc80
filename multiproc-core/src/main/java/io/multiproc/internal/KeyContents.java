package io.multiproc.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A manager's List, Set or dict proxy, equal by contents to any plain List, Set or Map: as a dict key or a
 * set element it stands for what it holds at that moment (decision 234), so it finds the equal plain key a
 * HashMap would find, and a store keeps that snapshot (keys must not change).
 *
 * <pre>{@code
 * Object k = KeyContents.plain(key);   // key itself unless it is such a proxy
 * }</pre>
 *
 * <p>Not part of the public API.
 */
public interface KeyContents {
    /** The contents now, read once: a plain List, Set or Map, whose nested containers may still be proxies. */
    Object contents();

    /**
     * {@code key} itself, or for a List, Set or dict proxy a plain copy of its contents now, with every
     * nested container's proxy copied the same way (a key is stored by value all the way down).
     */
    static Object plain(Object key) {
        return key instanceof KeyContents k ? copy(k.contents()) : key;
    }

    /**
     * What a manager throws for a key (or set element) its key encoding refused: the codec's exception, its
     * message led by the key's class, so that a record or List holding a proxy is named beside the proxy.
     */
    static io.multiproc.codec.CodecException refusedKey(Object key, IllegalArgumentException refused) {
        return new io.multiproc.codec.CodecException("key of type " + key.getClass().getName() + " cannot be stored: "
                + refused.getMessage(), refused);
    }

    /**
     * Refuses {@code key} before a store if {@code noSharedObjects} (a codec that carries no shared object)
     * cannot encode it, with {@link #refusedKey}: one holding a proxy or a shared object anywhere inside fails
     * before the object's writeReplace runs (decision 249). The bytes are thrown away.
     */
    static void checkStoredByValue(Object key, io.multiproc.codec.Codec noSharedObjects) {
        try {
            noSharedObjects.encodeKey(key, new io.multiproc.codec.BufferSink(64));
        } catch (io.multiproc.codec.CodecException refused) {
            throw refusedKey(key, refused);
        }
    }

    private static Object copy(Object contents) {
        if (contents instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object e : l) {
                out.add(plain(e));
            }
            return out;
        }
        if (contents instanceof Set<?> s) {
            Set<Object> out = LinkedHashSet.newLinkedHashSet(s.size());
            for (Object e : s) {
                out.add(plain(e));
            }
            return out;
        }
        if (contents instanceof Map<?, ?> m) {
            Map<Object, Object> out = LinkedHashMap.newLinkedHashMap(m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(plain(e.getKey()), plain(e.getValue()));
            }
            return out;
        }
        return contents;
    }
}
