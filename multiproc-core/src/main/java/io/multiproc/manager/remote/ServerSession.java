package io.multiproc.manager.remote;

import io.multiproc.codec.BufferSink;
import io.multiproc.codec.Codec;
import io.multiproc.codec.CodecException;
import io.multiproc.codec.SegmentSource;
import io.multiproc.internal.RemoteFailure;
import io.multiproc.manager.Manager;
import io.multiproc.manager.Namespace;
import io.multiproc.manager.SharedValueProxy;
import io.multiproc.manager.local.LocalManager;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;

import static io.multiproc.manager.remote.Ops.*;
import static io.multiproc.manager.remote.RemoteRef.*;

/**
 * One authenticated client connection of a {@link ManagerServer}: reads requests in order, applies
 * each to the local manager's containers, and replies to those that are not pipelined. Used by one
 * thread. A request that breaks the protocol (a bad length, bytes the codec refuses, an unknown
 * op or id, arguments of the wrong shape) ends the session with a {@link Wire.ProtocolException};
 * an exception thrown by the container itself is the reply.
 *
 * <p>Pipelined requests get no reply when they succeed. When one fails, its failure is kept, the
 * pipelined requests after it are skipped, and the next request that waits for a reply is answered
 * with {@link Wire#EARLIER_FAILED} and that failure instead of being run: the client sees the error
 * at its next call, and nothing after the failed request was applied.
 *
 * <p>Ids (decision 157): every container a reply hands the client gets this connection's id for it,
 * and each hand-out of an id is counted. The client sends {@link Ops#RELEASE} with an id and the
 * number of hand-outs it received once its last proxy of that id is garbage; the session drops the
 * container when its count reaches 0, so the served manager frees it unless something else holds or
 * refers to it (a name, another container, another client, a proxy in this JVM). Counting hand-outs
 * rather than proxies makes a reply in flight safe: a release sent while a reply naming the same id
 * travels to the client leaves that reply's count, so the proxy it becomes never names a dropped id.
 * Ids are never reused: a container handed out again after its drop gets a new one.
 */
final class ServerSession {
    private final Manager manager;
    private final Exports exports;
    private final Unpinned unpinned;
    private final Codec codec;
    private final DataInputStream in;
    private final DataOutputStream out;
    /** The containers this client holds ids of, by id; id 0, the manager, is not in it and never released. */
    private final Map<Long, Held> objects = new HashMap<>();
    /** The id of each container in {@link #objects}, by {@link #identity}. */
    private final Map<Object, Long> ids = new HashMap<>();
    private long nextId = 1;
    /** The ids handed out in the reply being built, one entry per hand-out: taken back if it is not sent. */
    private final List<Long> handed = new ArrayList<>();
    private final SegmentSource source = new SegmentSource();
    /** Replaced by a small one after a reply that grew it past {@link Wire#KEPT_BUFFER}. */
    private BufferSink reply = new BufferSink(256);
    private RemoteFailure earlierFailure;

    ServerSession(Manager manager, Exports exports, Unpinned unpinned, Codec codec, DataInputStream in, DataOutputStream out) {
        this.manager = manager;
        this.exports = exports;
        this.unpinned = unpinned;
        this.codec = codec;
        this.in = in;
        this.out = out;
    }

    /** A container this client was given, and how many replies handed it out and were not released yet. */
    private static final class Held {
        final Object container;
        long handed;

        Held(Object container) {
            this.container = container;
        }
    }

    /** Serves until the client disconnects (EOFException) or breaks the protocol. */
    void run() throws IOException {
        while (true) {
            byte[] frame = Wire.readFrame(in, Wire.MAX_FRAME);
            if (frame.length < Wire.REQUEST_HEADER) {
                throw new Wire.ProtocolException("request of " + frame.length + " bytes is shorter than its header");
            }
            int op = frame[0] & 0xFF;
            boolean pipelined = (frame[1] & Wire.FLAG_PIPELINED) != 0;
            if ((frame[1] & ~Wire.FLAG_PIPELINED) != 0 || pipelined && !Ops.pipelined(op)) {
                throw new Wire.ProtocolException("op=" + op + " flags=" + frame[1] + " is not a valid combination");
            }
            long target = ByteBuffer.wrap(frame, 2, 8).getLong();
            Object receiver = objectAt(target);
            List<?> args = args(frame);
            if (op == RELEASE) {
                // NOTE: applied even after a failed pipelined request: it is bookkeeping the client sends
                // on its own, never one of the calls skipped until the failure is reported; skipped, the
                // client (which forgot those hand-outs) would never send it again
                if (!pipelined) {
                    throw new Wire.ProtocolException("op=" + op + " (release) flags=" + frame[1] + ": a release is only pipelined");
                }
                release(target, args);
                continue;
            }
            if (earlierFailure != null) {
                if (!pipelined) {
                    respond(Wire.EARLIER_FAILED, earlierFailure);
                    earlierFailure = null;
                }
                continue;
            }
            Object result;
            try {
                result = execute(op, receiver, args);
            } catch (Wire.ProtocolError e) {
                throw new Wire.ProtocolException(e.getMessage());
            } catch (RuntimeException e) {
                takeBack();
                if (pipelined) {
                    earlierFailure = RemoteFailure.of(e);
                } else {
                    respond(Wire.FAILED, RemoteFailure.of(e));
                }
                continue;
            }
            if (pipelined) {
                takeBack(); // none of them returns a container; should one, the client never receives it
            } else {
                respondResult(result);
            }
        }
    }

    private List<?> args(byte[] frame) throws Wire.ProtocolException {
        Object decoded;
        try {
            decoded = RemoteKeys.wireDecoding(() -> codec.decode(source.reset(MemorySegment.ofArray(frame),
                    Wire.REQUEST_HEADER, frame.length - Wire.REQUEST_HEADER)));
        } catch (CodecException e) {
            throw new Wire.ProtocolException("request arguments do not decode: " + e.getMessage(), e);
        }
        long left = source.remaining();
        source.reset(MemorySegment.NULL, 0, 0); // the decoded values are copies: the frame may go now
        if (left != 0) {
            throw new Wire.ProtocolException(left + " bytes after the request's arguments");
        }
        if (!(decoded instanceof List<?> list)) {
            throw new Wire.ProtocolException("request arguments are a " + (decoded == null ? "null" : decoded.getClass().getName())
                    + ", not a list");
        }
        return list;
    }

    private Object objectAt(long id) throws Wire.ProtocolException {
        if (id == 0) {
            return manager;
        }
        Held h = objects.get(id);
        if (h == null) {
            throw new Wire.ProtocolException(notHeld(id));
        }
        return h.container;
    }

    private static String notHeld(long id) {
        return "id=" + id + " was never given to this client, or it released it";
    }

    private void respondResult(Object result) throws IOException {
        reply.reset();
        reply.writeByte(Wire.OK);
        try {
            codec.encode(result instanceof Copy c ? c.value() : toWire(result), reply);
        } catch (CodecException e) {
            takeBack();
            respond(Wire.FAILED, RemoteFailure.of(e));
            return;
        }
        handed.clear(); // NOTE: before the send: the client may release these hand-outs as soon as it reads them
        send();
    }

    // ------------------------------------------------------------------ releases

    /**
     * {@link Ops#RELEASE}: (id, count) pairs of longs, each count at most the hand-outs of that id not
     * released yet. Anything else is a protocol error (the client's counts can no longer be trusted).
     */
    private void release(long target, List<?> a) throws Wire.ProtocolException {
        if (target != 0) {
            throw new Wire.ProtocolException("release sent to id=" + target + ", not to the manager (id 0)");
        }
        if (a.isEmpty() || a.size() % 2 != 0) {
            throw new Wire.ProtocolException("release of " + a.size() + " numbers, not (id, count) pairs");
        }
        for (int i = 0; i < a.size(); i += 2) {
            if (!(a.get(i) instanceof Long id) || !(a.get(i + 1) instanceof Long count)) {
                throw new Wire.ProtocolException("release pair " + i / 2 + " is (" + a.get(i) + ", " + a.get(i + 1)
                        + "), not two longs");
            }
            Held h = objects.get(id);
            if (h == null) {
                throw new Wire.ProtocolException("release of " + notHeld(id));
            }
            if (count <= 0 || count > h.handed) {
                throw new Wire.ProtocolException("release of id=" + id + " count=" + count + " outside 1.." + h.handed);
            }
            h.handed -= count;
            if (h.handed == 0) {
                drop(id, h);
            }
        }
    }

    /** Takes back the hand-outs of a reply that is not sent: the client never counts them. */
    private void takeBack() {
        for (long id : handed) {
            Held h = objects.get(id);
            if (--h.handed == 0) {
                drop(id, h);
            }
        }
        handed.clear();
    }

    /**
     * Forgets a container: this session's reference to the manager's proxy was the client's hold, and
     * the manager drops it when that proxy is unreachable here (a local manager's proxy releases its
     * hold through its cleaner, at this JVM's next garbage collection).
     */
    private void drop(long id, Held h) {
        objects.remove(id);
        ids.remove(identity(h.container));
    }

    private void respond(byte status, RemoteFailure failure) throws IOException {
        reply.reset();
        reply.writeByte(status);
        codec.encode(failure, reply);
        send();
    }

    private void send() throws IOException {
        Wire.writeFrame(out, reply.array(), 0, reply.size());
        out.flush();
        if (reply.array().length > Wire.KEPT_BUFFER) {
            reply = new BufferSink(256);
        }
    }

    // ------------------------------------------------------------------ operations

    private Object execute(int op, Object target, List<?> a) {
        if (op == EXPORT && !(target instanceof Manager)) {
            if (!a.isEmpty()) {
                throw new Wire.ProtocolError(a.size() + " arguments where none belong");
            }
            return exports.export(target);
        }
        return switch (target) {
            case Manager m -> manager(op, a);
            case Namespace ns -> namespace(op, ns, a);
            case SharedValueProxy<?> v -> value(op, v, a);
            case List<?> l -> list(op, l, a);
            case Set<?> s -> set(op, s, a);
            case Map<?, ?> d -> dict(op, d, a);
            default -> throw new Wire.ProtocolError("target of class " + target.getClass().getName());
        };
    }

    private Object manager(int op, List<?> a) {
        return switch (op) {
            case HELLO -> manager.name();
            case SYNC -> null;
            case IMPORT -> imported(arg(a, 0, 2, Long.class), arg(a, 1, 2, Integer.class));
            case OPEN -> open(arg(a, 0, 3, Integer.class), arg(a, 1, 3, String.class), fromWire(a.get(2)));
            default -> throw badOp(op, "the manager");
        };
    }

    /** An exported container (this connection then gives it an id of its own, as to any result). */
    private Object imported(Long token, Integer kind) {
        Object o = token == null ? null : exports.find(token);
        if (o == null) {
            throw new IllegalStateException("no container of manager '" + manager.name() + "' is exported as token="
                    + token + " (the server restarted since the proxy was sent?)");
        }
        if (kind == null || kindOf(o) != kind) {
            throw new Wire.ProtocolError("token=" + token + " is a " + kindName(kindOf(o)) + ", not a " + kind);
        }
        return o;
    }

    private Object open(int kind, String name, Object initial) {
        Object anonymous = name == null ? unpinned.make(kind) : null;
        if (anonymous != null) {
            return anonymous;
        }
        Object made = switch (kind) {
            case KIND_LIST -> name == null ? manager.list() : manager.list(name);
            case KIND_DICT -> name == null ? manager.dict() : manager.dict(name);
            case KIND_NAMESPACE -> name == null ? manager.namespace() : manager.namespace(name);
            case KIND_VALUE -> name == null ? manager.value(initial) : manager.value(name, initial);
            default -> throw new Wire.ProtocolError("open of kind=" + kind);
        };
        return made;
    }

    @SuppressWarnings("unchecked")
    private Object list(int op, List<?> target, List<?> a) {
        List<Object> l = (List<Object>) target;
        return switch (op) {
            case SIZE -> l.size();
            case CLEAR -> { l.clear(); yield null; }
            case SNAPSHOT -> wireList(new ArrayList<>(l));
            case CONTAINS -> l.contains(fromWire(arg(a, 0, 1)));
            case L_GET -> l.get(index(a, 0, 1));
            case L_SET -> l.set(index(a, 0, 2), fromWire(a.get(1)));
            case L_ADD -> l.add(fromWire(arg(a, 0, 1)));
            case L_INSERT -> { l.add(index(a, 0, 2), fromWire(a.get(1))); yield null; }
            case L_REMOVE_AT -> l.remove(index(a, 0, 1));
            case L_REMOVE -> l.remove(fromWire(arg(a, 0, 1)));
            case L_INDEX_OF -> l.indexOf(fromWire(arg(a, 0, 1)));
            case L_LAST_INDEX_OF -> l.lastIndexOf(fromWire(arg(a, 0, 1)));
            case L_ADD_ALL -> l.addAll((Collection<?>) fromWire(arg(a, 0, 1, List.class)));
            case L_INSERT_ALL -> l.addAll(index(a, 0, 2), (Collection<?>) fromWire(arg(a, 1, 2, List.class)));
            case L_END -> switch (index(a, 0, 1)) {
                case END_GET_FIRST -> l.getFirst();
                case END_GET_LAST -> l.getLast();
                case END_REMOVE_FIRST -> l.removeFirst();
                case END_REMOVE_LAST -> l.removeLast();
                default -> throw new Wire.ProtocolError("list end=" + a.get(0));
            };
            case L_REPLACE_IF -> LocalManager.replaceIfUnchanged(l, (List<?>) fromWire(arg(a, 0, 2, List.class)),
                    (List<?>) fromWire(arg(a, 1, 2, List.class)));
            default -> throw badOp(op, "a list");
        };
    }

    @SuppressWarnings("unchecked")
    private Object dict(int op, Map<?, ?> target, List<?> a) {
        if (!(target instanceof ConcurrentMap<?, ?>)) {
            throw new Wire.ProtocolError("a dict that is not a ConcurrentMap");
        }
        ConcurrentMap<Object, Object> d = (ConcurrentMap<Object, Object>) target;
        return switch (op) {
            case SIZE -> d.size();
            case CLEAR -> { d.clear(); yield null; }
            case SNAPSHOT -> wireMap(new LinkedHashMap<>(d));
            case CONTAINS -> d.containsKey(fromWire(arg(a, 0, 1)));
            case D_GET -> d.get(fromWire(arg(a, 0, 1)));
            case D_PUT -> d.put(fromWire(arg(a, 0, 2)), fromWire(a.get(1)));
            case D_SET -> { d.put(fromWire(arg(a, 0, 2)), fromWire(a.get(1))); yield null; }
            case D_REMOVE -> d.remove(fromWire(arg(a, 0, 1)));
            case D_REMOVE_IF -> d.remove(fromWire(arg(a, 0, 2)), fromWire(a.get(1)));
            case D_PUT_IF_ABSENT -> d.putIfAbsent(fromWire(arg(a, 0, 2)), fromWire(a.get(1)));
            case D_REPLACE -> d.replace(fromWire(arg(a, 0, 2)), fromWire(a.get(1)));
            case D_REPLACE_IF -> d.replace(fromWire(arg(a, 0, 3)), fromWire(a.get(1)), fromWire(a.get(2)));
            case D_CONTAINS_VALUE -> d.containsValue(fromWire(arg(a, 0, 1)));
            case D_PUT_ALL -> { d.putAll((Map<?, ?>) fromWire(arg(a, 0, 1, Map.class))); yield null; }
            case D_GET_ALL -> {
                List<?> keys = (List<?>) fromWire(arg(a, 0, 1, List.class));
                // one lock hold for a local manager's dict: every value from one moment, one lock round trip
                List<Object> values = LocalManager.getAll(d, keys);
                values.replaceAll(this::toWire);
                yield new Copy(values);
            }
            default -> throw badOp(op, "a dict");
        };
    }

    private Object namespace(int op, Namespace ns, List<?> a) {
        return switch (op) {
            case SNAPSHOT -> wireMap(new LinkedHashMap<>(ns.snapshot()));
            case CONTAINS -> ns.has(arg(a, 0, 1, String.class));
            case N_GET -> ns.get(arg(a, 0, 1, String.class));
            case N_SET -> { ns.set(arg(a, 0, 2, String.class), fromWire(a.get(1))); yield null; }
            case N_REMOVE -> ns.remove(arg(a, 0, 1, String.class));
            default -> throw badOp(op, "a namespace");
        };
    }

    @SuppressWarnings("unchecked")
    private Object value(int op, SharedValueProxy<?> target, List<?> a) {
        SharedValueProxy<Object> v = (SharedValueProxy<Object>) target;
        return switch (op) {
            case V_GET -> v.get();
            case V_SET -> { v.set(fromWire(arg(a, 0, 1))); yield null; }
            case V_GET_AND_SET -> v.getAndSet(fromWire(arg(a, 0, 1)));
            case V_CAS -> v.compareAndSet(fromWire(arg(a, 0, 2)), fromWire(a.get(1)));
            default -> throw badOp(op, "a value");
        };
    }

    @SuppressWarnings("unchecked")
    private Object set(int op, Set<?> target, List<?> a) {
        Set<Object> s = (Set<Object>) target;
        return switch (op) {
            case SIZE -> s.size();
            case CLEAR -> { s.clear(); yield null; }
            // NOTE: no toWire: set elements are values (a container is refused as one), so a List element is
            // data; converted, it went out as a proxy of this decoded copy, exported until the client let go
            case SNAPSHOT -> new Copy(new ArrayList<>(s));
            case CONTAINS -> s.contains(fromWire(arg(a, 0, 1)));
            case S_ADD -> s.add(fromWire(arg(a, 0, 1)));
            case S_REMOVE -> s.remove(fromWire(arg(a, 0, 1)));
            default -> throw badOp(op, "a set");
        };
    }

    // ------------------------------------------------------------------ arguments and results

    /** Argument {@code i} of a request that must have exactly {@code count}. */
    private static Object arg(List<?> a, int i, int count) {
        if (a.size() != count) {
            throw new Wire.ProtocolError(a.size() + " arguments where " + count + " belong");
        }
        return a.get(i);
    }

    private static <T> T arg(List<?> a, int i, int count, Class<T> type) {
        Object v = arg(a, i, count);
        if (v != null && !type.isInstance(v)) {
            throw new Wire.ProtocolError("argument " + i + " is a " + v.getClass().getName() + ", not a " + type.getName());
        }
        return type.cast(v);
    }

    private static int index(List<?> a, int i, int count) {
        Integer index = arg(a, i, count, Integer.class);
        if (index == null) {
            throw new Wire.ProtocolError("index is null");
        }
        return index;
    }

    private static Wire.ProtocolError badOp(int op, String what) {
        return new Wire.ProtocolError("op=" + op + " on " + what);
    }

    /** A request's value: ids become this client's containers, inside plain collections too. */
    private Object fromWire(Object v) {
        return PlainValues.map(v, x -> x instanceof RemoteRef r ? container(r) : x);
    }

    private Object container(RemoteRef r) {
        Held h = objects.get(r.id());
        if (h == null) {
            throw new Wire.ProtocolError(notHeld(r.id()));
        }
        Object o = h.container;
        if (kindOf(o) != r.kind()) {
            throw new Wire.ProtocolError("id=" + r.id() + " is a " + kindName(kindOf(o)) + ", not a " + kindName(r.kind()));
        }
        return o;
    }

    /** A result: a container (the manager's proxies of nested lists, dicts, ...) becomes its id, counted. */
    private Object toWire(Object v) {
        int kind = kindOf(v);
        if (kind == 0) {
            return v;
        }
        Object key = identity(v);
        Long id = ids.get(key);
        Held h;
        if (id == null) {
            id = nextId++;
            h = new Held(v);
            objects.put(id, h);
            ids.put(key, id);
        } else {
            h = objects.get(id);
        }
        h.handed++;
        handed.add(id);
        return new RemoteRef(id, kind);
    }

    /** A result that is a copy (a snapshot): sent as it is, its containers already ids. */
    private record Copy(Object value) {
    }

    private Copy wireList(List<Object> snapshot) {
        snapshot.replaceAll(this::toWire);
        return new Copy(snapshot);
    }

    private Copy wireMap(Map<Object, Object> snapshot) {
        snapshot.replaceAll((k, v) -> toWire(v));
        return new Copy(snapshot);
    }

    /**
     * What makes two proxies the same container: the local manager's own identity when it has one,
     * else the proxy object itself, so asking for a nested container again reuses its id.
     */
    private static Object identity(Object container) {
        return ContainerIdentity.of(container);
    }

    static int kindOf(Object v) {
        return switch (v) {
            case Namespace ns -> KIND_NAMESPACE;
            case SharedValueProxy<?> sv -> KIND_VALUE;
            case List<?> l -> KIND_LIST;
            case Set<?> s -> KIND_SET;
            case Map<?, ?> m -> KIND_DICT;
            case null, default -> 0;
        };
    }
}
