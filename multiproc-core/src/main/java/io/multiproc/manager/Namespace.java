package io.multiproc.manager;

import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Python's {@code Manager().Namespace()}: named attributes shared between processes. A {@code List},
 * {@code Map}, {@code Set} or {@code Namespace} stored as an attribute becomes a managed container, and
 * {@link #get} returns a live proxy of it, so {@code ((List<Integer>) ns.get("y")).add(10)} in a child
 * is seen by everyone (Python's {@code ns.y.append(10)}, which CPython silently loses).
 *
 * <pre>{@code
 * Namespace ns = manager.namespace();
 * ns.set("x", 1);
 * ns.set("y", new ArrayList<>(List.of(1, 2)));
 * ChildProcess.start(() -> ns.<List<Integer>>get("y").add(10)).join();
 * ns.get("y");             // [1, 2, 10]
 * }</pre>
 */
public interface Namespace {

    /** The attribute's value; NoSuchElementException naming it if there is none (Python's AttributeError). */
    <T> T get(String name);

    /** The attribute's value, or {@code defaultValue} if there is none. */
    <T> T getOrDefault(String name, T defaultValue);

    /** Sets (or replaces) an attribute. */
    void set(String name, Object value);

    /** True if the attribute exists. */
    boolean has(String name);

    /** Removes an attribute (Python's {@code del ns.x}); true if it existed. */
    boolean remove(String name);

    /** The attribute names, a snapshot. */
    Set<String> names();

    /** A snapshot of every attribute (nested containers as live proxies). */
    Map<String, Object> snapshot();

    /** Same as {@link #get}, for callers that cannot use a type witness. */
    default <T> T getAs(String name, Class<T> type) {
        Object v = get(name);
        try {
            return type.cast(v);
        } catch (ClassCastException e) {
            throw new ClassCastException("attribute '" + name + "' is a " + v.getClass().getName()
                    + ", not a " + type.getName());
        }
    }

    /** Thrown by {@link #get} for a missing attribute. */
    static NoSuchElementException missing(String name) {
        return new NoSuchElementException("namespace has no attribute '" + name + "'");
    }
}
