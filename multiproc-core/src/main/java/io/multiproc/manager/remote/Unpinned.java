package io.multiproc.manager.remote;

import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.local.LocalManager;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

import static io.multiproc.manager.remote.RemoteRef.*;

/**
 * The anonymous lists, dicts and namespaces a server makes for its clients (decision 157). A local
 * manager's {@code list()} keeps the manager's own reference until it closes (decision 090: a proxy in
 * flight never names a freed container), so a client that opens one per job filled the served heap
 * however well the session let go of its ids. A server-wide scratch dict makes them as nested
 * containers instead: {@code put} stores a plain one (a container the item refers to), {@code remove}
 * returns its proxy (this JVM's hold, taken before the item's reference goes), so each lives while the
 * session holds that proxy or something refers to it, and is freed after the session drops it.
 * Other managers' containers are garbage-collected objects already: they are made as usual.
 * Anonymous values have no such route (a plain value is not a container) and stay until the manager closes.
 */
final class Unpinned {
    /** One per server, made with it (null for other managers); empty but while a connection thread makes a container. */
    private final ConcurrentMap<Long, Object> scratch;
    private final AtomicLong keys = new AtomicLong();

    Unpinned(Manager manager) {
        // the one container of the server's that stays until the manager closes
        this.scratch = manager instanceof LocalManager ? manager.dict() : null;
    }

    /** A new anonymous container of {@code kind}, or null to make it the usual way. */
    Object make(int kind) {
        if (scratch == null || kind == KIND_VALUE) {
            return null;
        }
        Object plain = switch (kind) {
            case KIND_LIST -> new ArrayList<>();
            case KIND_DICT -> new HashMap<>();
            case KIND_NAMESPACE -> EmptyNamespace.INSTANCE;
            default -> null;
        };
        if (plain == null) {
            return null;
        }
        Long key = keys.incrementAndGet();
        scratch.put(key, plain);
        return scratch.remove(key);
    }

    /** What a new namespace is made from: the local manager copies its snapshot (nothing). */
    private static final class EmptyNamespace implements Namespace {
        static final EmptyNamespace INSTANCE = new EmptyNamespace();

        @Override
        public <T> T get(String name) {
            throw Namespace.missing(name);
        }

        @Override
        public <T> T getOrDefault(String name, T defaultValue) {
            return defaultValue;
        }

        @Override
        public void set(String name, Object value) {
            throw new UnsupportedOperationException("the empty namespace a server copies is read-only");
        }

        @Override
        public boolean has(String name) {
            return false;
        }

        @Override
        public boolean remove(String name) {
            return false;
        }

        @Override
        public Set<String> names() {
            return Set.of();
        }

        @Override
        public Map<String, Object> snapshot() {
            return Map.of();
        }
    }
}
