package io.multiproc.redis;

import io.multiproc.manager.Namespace;
import org.redisson.api.RScript;
import org.redisson.client.RedisException;
import org.redisson.client.RedisTimeoutException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Nested containers on Redis (seed 001), the rule of decision 102: storing a {@code List}, {@code Map},
 * {@code Set} or {@link Namespace} into a container creates a new Redis object filled with it and stores a
 * {@link NestedRef}; storing a proxy of this manager stores its ref. Each stored ref counts one in the
 * object's reference count (key {@code <object key>:refs}, same hash tag, so the same cluster slot); a
 * removed or overwritten ref is released, and the release that takes the count to zero (decided in one Lua
 * script) deletes an unnamed object and releases the refs it held. Proxies held by processes are not
 * counted (Redis cannot see them): a proxy of a freed object sees it empty. Named objects are never freed
 * by counting, and an object a manager made ({@code m.list()}, {@code m.queue(n)}) only once that
 * manager has closed (decision 155).
 */
final class Nesting {
    private final RedisManager m;

    Nesting(RedisManager m) {
        this.m = m;
    }

    /**
     * What {@code v} is stored as; a container value becomes a counted ref (if the store fails, call
     * {@link #undo(Object, RuntimeException)}).
     */
    Object toStored(Object v) {
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) {
            return v; // the common case: one cheap test before the container checks
        }
        if (v instanceof RedisProxy p && p.manager().sameServer(m)) {
            NestedRef ref = p.ref();
            // a referenced object is read by whoever reads the container: it stays until close (decision 166)
            p.manager().escaped(ref.key());
            java.lang.ref.Reference.reachabilityFence(p);
            retain(ref);
            return ref;
        }
        return switch (v) {
            case Namespace ns -> {
                RedisNamespace n = (RedisNamespace) m.proxy(Kind.NAMESPACE, m.nestedKey(Kind.NAMESPACE));
                yield filled(n, () -> n.setAll(ns.snapshot()));
            }
            case List<?> l -> {
                RedisList<Object> n = m.proxy(Kind.LIST, m.nestedKey(Kind.LIST));
                yield filled(n, () -> n.addAll(l));
            }
            case Set<?> s -> {
                RedisSet<Object> n = m.proxy(Kind.SET, m.nestedKey(Kind.SET));
                yield filled(n, () -> n.addAll(s));
            }
            case Map<?, ?> map -> {
                RedisDict<Object, Object> n = m.proxy(Kind.DICT, m.nestedKey(Kind.DICT));
                yield filled(n, () -> n.putAll(map));
            }
            default -> {
                checkStoredByValue(v, AS_VALUE, AS_VALUE_INSTEAD);
                yield v;
            }
        };
    }

    /**
     * {@code n}, a new unnamed container, filled and counted once; if filling or counting fails, {@code n}
     * is freed with whatever it took (it is referenced by nothing), and the failure is thrown.
     * <p>Why: a namespace copied attribute by attribute stayed in Redis, half filled and uncounted, with
     * the nested containers of the attributes before the failing one, until the manager closed.
     */
    private NestedRef filled(RedisProxy n, Runnable fill) {
        try {
            fill.run();
            return counted(n);
        } catch (RuntimeException | Error e) {
            try {
                free(n.kind(), n.key());
            } catch (RuntimeException second) {
                e.addSuppressed(second);
            }
            throw e;
        }
    }

    /**
     * While this thread checks what is about to be stored by value ({@link #checkStoredByValue}): the
     * manager it goes to, and what {@link #refuseNested} said (the codec may wrap the exception it throws);
     * null otherwise.
     */
    private static final ThreadLocal<Checking> CHECKING = new ThreadLocal<>();

    private static final class Checking {
        final RedisManager into;
        String refused;

        Checking(RedisManager into) {
            this.into = into;
        }
    }

    /** How a refused key or set element is stored, and what to do instead (the message's end). */
    private static final String AS_KEY = " used as a dict key or set element: those are stored by value and nothing would "
            + "count that reference";
    private static final String AS_KEY_INSTEAD = "use a value such as its name, or store the container itself as a value";
    /** The same for a container's value: below its top nothing is counted ({@link #toStored} counts only the top). */
    private static final String AS_VALUE = " stored as a value: only a container stored itself, or in a List, Set or Map "
            + "(which becomes a nested container), has that reference counted";
    private static final String AS_VALUE_INSTEAD = "store the container itself, or a List, Set or Map of them";
    private static final String IN_SHARED_VALUE = " stored in a shared value: a value holds a copy and nothing would count "
            + "that reference";
    private static final String IN_SHARED_VALUE_INSTEAD = "keep the container in a list, dict or namespace, or store its name";

    /**
     * Refuses a dict key that is a proxy of this manager's server, or holds one anywhere inside (a record,
     * a List used as a key): IllegalArgumentException naming its class, before anything is stored.
     * <p>Why: keys are stored by value and counted nowhere, so a record key naming a nested list kept
     * naming it once the list was freed with its last counted reference (it then read as empty), as the
     * local manager's keys did (which refuses them too).
     */
    void checkKey(Object key) {
        if (key instanceof RedisProxy p && p.manager().sameServer(m)) {
            throw new IllegalArgumentException("key of type " + key.getClass().getName() + " is a shared object: a Redis "
                    + "dict stores keys by value and cannot keep what a key refers to alive; use a value such as its name");
        }
        refuseSharedInside(key);
        checkStoredByValue(key, AS_KEY, AS_KEY_INSTEAD);
    }

    /**
     * The manager's codec (the default one, {@link RedisCodec#INSTANCE}) with shared objects refused: a key
     * holding any proxy or shared object, of any manager or none, fails before its writeReplace runs.
     */
    private static final io.multiproc.codec.Codec KEY_CHECK = io.multiproc.codec.BuiltinCodec.builder().sharedObjects(false).build();

    /**
     * Refuses a key or set element holding a proxy of another manager (local, remote, another Redis
     * server) or a shared object (a lock, a value) anywhere inside, naming its class, as the local and remote
     * managers' keys do (decision 249): it was stored as the object's handle, a live reference nothing counted.
     * Before {@link #checkStoredByValue}, whose encoding ran such a proxy's writeReplace.
     */
    private static void refuseSharedInside(Object key) {
        // the same codec but for shared objects: what else it refuses, the store's encoding refused too
        if (!holdsNoObject(key)) {
            io.multiproc.internal.KeyContents.checkStoredByValue(key, KEY_CHECK);
        }
    }

    /** A value that holds no other object (this server's proxies are checked by name, not walked). */
    private static boolean holdsNoObject(Object v) {
        return v == null || v instanceof String || v instanceof Number || v instanceof Boolean || v instanceof Character
                || v instanceof Enum<?> || v instanceof RedisProxy
                || v.getClass().isArray() && v.getClass().componentType().isPrimitive();
    }

    /**
     * {@link #checkKey} for a set element: every element is stored by value, a List, Set or Map too (as the
     * local manager's set elements and this manager's dict keys are), so a proxy of this server, as the
     * element or anywhere inside it, is refused.
     * <p>Why: a List element was stored as a counted nested list, so {@code add(List.of(2))} twice stored
     * two elements and {@code contains(List.of(2))} was false.
     */
    void checkElement(Object element) {
        if (element instanceof RedisProxy p && p.manager().sameServer(m)) {
            throw new IllegalArgumentException("element of type " + element.getClass().getName() + " is a shared object: a "
                    + "Redis set stores elements by value and cannot keep what an element refers to alive; use a value "
                    + "such as its name");
        }
        refuseSharedInside(element);
        checkStoredByValue(element, AS_KEY, AS_KEY_INSTEAD);
    }

    /**
     * For a {@link RedisValue}, which holds a copy (no nested container, no count): a proxy of this server
     * anywhere below the top, a List of them included, is refused naming the outer class; so is the proxy
     * itself as the whole value.
     * <p>Why: a record naming a nested list, set into a value, kept naming it once the list was freed with
     * its last counted reference (it then read as empty). The proxy itself was stored as its handle,
     * uncounted too, and reading it back failed inside Redisson: its network thread decoded the handle
     * and the new proxy called the server synchronously there ("Sync methods can't be invoked from
     * async/rx/reactive listeners").
     */
    void checkValue(Object v) {
        if (v instanceof RedisProxy p && p.manager().sameServer(m)) {
            throw new IllegalArgumentException("a Redis " + p.kind().label + " proxy (manager '" + p.manager().name() + "', key "
                    + p.key() + ")" + IN_SHARED_VALUE + "; " + IN_SHARED_VALUE_INSTEAD);
        }
        checkStoredByValue(v, IN_SHARED_VALUE, IN_SHARED_VALUE_INSTEAD);
    }

    /**
     * Encodes {@code v} once, to see whether a proxy of this server is inside it: the codec calls each
     * proxy's writeReplace, which asks {@link #refuseNested}. Costs one encoding of what is not a String,
     * number, boolean, character, enum or primitive array (those hold no proxy), so the common values pay
     * nothing; nor of a proxy, which each caller refuses or counts itself as the top. A value that cannot be
     * encoded at all is left to the store itself, which reports it.
     */
    private void checkStoredByValue(Object v, String as, String instead) {
        if (holdsNoObject(v)) {
            return;
        }
        Checking outer = CHECKING.get();
        Checking c = new Checking(m);
        CHECKING.set(c);
        try {
            RedisCodec.INSTANCE.bytesOf(v);
        } catch (RuntimeException e) {
            if (c.refused != null) {
                throw new IllegalArgumentException(c.refused + " a " + v.getClass().getName() + as + ", so the container "
                        + "could be freed while the " + v.getClass().getSimpleName() + " still names it; "
                        + instead, e);
            }
        } finally {
            CHECKING.set(outer);
        }
    }

    /** From a proxy's writeReplace: inside anything being checked as stored by value, a proxy of its server is refused. */
    static void refuseNested(RedisProxy p) {
        Checking c = CHECKING.get();
        if (c == null || !p.manager().sameServer(c.into)) {
            return;
        }
        c.refused = "a Redis " + p.kind().label + " proxy (manager '" + p.manager().name() + "', key " + p.key()
                + ") cannot be stored inside";
        throw new IllegalArgumentException(c.refused);
    }

    /** The stored form of {@code v} for comparing (remove(o), replace(k, old, new)): no new object, no count. */
    Object asStored(Object v) {
        return v instanceof RedisProxy p && p.manager().sameServer(m) ? p.ref() : v;
    }

    /** What a stored value reads as: a ref becomes a live proxy. */
    Object fromStored(String parentKey, Object v) {
        if (!(v instanceof NestedRef r)) {
            return v;
        }
        // the nested proxy is not counted (decision 102): freeing its parent when the parent's proxy is
        // garbage would free it under the program, so a parent this JVM made stays until close (decision 166)
        m.escaped(parentKey);
        return m.proxy(Kind.of(r.kind()), r.key());
    }

    /** A store of {@code stored} did not happen (the server said so): drop the count it took. */
    void undo(Object stored) {
        release(stored);
    }

    /**
     * A write of {@code stored} failed with {@code failure}: drops the counts it took only if the write
     * certainly did not happen ({@link #notWritten}); returns {@code failure} for the caller to throw, with a
     * failed release suppressed in it.
     * <p>Why: a write whose reply came too late may still run (a held RPUSH ran when the pause ended);
     * freeing its nested container then left the parent naming a deleted one, read as empty. Kept, the
     * container at worst leaks, until destroy() or deleteAll (decision 189).
     */
    RuntimeException undo(Object stored, RuntimeException failure) {
        return undoAll(stored instanceof NestedRef ? List.of(stored) : List.of(), failure);
    }

    /** {@link #undo(Object, RuntimeException)} for every value of one write. */
    RuntimeException undoAll(Collection<?> stored, RuntimeException failure) {
        if (notWritten(failure)) {
            try {
                releaseAll(stored);
            } catch (RuntimeException second) {
                failure.addSuppressed(second);
            }
        }
        return failure;
    }

    /**
     * Whether a write that threw {@code failure} certainly did not change Redis: an exception raised before
     * anything was sent (ours or the codec's; a Redisson type only when no connection could be made) or the
     * server's refusal (a script's own, which {@link Lua#eval} turns into a Java exception, or an error
     * reply). A timeout, a connection lost after sending, or anything unknown is ambiguous: false.
     */
    static boolean notWritten(RuntimeException failure) {
        if (!(failure instanceof RedisException)) {
            return true;
        }
        if (failure instanceof RedisTimeoutException) {
            return false; // RedisResponseTimeoutException too: sent, and the reply was late
        }
        for (Throwable c = failure.getCause(); c != null; c = c.getCause()) {
            if (c instanceof java.net.ConnectException) {
                return true; // no connection: a write is never re-sent after it went out (decision 141)
            }
        }
        return failure.getCause() == null && failure.getMessage() != null
                && ERROR_REPLY.matcher(failure.getMessage()).lookingAt();
    }

    /** How Redisson words an error reply from the server: its code ("ERR", "WRONGTYPE", "OOM", ...) first. */
    private static final java.util.regex.Pattern ERROR_REPLY = java.util.regex.Pattern.compile("[A-Z]{2,}[A-Z_-]* ");

    /**
     * {@code old} is no longer stored (removed or overwritten): release it if it is a ref. An object a
     * manager made ({@link RedisManager#isMade}) is its manager's until close, whatever containers did
     * with it: the release that ends its last reference frees it only once that manager has closed.
     * <p>Why: m.queue(2) put into a dict and removed from it was freed while the program still used it;
     * a bounded queue lost its capacity with it, so offer failed and put waited forever.
     */
    void release(Object old) {
        if (old instanceof NestedRef r) {
            boolean last = Lua.<Long>eval(m.redisson(), r.key(), Lua.RELEASE, RScript.ReturnType.LONG,
                    List.of(refsKey(r.key()), orphanKey(r.key())), RedisCodec.Raw.of(m.isMade(r.key()) ? "1" : "0")) == 1L;
            if (last && m.isUnnamed(r.key())) {
                free(Kind.of(r.kind()), r.key());
            }
        }
    }

    void releaseAll(Collection<?> olds) {
        for (Object o : olds) {
            release(o);
        }
    }

    /**
     * At its manager's close: deletes the object at {@code key} if no container references it, else marks
     * it an orphan, freed by the release of its last reference.
     */
    void dropIfUnreferenced(Kind kind, String key) {
        if (Lua.<Long>eval(m.redisson(), key, Lua.DROP_OR_ORPHAN, RScript.ReturnType.LONG,
                List.of(refsKey(key), orphanKey(key))) == 1L) {
            free(kind, key);
        }
    }

    /** Deletes the object at {@code key} and releases the refs it held, in one script per object. */
    private void free(Kind kind, String key) {
        String script = switch (kind) {
            case LIST -> Lua.LIST_TAKE_ALL;
            case DICT, NAMESPACE -> Lua.HASH_TAKE_ALL;
            case SET -> Lua.SET_TAKE_ALL;
            case VALUE, QUEUE, BOUNDED_QUEUE -> null;
        };
        if (kind == Kind.BOUNDED_QUEUE) {
            m.redisson().getBoundedBlockingQueue(key, RedisCodec.INSTANCE).delete(); // and its capacity semaphore
            return;
        }
        if (script == null) {
            m.redisson().getKeys().delete(key);
            return;
        }
        List<Object> held = Lua.eval(m.redisson(), key, script, RScript.ReturnType.LIST, List.of(key));
        releaseAll(held);
    }

    private void retain(NestedRef ref) {
        m.redisson().getAtomicLong(refsKey(ref.key())).incrementAndGet();
    }

    private NestedRef counted(RedisProxy p) {
        NestedRef ref = p.ref();
        retain(ref);
        return ref;
    }

    static String refsKey(String key) {
        return key + ":refs";
    }

    /** Set by the close of the manager that made the object while containers still referenced it. */
    static String orphanKey(String key) {
        return key + ":orphan";
    }

    /** The refs among {@code values} (to release after a whole-container replacement). */
    static List<Object> refsIn(Collection<?> values) {
        List<Object> refs = new ArrayList<>();
        for (Object v : values) {
            if (v instanceof NestedRef) {
                refs.add(v);
            }
        }
        return refs;
    }
}
