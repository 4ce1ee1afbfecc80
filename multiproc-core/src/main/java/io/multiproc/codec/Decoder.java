package io.multiproc.codec;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import static io.multiproc.codec.WireFormat.*;

/**
 * One decode call of a value that holds other values. Every length and count is checked against the
 * bytes left before anything is allocated, nesting against the depth limit, and every class named
 * against the allow-list before it is used. Shared objects attached along the way are closed again if
 * the decode fails later, so a garbled item never keeps a segment alive.
 *
 * <p>Used by one thread for one call.
 */
final class Decoder extends ClassTable {
    private static final int PRESIZE_LIMIT = 1 << 16;
    private final BuiltinCodec codec;
    private final ByteSource in;
    /** {@code in.remaining()} when the value started. */
    private final long start;
    /** The value may read until {@code in.remaining()} is down to this (the maxBytes limit). */
    private final long floor;
    private List<AutoCloseable> attached;
    /** Lists, sets, maps and records read so far: each counts as {@link WireFormat#CONTAINER_COST} more bytes. */
    private long containers;

    Decoder(BuiltinCodec codec, ByteSource in, long start, long floor) {
        this.codec = codec;
        this.in = in;
        this.start = start;
        this.floor = floor;
    }

    /** The whole value, whose tag was read; on failure, closes what it attached. */
    Object readTop(int tag) {
        try {
            Object v = readComposite(tag, 1);
            long used = start - in.remaining();
            if (used + containers * CONTAINER_COST > codec.maxBytes) {
                throw Failures.tooBig(used, containers, codec.maxBytes);
            }
            return v;
        } catch (RuntimeException | Error e) {
            closeAttached(e);
            throw e;
        }
    }

    private Object read(int depth) {
        int tag = in.readByte() & 0xFF;
        Object v = Scalars.read(in, tag, floor);
        return v != Scalars.NOT_SCALAR ? v : readComposite(tag, depth);
    }

    private Object readComposite(int tag, int depth) {
        if (depth > codec.maxDepth) {
            throw Failures.tooDeep(depth, codec.maxDepth);
        }
        if (tag == LIST || tag == SET || tag == MAP || tag == RECORD || tag == OPTIONAL || tag == ENTRY
                || tag == OPTIONAL_PRIMITIVE) {
            countContainer();
        }
        return switch (tag) {
            case LIST -> {
                int n = count(1);
                yield readElements(new ArrayList<>(presize(n)), n, depth);
            }
            case SET -> {
                int n = count(1);
                Collection<Object> set = readElements(LinkedHashSet.newLinkedHashSet(presize(n)), n, depth);
                if (set.size() != n) {
                    throw Failures.merged("set", n, "elements", set.size());
                }
                yield set;
            }
            case MAP -> readMap(depth);
            case ENUM -> readEnum();
            case RECORD -> readRecord(readClassRef(RECORD), depth);
            case HANDLE -> readHandle(depth);
            case PATH -> readPath();
            case OPTIONAL -> java.util.Optional.ofNullable(read(depth + 1));
            case OPTIONAL_PRIMITIVE -> readOptionalPrimitive(depth);
            case ENTRY -> {
                Object k = read(depth + 1);
                yield new java.util.AbstractMap.SimpleImmutableEntry<>(k, read(depth + 1));
            }
            case SERIALIZED -> readSerialized(depth);
            default -> throw Failures.unknownTag(tag);
        };
    }

    /** Fails once the bytes read and the containers made exceed maxBytes, before this one is made. */
    private void countContainer() {
        long used = start - in.remaining();
        if (used + ++containers * CONTAINER_COST > codec.maxBytes) {
            throw Failures.tooBig(used, containers, codec.maxBytes);
        }
    }

    /**
     * A collection's initial capacity: its count, up to a bound, so that a count the input does not back
     * with elements cannot make a hash table several times the input's size; larger ones grow.
     */
    private static int presize(int n) {
        return Math.min(n, PRESIZE_LIMIT);
    }

    /** A count of items that take at least {@code minBytes} each, checked against the bytes left. */
    private int count(int minBytes) {
        return Varints.readLength(in, in.remaining() - floor, minBytes);
    }

    private Collection<Object> readElements(Collection<Object> into, int n, int depth) {
        for (int i = 0; i < n; i++) {
            into.add(read(depth + 1));
        }
        return into;
    }

    private Map<Object, Object> readMap(int depth) {
        int n = count(2);
        Map<Object, Object> m = LinkedHashMap.newLinkedHashMap(presize(n));
        for (int i = 0; i < n; i++) {
            Object k = read(depth + 1);
            m.put(k, read(depth + 1));
        }
        if (m.size() != n) {
            throw Failures.merged("map", n, "entries", m.size());
        }
        return m;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Object readEnum() {
        Class<?> type = readClassRef(ENUM);
        if (!type.isEnum()) {
            throw Failures.malformed("class=" + type.getName() + " under an enum tag is not an enum");
        }
        String name = Scalars.readStringBody(in, floor);
        try {
            return Enum.valueOf((Class) type, name);
        } catch (IllegalArgumentException e) {
            throw Failures.malformed("enum=" + type.getName() + " has no constant name=" + name);
        } catch (LinkageError e) { // the first use initializes the enum class here
            throw Failures.undecodable(type, "its class cannot be initialized: " + e, e);
        }
    }

    private Object readRecord(Class<?> type, int depth) {
        RecordType rt = TypeInfo.of(type).record; // NOTE: not Class.isRecord(), a slow native call
        if (rt == null) {
            throw Failures.malformed("class=" + type.getName() + " under a record tag is not a record");
        }
        if (rt.inaccessible != null) {
            throw Failures.undecodable(type, rt.inaccessible, null);
        }
        Object[] args = new Object[rt.size()];
        for (int i = 0; i < args.length; i++) {
            args[i] = readComponent(rt, i, depth);
        }
        try {
            return (Object) rt.constructor.invokeExact(args);
        } catch (Error e) {
            throw e;
        } catch (Throwable e) {
            throw Failures.undecodable(type, "its constructor refused the decoded components: " + e, e);
        }
    }

    private Object readComponent(RecordType rt, int i, int depth) {
        return switch (rt.kinds[i]) {
            case RecordType.REF -> {
                Object v = read(depth + 1);
                if (v != null && !rt.types[i].isInstance(v) && rt.copiers[i] != null) {
                    // a decoded collection into the declared ConcurrentHashMap, ...; null: not a collection of that shape
                    Object copy = rt.copiers[i].apply(v);
                    v = copy != null ? copy : v;
                }
                if (v != null && !rt.types[i].isInstance(v)) {
                    throw Failures.malformed("component=" + rt.names[i] + " of record=" + rt.type.getName()
                            + " has type=" + rt.types[i].getName() + ", the input holds class=" + v.getClass().getName());
                }
                yield v;
            }
            case RecordType.INT -> Varints.readZigzagInt(in);
            case RecordType.LONG -> Varints.readZigzagLong(in);
            case RecordType.DOUBLE -> in.readDouble();
            case RecordType.BOOLEAN -> readBoolean();
            case RecordType.FLOAT -> in.readFloat();
            case RecordType.BYTE -> in.readByte();
            case RecordType.SHORT -> in.readShort();
            default -> (char) in.readShort();
        };
    }

    private boolean readBoolean() {
        int b = in.readByte();
        if ((b & ~1) != 0) {
            throw Failures.malformed("boolean=" + b + " is neither 0 nor 1");
        }
        return b == 1;
    }

    /** An OptionalInt, OptionalLong or OptionalDouble: a kind byte, then null or a value of that type. */
    private Object readOptionalPrimitive(int depth) {
        int kind = in.readByte();
        Object v = read(depth + 1);
        Object o = switch (kind) {
            case 0 -> v == null ? java.util.OptionalInt.empty()
                    : v instanceof Integer i ? java.util.OptionalInt.of(i) : null;
            case 1 -> v == null ? java.util.OptionalLong.empty()
                    : v instanceof Long l ? java.util.OptionalLong.of(l) : null;
            case 2 -> v == null ? java.util.OptionalDouble.empty()
                    : v instanceof Double d ? java.util.OptionalDouble.of(d) : null;
            default -> throw Failures.malformed("kind=" + kind + " of a primitive Optional is none of 0, 1, 2");
        };
        if (o == null) {
            throw Failures.malformed("a " + v.getClass().getName() + " in a primitive Optional of kind=" + kind);
        }
        return o;
    }

    private java.nio.file.Path readPath() {
        int tag = in.readByte() & 0xFF;
        if (!(Scalars.read(in, tag, floor) instanceof String s)) {
            throw Failures.malformed("tag=" + tag + " after a Path tag is not a String");
        }
        try {
            return java.nio.file.Path.of(s);
        } catch (java.nio.file.InvalidPathException e) {
            throw Failures.malformed("path=" + s + " is not a path here: " + e.getMessage());
        }
    }

    private Object readHandle(int depth) {
        Class<?> type = readClassRef(HANDLE);
        if (!codec.allowList.sharedObjects) {
            // NOTE: checked here too: a well-known class (index, no name) skips the allow-list lookup
            throw Failures.sharedObjectRefused(type);
        }
        if (!SharedHandle.class.isAssignableFrom(type) || TypeInfo.of(type).record == null) {
            throw Failures.malformed("class=" + type.getName() + " under a handle tag is not a SharedHandle record");
        }
        Object handle = readRecord(type, depth);
        RecordType rt = RecordType.of(type);
        if (rt.readResolve == null) {
            throw Failures.undecodable(type, "a SharedHandle record must declare readResolve()", null);
        }
        Object shared;
        try {
            shared = (Object) rt.readResolve.invokeExact(handle);
        } catch (Error e) {
            throw e;
        } catch (Throwable e) {
            throw Failures.undecodable(type, "cannot attach the shared object of " + handle + ": " + e.getMessage(), e);
        }
        if (shared instanceof AutoCloseable c) {
            attached(c);
        }
        return shared;
    }

    /**
     * A shared object this decoding attached: closed again if the decoding fails, and told to a holder
     * that collects what its decodes attach ({@link io.multiproc.internal.InFlight#beginCollect()}).
     */
    private void attached(AutoCloseable c) {
        if (attached == null) {
            attached = new ArrayList<>(2);
        }
        attached.add(c);
        io.multiproc.internal.InFlight.noteAttached(c);
    }

    private Object readSerialized(int depth) {
        byte[] bytes = new byte[count(1)];
        in.readFully(bytes, 0, bytes.length);
        return JavaSerialization.decode(bytes, codec.allowList, codec.maxDepth - depth + 1, codec.classLoader(), this::attached);
    }

    /** A class ref (see {@link WireFormat}): a well-known class, one this value named before, or a new name. */
    private Class<?> readClassRef(int tag) {
        int k = Varints.readUnsignedInt(in);
        if (k == NEW_CLASS) {
            return readNewClass(tag);
        }
        int i = k - 1;
        if (i >= 0 && i < KnownClasses.COUNT) {
            return KnownClasses.get(i);
        }
        Class<?> named = classAt(i - KnownClasses.COUNT);
        if (named != null) {
            return named;
        }
        throw Failures.malformed("class ref=" + Integer.toUnsignedString(k) + " names no class");
    }

    private Class<?> readNewClass(int tag) {
        int n = count(1);
        if (n == 0 || n > MAX_CLASS_NAME) {
            throw Failures.malformed("class name length=" + n);
        }
        Class<?> type = codec.readClass(in, n);
        if (tag != ENUM) {
            int components = Varints.readUnsignedInt(in);
            RecordType rt = TypeInfo.of(type).record;
            if (rt != null && rt.inaccessible != null) {
                throw Failures.undecodable(type, rt.inaccessible, null); // before its count: it may not know it
            }
            int here = rt != null ? rt.size() : -1;
            if (components != here) {
                throw Failures.componentCountDiffers(type, here, components);
            }
        }
        add(type);
        return type;
    }

    private void closeAttached(Throwable failure) {
        if (attached == null) {
            return;
        }
        for (AutoCloseable c : attached) {
            try {
                c.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
        attached = null;
    }
}
